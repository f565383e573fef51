"""IFileWatcher with inotify on a file's folder: a pidfile appears or changes, no polling."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from supervise.process.interfaces import IFileWatcher


@implementer(IFileWatcher)
class InotifyFiles:
    """Watches files through the reactor's inotify support."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    def watch(self, path: str, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_change`` when ``path`` is created, written, moved in or changed."""
        from twisted.internet import inotify
        from twisted.python.filepath import FilePath

        notifier = inotify.INotify(self.reactor)
        notifier.startReading()
        target = os.path.basename(path)
        mask = inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO | inotify.IN_CREATE | inotify.IN_MODIFY

        def changed(_: object, filepath: Any, event_mask: int) -> None:
            name = filepath.basename()  # bytes: INotify reports paths as bytes
            if (name.decode() if isinstance(name, bytes) else name) == target:
                on_change()

        try:
            notifier.watch(FilePath(os.path.dirname(path) or "."), mask=mask, callbacks=[changed])
        except OSError:
            pass  # the folder does not exist (yet): the deadline decides
        return notifier.loseConnection  # type: ignore[no-any-return]
