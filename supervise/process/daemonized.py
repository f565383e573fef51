"""Programs that daemonize themselves: find the daemon's pid in its pidfile.

After the launcher exits 0, the pidfile must name a live process written since the
launch (an older file is stale). The file is watched with inotify on its directory —
no polling — up to a deadline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from attrs import define
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

log = Logger()


def read_pidfile(path: str, launched: float) -> int | None:
    """The live pid in ``path`` if the file was written at or after ``launched``, else None."""
    try:
        written = os.stat(path).st_mtime
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if written < launched - 1 or not text.split() or not text.split()[0].isdigit():
        return None
    pid = int(text.split()[0])
    if pid <= 1:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


@define(eq=False)
class PidfileWait:
    """Calls ``on_change`` whenever the pidfile's directory changes, until stopped or timed out."""

    notifier: Any
    timer: IDelayedCall

    @classmethod
    def start(
        cls,
        reactor: Any,
        path: str,
        timeout: float,
        on_change: Callable[[], bool],
        on_timeout: Callable[[], None],
    ) -> PidfileWait:
        """Watch ``path``'s directory; ``on_change`` returning True ends the wait."""
        from twisted.internet import inotify
        from twisted.python.filepath import FilePath

        notifier = inotify.INotify(reactor)
        notifier.startReading()
        timer = reactor.callLater(timeout, on_timeout)
        wait = cls(notifier, timer)
        target = os.path.basename(path)
        mask = inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO | inotify.IN_CREATE | inotify.IN_MODIFY

        def changed(_: object, filepath: Any, event_mask: int) -> None:
            name = filepath.basename()  # bytes: INotify reports paths as bytes
            if (name.decode() if isinstance(name, bytes) else name) == target:
                on_change()

        notifier.watch(FilePath(os.path.dirname(path) or "."), mask=mask, callbacks=[changed])
        return wait

    def stop(self) -> None:
        """Stop watching."""
        if self.timer.active():
            self.timer.cancel()
        self.notifier.loseConnection()
