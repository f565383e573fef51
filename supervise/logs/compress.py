"""Gzip a rotated log's backups away from the reactor (``*_logfile_compress``).

At rotation the log is renamed to ``<log>.rotating-<ns>`` (in the reactor: one rename)
and a job is queued on a thread. A job takes every such file, oldest first, shifts
``.1.gz`` … ``.N-1.gz`` up by one (the oldest beyond ``N`` is overwritten) and gzips the
file to ``.1.gz``; jobs of one log hold one lock, so each backup is written once and in
order, and a file left by a daemon that stopped mid-way is taken by the next job.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from twisted.logger import Logger

log = Logger(namespace="supervise.logs")

PENDING = ".rotating-"

#: Runs a job somewhere that does not block the reactor.
Runner = Callable[[Callable[[], None]], None]

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_of(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def set_aside(path: str) -> str:
    """Rename the full log ``path`` to a pending name; return that name."""
    pending = f"{path}{PENDING}{time.time_ns():020d}"
    os.replace(path, pending)
    return pending


def pending_files(path: str) -> list[str]:
    """The logs of ``path`` set aside and not compressed yet, oldest first."""
    folder, base = os.path.split(path)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    prefix = base + PENDING
    return sorted(os.path.join(folder, n) for n in names if n.startswith(prefix))


def compress_pending(path: str, backups: int) -> None:
    """Turn every pending file of ``path`` into ``.1.gz``, shifting older backups."""
    import gzip  # only daemons with compressed logs load it
    import shutil

    with _lock_of(path):
        for pending in pending_files(path):
            for index in range(backups - 1, 0, -1):
                source = f"{path}.{index}.gz"
                if os.path.exists(source):
                    os.replace(source, f"{path}.{index + 1}.gz")
            partial = f"{path}.1.gz.partial"
            with open(pending, "rb") as source_file, gzip.open(partial, "wb") as target:
                shutil.copyfileobj(source_file, target, 1 << 20)
            os.replace(partial, f"{path}.1.gz")
            os.remove(pending)


def in_thread(job: Callable[[], None]) -> None:
    """Run ``job`` in the reactor's thread pool; a failure is logged in the reactor."""
    from twisted.internet.threads import deferToThread

    deferToThread(job).addErrback(
        lambda failure: log.error(
            "compressing a rotated log failed: {problem}; it is retried at the next rotation",
            problem=failure.getErrorMessage(),
        )
    )
