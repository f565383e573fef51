"""The one error of start-up."""

from __future__ import annotations

import os


class StartupError(Exception):
    """The daemon cannot start; the message says why (``Error: …``, exit status 2)."""


def error_text(problem: object, argv0: str) -> str:
    """``Error: …`` on one line, then — from the ``supervise`` command, as supervisord
    does — ``For help, use supervise -h``; under ``twistd`` no pointer at twistd's help,
    which says nothing about the problem."""
    prog = os.path.basename(argv0) or "supervise"
    text = f"Error: {problem}\n"
    if prog.startswith("supervise"):
        text += f"For help, use {prog} -h\n"
    return text
