"""Reading log files the way supervisord's API does, with its errors.

The one place outside the writers that opens a log file: ``SupervisorControl`` reads
process logs with it, the XML-RPC namespace the main log, the console and cluster
streams start from ``last_bytes``.
"""

from __future__ import annotations

import os

from supervise.errors import BadArguments, Failed, NoFile
from supervise.logs import rotating

#: What a log stream sends first: ``tail -f`` shows the last 1024 bytes (SUPERVISOR.md §5.6).
INITIAL_BYTES = 1024


def last_bytes(path: str | None, count: int = INITIAL_BYTES) -> bytes:
    """The last ``count`` bytes of the file (empty when there is none or it is unreadable)."""
    if path is None:
        return b""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - count))
            return handle.read()
    except OSError:
        return b""


def log_exists(path: str | None) -> bool:
    """True when ``path`` names an existing file (None: logging to syslog)."""
    return path is not None and os.path.exists(path)


def check_slice(offset: int, length: int) -> None:
    """``BadArguments`` for a negative offset with a length, or a negative length."""
    if (offset < 0 and length != 0) or length < 0:
        raise BadArguments()


def read_log_file(path: str | None, offset: int, length: int) -> bytes:
    """``readLog``'s slice of ``path`` (SUPERVISOR.md §6.3).

    ``BadArguments`` for bad offsets, ``NoFile`` (detail: the path; none when there is
    no path, supervisord's bare ``NO_FILE``) when the file does not exist, bare
    ``Failed`` when it cannot be read.
    """
    check_slice(offset, length)
    if path is None or not log_exists(path):
        raise NoFile(path)
    try:
        return rotating.read_slice(path, offset, length)
    except OSError:
        raise Failed() from None


def tail_log_file(path: str | None, offset: int, length: int) -> tuple[bytes, int, bool]:
    """``tailProcessStdoutLog``'s ``(data, new offset, overflow)``; no file is
    ``(b"", offset, False)``, as supervisord answers."""
    if path is None:
        return b"", offset, False
    return rotating.tail(path, offset, length)
