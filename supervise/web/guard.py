"""Moved to ``supervise.http.csrf``; kept only until ``service.py`` imports it from
there. Delete then."""

from supervise.http.csrf import new_token

__all__ = ["new_token"]
