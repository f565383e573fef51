"""The ``supervisor.*`` namespace: supervisord 4.3.0's XML-RPC API, one object per family.

Each family checks arguments, calls ``ISupervisorControl`` (or ``IDaemonControl``) and
answers supervisord's structs; all are registered under the one ``supervisor`` prefix
(``supervisor_methods``). Method docstrings are user documentation: ``system.methodHelp``
serves them.

- ``DaemonNamespace``: versions, state, pid, main log, shutdown, restart, configuration
- ``ProcessControlNamespace``: start, stop and signal processes, groups, all
- ``ProcessInfoNamespace``: process and config info, process logs
- ``CommunicationNamespace``: a process's stdin, remote communication events
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supervise.interfaces import IDaemonControl, ISupervisorControl
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.registry import methods_of_all
from supervise.rpc.supervisor_ns.communication import CommunicationNamespace
from supervise.rpc.supervisor_ns.daemon import DaemonNamespace
from supervise.rpc.supervisor_ns.process_control import ProcessControlNamespace
from supervise.rpc.supervisor_ns.process_info import ProcessInfoNamespace
from supervise.states import SupervisorState

__all__ = [
    "CommunicationNamespace",
    "DaemonNamespace",
    "ProcessControlNamespace",
    "ProcessInfoNamespace",
    "state_check",
    "supervisor_families",
    "supervisor_methods",
]


def supervisor_families(
    control: ISupervisorControl, daemon: IDaemonControl, wall_clock: Callable[[], float]
) -> list[object]:
    """One object per family of ``supervisor.*`` methods.

    :param wall_clock: the time shown to users (process info's ``now``), in seconds.
    """
    return [
        DaemonNamespace(control, daemon),
        ProcessControlNamespace(control),
        ProcessInfoNamespace(control, wall_clock),
        CommunicationNamespace(control),
    ]


def supervisor_methods(
    control: ISupervisorControl, daemon: IDaemonControl, wall_clock: Callable[[], float]
) -> dict[str, Callable[..., Any]]:
    """Every ``supervisor.*`` method as ``{"supervisor.name": bound method}``."""
    return methods_of_all("supervisor", supervisor_families(control, daemon, wall_clock))


def state_check(control: ISupervisorControl) -> Callable[[str], None]:
    """The check run before each ``supervisor.*`` call (given the name after the dot)."""

    def check_state(method: str) -> None:
        """Refuse every call but sendRemoteCommEvent while shutting down."""
        if (
            method != "sendRemoteCommEvent"
            and control.supervisor_state() is not SupervisorState.RUNNING
        ):
            raise RPCError(faults.SHUTDOWN_STATE)

    return check_state
