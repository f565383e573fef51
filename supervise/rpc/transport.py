"""Moved to ``supervise.http.servers``; kept only until the assembly (``service.py``,
``console_tap.py``) imports it from there. Delete then."""

from supervise.http.servers import ServerStartError, listen

__all__ = ["ServerStartError", "listen"]
