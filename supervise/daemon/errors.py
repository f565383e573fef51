"""The one error of start-up."""

from __future__ import annotations


class StartupError(Exception):
    """The daemon cannot start; the message says why (``Error: …``, exit status 2)."""
