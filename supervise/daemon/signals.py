"""Signals, as supervisord reads them: one table row per signal, the line it logs and
what the daemon does; SIGCHLD reaps orphans and adopted daemons."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from attrs import frozen
from twisted.application.service import Service
from twisted.logger import Logger, LogLevel

from supervise.daemon.control import DaemonControl
from supervise.errors import CantReread
from supervise.process.linux.reaper import Reaper

log = Logger(namespace="supervise.service")


@frozen
class SignalRow:
    """What one signal means: the daemon's action, the line logged, and its level."""

    action: Callable[[DaemonControl], None]
    line: str
    level: LogLevel = LogLevel.warn
    refused_while_stopping: str | None = None


def _restart(control: DaemonControl) -> None:
    """SIGHUP: reload; a configuration that does not load is refused (already logged)."""
    try:
        control.request_restart()
    except CantReread:
        pass


SIGNALS: dict[signal.Signals, SignalRow] = {
    signal.SIGTERM: SignalRow(DaemonControl.request_shutdown, "indicating exit request"),
    signal.SIGINT: SignalRow(DaemonControl.request_shutdown, "indicating exit request"),
    signal.SIGQUIT: SignalRow(DaemonControl.request_shutdown, "indicating exit request"),
    signal.SIGHUP: SignalRow(
        _restart,
        "indicating restart request",
        refused_while_stopping="indicating restart request (shutdown in progress)",
    ),
    signal.SIGUSR2: SignalRow(
        DaemonControl.reopen_logs, "indicating log reopen request", LogLevel.info
    ),
    signal.SIGUSR1: SignalRow(DaemonControl.request_reexec, "indicating re-exec request"),
}


def handle(control: DaemonControl, number: signal.Signals) -> None:
    """Log the signal's line and act on it, as the table says."""
    row = SIGNALS[number]
    if control.stopping and row.refused_while_stopping is not None:
        log.warn("ignored {name} {line}", name=number.name, line=row.refused_while_stopping)
        return
    log.emit(row.level, "received {name} {line}", name=number.name, line=row.line)
    row.action(control)


class SignalService(Service):
    """Installs the handlers, and again right after the reactor installs its own (for
    SIGINT, SIGTERM and SIGCHLD) as it starts. They stay until the process ends.

    The reactor's own SIGINT/SIGTERM handlers (``sigInt``/``sigTerm``) are pointed at
    ours too: CPython runs a pending signal's handler when the next handler is
    installed, so a SIGTERM arriving as the reactor starts would otherwise reach the
    reactor's, ending the daemon with no line in the log and (twistd re-raising the
    signal) exit status -15 instead of 0.
    """

    def __init__(self, control: DaemonControl, reactor: Any, reaper: Reaper) -> None:
        self.control = control
        self.reactor = reactor
        self.reaper = reaper

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        self.reactor.sigInt = self.reactor.sigTerm = self._handler
        self.install()
        if not self.reactor.running:
            # Registered after the reactor's own trigger, so it runs right after it.
            self.reactor.addSystemEventTrigger("during", "startup", self.install)

    def install(self) -> None:
        """Install every handler of the table, and SIGCHLD's."""
        for number in SIGNALS:
            signal.signal(number, self._handler)
        # SIGCHLD: reap orphans (we are their subreaper) and adopted daemons. Twisted's
        # own wake-up (set_wakeup_fd) still reaps the processes Twisted spawned.
        signal.signal(signal.SIGCHLD, lambda signum, frame: self.reactor.callFromThread(self.reap))
        signal.siginterrupt(signal.SIGCHLD, False)
        self.reaper.active = True
        # A child may have exited while another handler was installed: look now.
        self.reap()

    def _handler(self, signum: int, frame: Any) -> None:
        self.reactor.callFromThread(handle, self.control, signal.Signals(signum))

    def reap(self) -> None:
        """Reap a bounded batch of exits; the rest on the next reactor turn."""
        if self.reaper.reap():
            self.reactor.callLater(0, self.reap)
