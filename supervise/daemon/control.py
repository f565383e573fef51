"""DaemonControl: what the RPC namespaces, ``[rpcinterface:x]`` factories, the web
console and signals may ask of the daemon itself (not of its programs)."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger
from zope.interface import implementer

from supervise import __version__
from supervise.daemon.core import CoreService
from supervise.daemon.mainlog import MainLogService, main_log_path
from supervise.daemon.runtime import Runtime
from supervise.errors import CantReread
from supervise.interfaces import IDaemonControl

log = Logger(namespace="supervise.service")

Job = Callable[[], Coroutine[Any, Any, None]]


@implementer(IDaemonControl)
class DaemonControl:
    """The daemon's own commands (supervisor_ns.Daemon and more).

    :param restart: reloads the configuration (SIGHUP, ``supervisor.restart``).
    :param reexec: replaces the daemon with a fresh copy (SIGUSR1, ``supervise.reexec``).
    :param cluster_status: this node's cluster status, None outside cluster mode.
    """

    def __init__(
        self,
        runtime: Runtime,
        mainlog: MainLogService,
        core: CoreService,
        restart: Job,
        reexec: Job,
        cluster_status: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> None:
        self.runtime = runtime
        self.mainlog = mainlog
        self.core = core
        self._restart = restart
        self._reexec = reexec
        self.cluster_status = cluster_status

    @property
    def stopping(self) -> bool:
        """True once a shutdown or re-exec has begun."""
        return self.runtime.stopping

    def pid(self) -> int:
        """The daemon's pid."""
        return os.getpid()

    def identifier(self) -> str:
        """The configured identifier."""
        return self.runtime.model.supervisord.identifier

    def main_log_path(self) -> str | None:
        """The main log file (None for syslog)."""
        return main_log_path(self.runtime.model)

    def followers(self) -> list[Callable[[bytes], None]] | None:
        """Who follows the main log live."""
        return self.mainlog.followers()

    def clear_main_log(self) -> None:
        """Delete and reopen the main log file."""
        self.mainlog.clear()

    def request_shutdown(self) -> None:
        """Stop everything and exit, after the current reply is sent."""
        if self.runtime.stopping:
            return
        self.runtime.stopping = True
        reactor = self.runtime.reactor
        reactor.callLater(0, reactor.stop)

    def request_restart(self) -> None:
        """Reload after the current reply is sent (not once a shutdown has begun).

        :raises CantReread: the configuration does not load; the daemon keeps running
            the one it has (the reload is refused, and the main log says why).
        """
        if self.runtime.stopping:
            return
        try:
            self.core.read_config()
        except ValueError as problem:
            log.error(
                "restart refused, keeping the running configuration: {problem}",
                problem=str(problem),
            )
            raise CantReread(str(problem)) from None
        self.runtime.reactor.callLater(0, lambda: ensureDeferred(self._restart()))

    def request_reexec(self) -> None:
        """Replace this daemon with a fresh copy of itself, keeping every program."""
        if self.runtime.stopping:
            return
        self.runtime.stopping = True
        self.runtime.reactor.callLater(0, lambda: ensureDeferred(self._reexec()))

    def reopen_logs(self) -> None:
        """Reopen the main log and every child log (SIGUSR2)."""
        self.mainlog.reopen()
        log.info("supervisord logreopen")
        for program in self.core.programs():
            program.stdout.reopen()
            program.stderr.reopen()

    def daemon_info(self) -> dict[str, Any]:
        """Who this daemon is, for the console's header."""
        supervisor = self.core.supervisor
        return {
            "identification": self.identifier(),
            "version": __version__,
            "state": supervisor.state.name if supervisor is not None else "RUNNING",
            "pid": os.getpid(),
            "cluster": self.cluster_status(),
        }
