"""``supervisor.*`` that act on processes: start, stop and signal one process, a group or
all of them.

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

from typing import Any

from attrs import define
from twisted.internet.defer import Deferred

from supervise.config.values import signal_number
from supervise.errors import BadSignal, SuperviseError
from supervise.interfaces import ISupervisorControl
from supervise.results import ProcessResult
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import result_structs
from supervise.rpc.registry import rpc_method
from supervise.snapshot import ProcessSnapshot
from supervise.states import SIGNALLABLE_STATES


@define(eq=False)
class ProcessControlNamespace:
    """supervisord 4.3.0's start, stop and signal methods."""

    control: ISupervisorControl

    def _group_form(self, name: str) -> str | None:
        """The group of a ``group:*`` name, None for a process name (BAD_NAME with the
        name as given when it designates nothing, as supervisord's lookup answers)."""
        target = self.control.resolve(name)
        return target.group if target.whole_group else None

    # -- start / stop --------------------------------------------------------------------

    @rpc_method("startProcess", signature=("boolean", "string", "boolean"))
    def start_process(self, name: str, wait: bool = True) -> Deferred[Any] | bool:
        """Start a process

        @param string name Process name (or ``group:name``, or ``group:*``)
        @param boolean wait Wait for process to be fully started
        @return boolean result     Always true unless error
        """
        group = self._group_form(name)
        if group is not None:
            return self.start_process_group(group, wait)
        return self.control.start(name, wait)

    @rpc_method("startProcessGroup", signature=("array", "string", "boolean"))
    def start_process_group(self, name: str, wait: bool = True) -> Deferred[Any]:
        """Start all processes in the group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        """
        return self.control.start_group(name, wait).addCallback(result_structs)

    @rpc_method("startAllProcesses", signature=("array", "boolean"))
    def start_all_processes(self, wait: bool = True) -> Deferred[Any]:
        """Start all processes listed in the configuration file

        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        """
        return self.control.start_all(wait).addCallback(result_structs)

    @rpc_method("stopProcess", signature=("boolean", "string", "boolean"))
    def stop_process(self, name: str, wait: bool = True) -> Deferred[Any] | bool:
        """Stop a process named by name

        @param string name  The name of the process to stop (or 'group:name')
        @param boolean wait        Wait for the process to be fully stopped
        @return boolean result     Always return True unless error
        """
        group = self._group_form(name)
        if group is not None:
            return self.stop_process_group(group, wait)
        return self.control.stop(name, wait)

    @rpc_method("stopProcessGroup", signature=("array", "string", "boolean"))
    def stop_process_group(self, name: str, wait: bool = True) -> Deferred[Any]:
        """Stop all processes in the process group named 'name'

        @param string name     The group name
        @param boolean wait    Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        """
        return self.control.stop_group(name, wait).addCallback(result_structs)

    @rpc_method("stopAllProcesses", signature=("array", "boolean"))
    def stop_all_processes(self, wait: bool = True) -> Deferred[Any]:
        """Stop all processes in the process list

        @param  boolean wait   Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        """
        return self.control.stop_all(wait).addCallback(result_structs)

    # -- signals -------------------------------------------------------------------------

    @rpc_method("signalProcess", signature=("boolean", "string", "string"))
    def signal_process(self, name: str, signal: str | int) -> bool | list[dict[str, Any]]:
        """Send an arbitrary UNIX signal to the process named by name

        @param string name    Name of the process to signal (or 'group:name')
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return boolean
        """
        group = self._group_form(name)
        if group is not None:
            return self.signal_process_group(group, signal)
        number = _signal(signal)
        self.control.signal(name, number)
        return True

    @rpc_method("signalProcessGroup", signature=("array", "string", "string"))
    def signal_process_group(self, name: str, signal: str | int) -> list[dict[str, Any]]:
        """Send a signal to all processes in the group named 'name'

        @param string name    The group name
        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array
        """
        self.control.group_config(name)  # BAD_NAME first, as supervisord's lookup says
        sig = _signal_or_error(signal)
        if isinstance(sig, SuperviseError):
            return result_structs(self._each_refused(self._group_snapshots(name), sig))
        return result_structs(self.control.signal_group(name, sig))

    @rpc_method("signalAllProcesses", signature=("array", "string"))
    def signal_all_processes(self, signal: str | int) -> list[dict[str, Any]]:
        """Send a signal to all processes in the process list

        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array         An array of process status info structs
        """
        sig = _signal_or_error(signal)
        if isinstance(sig, SuperviseError):
            snapshots = [
                s for group in self.control.group_names() for s in self._group_snapshots(group)
            ]
            return result_structs(self._each_refused(snapshots, sig))
        return result_structs(self.control.signal_all(sig))

    def _group_snapshots(self, group: str) -> list[ProcessSnapshot]:
        return [self.control.snapshot(n) for n in self.control.resolve(f"{group}:*").namespecs]

    @staticmethod
    def _each_refused(
        snapshots: list[ProcessSnapshot], error: SuperviseError
    ) -> list[ProcessResult]:
        """A bad signal is each signallable process's error, as in supervisord."""
        return [
            ProcessResult(s.name, s.group, error)
            for s in snapshots
            if s.state in SIGNALLABLE_STATES
        ]


def _signal(value: str | int) -> int:
    text = str(value)
    if text.strip() == "0":
        return 0  # "is it alive?": supervisord lets it through to kill()
    try:
        return signal_number(text)
    except ValueError:
        raise RPCError(faults.BAD_SIGNAL, text) from None


def _signal_or_error(value: str | int) -> int | SuperviseError:
    try:
        return _signal(value)
    except RPCError:
        return BadSignal(str(value))
