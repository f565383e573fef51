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
from twisted.python.failure import Failure

from supervise import __version__
from supervise.interfaces import IDaemonControl, ISupervisorControl
from supervise.results import WaitTimedOut
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import process_info
from supervise.rpc.registry import rpc_method
from supervise.states import ProcessState


@define(eq=False)
class SuperviseNamespace:
    """``supervise.getVersion``, ``supervise.getAllProcessInfo``, ``supervise.waitForState``."""

    control: ISupervisorControl
    clock: IReactorTime
    wall_clock: Callable[[], float]
    daemon: IDaemonControl | None = None

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
        for snapshot in self.control.snapshots():
            info = process_info(snapshot, now)
            extras = self.control.process_config(snapshot.namespec).extras
            info.update(
                namespec=snapshot.namespec,
                spawns=snapshot.spawns,
                ready=extras.ready or "",
                healthcheck=extras.healthcheck or "",
                health_failures=snapshot.health_failures,
                notify_status=snapshot.notify_status,
                depends_on=list(extras.depends_on),
                pidfile=extras.pidfile or "",
                cgroup=snapshot.cgroup,
                adopted=snapshot.adopted,
                log_dropped=snapshot.log_dropped,
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
        namespecs = [n for name in names for n in self.control.resolve(name).namespecs]

        def timed_out(failure: Failure) -> list[str]:
            failure.trap(WaitTimedOut)
            assert isinstance(failure.value, WaitTimedOut)
            return list(failure.value.missing)

        return (
            self.control.when(namespecs, lambda s: s.state is state, max(0, timeout))
            .addCallback(lambda _: [])
            .addErrback(timed_out)
        )
