"""The daemon's top service: starts its children in order, stops them one after the
other in reverse order, and turns a StartupError into supervisord's ``Error:`` exit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from twisted.application.service import IService, MultiService
from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred
from twisted.logger import Logger

from supervise.daemon.errors import StartupError
from supervise.options import DaemonOptions

log = Logger(namespace="supervise.service")


def report_startup_error(options: DaemonOptions, problem: StartupError) -> NoReturn:
    """Say why, where the user looks, and exit 2 (supervisord's status).

    In the foreground that is stderr; once twistd has daemonized, stderr is /dev/null
    and the launching parent waits on twistd's status pipe, so the reason goes there
    (the parent prints it and exits non-zero).
    """
    log.critical("{problem}", problem=str(problem))
    prog = os.path.basename(sys.argv[0]) or "supervise"
    stderr = sys.__stderr__ or sys.stderr
    try:
        stderr.write(f"Error: {problem}\nFor help, use {prog} -h\n")
        stderr.flush()
    except (OSError, ValueError):
        pass
    pipe = options.twistd_option("statusPipe")
    if isinstance(pipe, int):
        try:
            os.write(pipe, f"1 {problem}".encode("ascii", "backslashreplace")[:100])
            os.close(pipe)
        except OSError:
            pass
        options.twistd["statusPipe"] = None
    raise SystemExit(2)


class DaemonService(MultiService):
    """The daemon: its children are its parts, in start order."""

    def __init__(self, on_startup_error: Callable[[StartupError], NoReturn]) -> None:
        super().__init__()
        self.on_startup_error = on_startup_error

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        self.running = 1
        started: list[IService] = []
        try:
            for service in self:
                service.startService()
                started.append(service)
        except StartupError as problem:
            # Undo what did start (nothing runs yet: no program was spawned).
            for service in reversed(started):
                try:
                    service.stopService()
                except Exception:
                    log.failure("while undoing a failed start")
            self.running = 0
            self.on_startup_error(problem)

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        self.running = 0
        return ensureDeferred(self._stop_in_turn(list(self)))

    async def _stop_in_turn(self, services: list[Any]) -> None:
        for service in reversed(services):
            if not service.running:
                continue
            try:
                await maybeDeferred(service.stopService)
            except Exception:
                log.failure("{service} failed to stop", service=type(service).__name__)
