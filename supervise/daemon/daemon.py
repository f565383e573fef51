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

from supervise.daemon.errors import StartupError, error_text
from supervise.options import DaemonOptions

log = Logger(namespace="supervise.service")


def report_startup_error(options: DaemonOptions, problem: StartupError) -> NoReturn:
    """Say why, where the user looks, and exit 2 (supervisord's status).

    In the foreground that is stderr. Once twistd has daemonized, stderr is /dev/null:
    the message goes to the terminal's stderr copied before the fork, and a short note
    to twistd's status pipe, on which the launching parent waits (it exits 1).
    """
    log.critical("{problem}", problem=str(problem), startup_error=True)
    message = error_text(problem, sys.argv[0])
    pipe = options.twistd_option("statusPipe")
    if isinstance(pipe, int):
        if options.stderr_fd is not None:
            _write(options.stderr_fd, message.encode("utf-8", "replace"))
            note = "the daemon could not start (the reason is above)"
        else:
            note = str(problem)
        _write(pipe, f"1 {note}".encode("ascii", "backslashreplace")[:100])
        os.close(pipe)
        options.twistd["statusPipe"] = None
        _remove_own_pidfile(options.twistd_option("pidfile"))
    else:
        stderr = sys.__stderr__ or sys.stderr
        try:
            stderr.write(message)
            stderr.flush()
        except (OSError, ValueError):
            pass
    options.release_stderr()
    raise SystemExit(2)


def _write(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        pass


def _remove_own_pidfile(path: str | None) -> None:
    """twistd wrote its pidfile before the service started; it is ours to remove."""
    if not path:
        return
    try:
        with open(path) as handle:
            if handle.read().strip() == str(os.getpid()):
                os.unlink(path)
    except OSError:
        pass


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
            # Undo what did start (no program was spawned yet).
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
