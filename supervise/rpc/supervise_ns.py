"""The ``supervise.*`` namespace: our extras beyond supervisord's API.

Nothing here changes supervisord's own methods or structs; clients that do not know
this namespace never see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from supervise import __version__
from supervise.control import SupervisorControl
from supervise.process.program import Program
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import process_info
from supervise.rpc.registry import rpc_method
from supervise.states import ProcessState


@define(eq=False)
class SuperviseNamespace:
    """``supervise.getVersion``, ``supervise.getAllProcessInfo``, ``supervise.waitForState``."""

    control: SupervisorControl
    clock: IReactorTime
    wall_clock: Callable[[], float]
    daemon: Any = None

    @rpc_method("reexec", signature=("boolean",))
    def reexec(self) -> bool:
        """Replace the daemon with a fresh copy of itself (same pid), keeping every
        program running with its pipes, state, uptime and logs: zero restarts.

        @return boolean result  True; the daemon re-executes right after answering
        """
        if self.daemon is None:
            raise RPCError(faults.FAILED, "re-exec is not available")
        self.daemon.request_reexec()
        return True

    @rpc_method("getVersion", signature=("string",))
    def get_version(self) -> str:
        """Return the version of supervise itself (supervisor.getSupervisorVersion says 4.3.0).

        @return string version
        """
        return __version__

    @rpc_method("getAllProcessInfo", signature=("array",))
    def get_all_process_info(self) -> list[dict[str, Any]]:
        """Like supervisor.getAllProcessInfo, plus supervise's own keys: ``namespec``,
        ``spawns`` (starts so far), ``ready``, ``healthcheck``, ``health_failures``,
        ``notify_status`` (the last sd_notify STATUS=), ``depends_on``, ``pidfile``, ``cgroup``,
        ``adopted``, ``log_dropped`` (output bytes lost while the log could not be written).

        @return array result  An array of process structs
        """
        now = self.wall_clock()
        infos = []
        for program in self.control.sorted_processes():
            info = process_info(program.snapshot(), now)
            extras = program.config.extras
            info.update(
                namespec=program.namespec,
                spawns=program.spawns,
                ready=extras.ready or "",
                healthcheck=extras.healthcheck or "",
                health_failures=program.health_failures,
                notify_status=program.snapshot().notify_status,
                depends_on=list(extras.depends_on),
                pidfile=extras.pidfile or "",
                cgroup=program.snapshot().cgroup,
                adopted=program.external,
                log_dropped=program.stdout.dropped_total + program.stderr.dropped_total,
            )
            infos.append(info)
        return infos

    @rpc_method("waitForState", signature=("array", "array", "string", "int"))
    def wait_for_state(self, names: list[str], statename: str, timeout: int) -> Deferred[list[str]]:
        """Wait until every named process is in ``statename``, or ``timeout`` seconds pass.

        Names are namespecs (``group:*`` included). The answer comes when the last one
        gets there, with no polling: the list of names that did not (empty on success).

        @param array names       namespecs to wait for
        @param string statename  e.g. RUNNING or STOPPED
        @param int timeout       seconds to wait at most
        @return array result     names not in the state when the wait ended
        """
        try:
            state = ProcessState[statename.upper()]
        except KeyError:
            raise RPCError(faults.BAD_ARGUMENTS, f"unknown state {statename}") from None
        programs: list[Program] = []
        for name in names:
            target = self.control.targets(name)
            programs.extend(target[1] if isinstance(target, tuple) else [target])
        done: Deferred[list[str]] = Deferred()

        def missing() -> list[str]:
            return [p.namespec for p in programs if p.state is not state]

        def check(_: ProcessState) -> bool:
            if done.called:
                return True
            if not missing():
                timer.cancel()
                done.callback([])
                return True
            return False

        def expire() -> None:
            if not done.called:
                done.callback(missing())

        if not missing():
            done.callback([])
            return done
        timer = self.clock.callLater(max(0, timeout), expire)
        for program in programs:
            program.watch(check)
        return done
