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
from supervise.audit import AuditTrail
from supervise.interfaces import IDaemonControl, IResourceUsage, ISupervisorControl
from supervise.results import WaitTimedOut
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import capped_int, process_info
from supervise.rpc.registry import rpc_method
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState


@define(eq=False)
class SuperviseNamespace:
    """``supervise.getVersion``, ``supervise.getAllProcessInfo``, ``supervise.waitForState``."""

    control: ISupervisorControl
    clock: IReactorTime
    wall_clock: Callable[[], float]
    daemon: IDaemonControl | None = None
    audit: AuditTrail | None = None
    usage: IResourceUsage | None = None

    @rpc_method("getAuditTrail", signature=("array", "int"))
    def get_audit_trail(self, count: int) -> list[dict[str, Any]]:
        """The newest ``count`` actions this daemon recorded (kept in memory, the last
        1000; every one is also a line of the main log), oldest first.

        @param int count   how many at most
        @return array result  structs: time, node, who, where, door, action, targets, result
        """
        return self.audit.entries(count) if self.audit is not None else []

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
        ``adopted``, ``log_dropped`` (output bytes lost while the log could not be written),
        ``disabled``, ``schedule``, ``schedule_timezone``, ``next_run`` (epoch seconds of the
        next scheduled start, 0 if none), ``numprocs`` and ``numprocs_declared`` (the group's
        process count now and in its configuration); for a process measured by the last
        resource sample: ``cpu_percent`` (of one CPU, over the last interval), ``cpu_seconds``,
        ``rss_kib`` (resident memory of its whole tree) and ``tree_processes``.

        @return array result  An array of process structs
        """
        now = self.wall_clock()
        return [self._info(snapshot, now) for snapshot in self.control.snapshots()]

    @rpc_method("getProcessInfo", signature=("struct", "string"))
    def get_process_info(self, name: str) -> dict[str, Any]:
        """Like supervisor.getProcessInfo, plus the keys supervise.getAllProcessInfo adds.

        @param string name  the process name (or ``group:name``)
        @return struct result  A process struct
        """
        return self._info(self.control.snapshot(name), self.wall_clock())

    def _info(self, snapshot: ProcessSnapshot, now: float) -> dict[str, Any]:
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
            disabled=snapshot.disabled,
            schedule=extras.schedule or "",
            schedule_timezone=extras.schedule_timezone or "",
            next_run=capped_int(snapshot.next_run),
            numprocs=snapshot.numprocs,
            numprocs_declared=snapshot.numprocs_declared,
        )
        measured = self.usage.latest().get(snapshot.namespec) if self.usage is not None else None
        if measured is not None:
            info.update(
                cpu_percent=measured.cpu_percent,
                cpu_seconds=measured.cpu_seconds,
                rss_kib=measured.rss // 1024,
                tree_processes=measured.processes,
            )
        return info

    @rpc_method("scaleGroup", signature=("struct", "string", "int"))
    def scale_group(self, name: str, count: int) -> Deferred[dict[str, Any]]:
        """Run ``count`` processes of the ``[program:x]`` ``name`` (its ``process_name``
        needs ``%(process_num)``): new ones are added (and autostarted), the highest numbers
        are stopped and removed, the others are untouched. The count survives a re-exec
        and a reload until the file's ``numprocs`` is edited.

        @param string name   the program (group) name
        @param int count     processes wanted, 0 to 1000
        @return struct result  ``{group, count, previous, declared}`` once done
        """
        return self.control.scale(name, count).addCallback(
            lambda r: {
                "group": r.group,
                "count": r.count,
                "previous": r.previous,
                "declared": r.declared,
            }
        )

    @rpc_method("disableProcess", signature=("array", "string"))
    def disable_process(self, name: str) -> Deferred[list[str]]:
        """Disable processes (``name``, ``group:name`` or ``group:*``): stop them; nothing
        starts them (autostart, start, start all, a schedule, a reload) until enabled, across
        reloads and re-execs.

        @param string name  what to disable
        @return array result  the namespecs disabled, once all are stopped
        """
        return self.control.disable(name)

    @rpc_method("enableProcess", signature=("array", "string"))
    def enable_process(self, name: str) -> list[str]:
        """Enable disabled processes again (none is started).

        @param string name  what to enable
        @return array result  the namespecs enabled
        """
        return self.control.enable(name)

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
