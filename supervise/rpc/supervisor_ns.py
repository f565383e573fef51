"""The ``supervisor.*`` namespace: argument checks → SupervisorControl → structs.

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

import os
import xmlrpc.client
from collections.abc import Callable
from typing import Any, Protocol

from attrs import define
from twisted.internet.defer import Deferred

from supervise import API_VERSION, SUPERVISOR_COMPAT_VERSION
from supervise.config.values import signal_number
from supervise.control import ProcessResult, SupervisorControl
from supervise.errors import BadName, BadSignal, NotRunning, SuperviseError
from supervise.events.types import RemoteCommunicationEvent
from supervise.logs import rotating
from supervise.process.program import Program
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import config_info, process_info
from supervise.rpc.registry import rpc_method
from supervise.states import SupervisorState


class Daemon(Protocol):
    """What the namespace needs from the running daemon."""

    def pid(self) -> int:
        """The daemon's pid."""

    def identifier(self) -> str:
        """``[supervisord] identifier``."""

    def main_log_path(self) -> str | None:
        """The main log file, None for syslog."""

    def clear_main_log(self) -> None:
        """Delete and reopen the main log."""

    def request_shutdown(self) -> None:
        """Stop everything and exit (soon, after the reply is sent)."""

    def request_restart(self) -> None:
        """Reload everything (soon, after the reply is sent)."""


def _results(results: list[ProcessResult]) -> list[dict[str, Any]]:
    structs = []
    for result in results:
        status, description = faults.description(result.error)
        structs.append(
            {
                "name": result.name,
                "group": result.group,
                "status": status,
                "description": description,
            }
        )
    return structs


def _check_log_args(offset: int, length: int) -> None:
    if (offset < 0 and length != 0) or length < 0:
        raise RPCError(faults.BAD_ARGUMENTS)


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


@define(eq=False)
class SupervisorNamespace:
    """supervisord 4.3.0's ``supervisor`` XML-RPC namespace."""

    control: SupervisorControl
    daemon: Daemon
    wall_clock: Callable[[], float]

    @property
    def _supervisor_state(self) -> SupervisorState:
        return self.control.supervisor.state

    def check_state(self, method: str) -> None:
        """Refuse every call but sendRemoteCommEvent while shutting down."""
        if (
            method != "sendRemoteCommEvent"
            and self._supervisor_state is not SupervisorState.RUNNING
        ):
            raise RPCError(faults.SHUTDOWN_STATE)

    def _group_form(self, name: str) -> str | None:
        """The group of a ``group:*`` name (BAD_NAME with the name as given if unknown)."""
        group, process = _split(name)
        if process is not None:
            return None
        if group not in self.control.supervisor.groups:
            raise BadName(name)
        return group

    # -- status and control of the daemon ---------------------------------------------

    @rpc_method("getAPIVersion", "getVersion", signature=("string",))
    def get_api_version(self) -> str:
        """Return the version of the RPC API used by supervisord

        @return string version id
        """
        return API_VERSION

    @rpc_method("getSupervisorVersion", signature=("string",))
    def get_supervisor_version(self) -> str:
        """Return the version of the supervisor package in use by supervisord

        @return string version id
        """
        return SUPERVISOR_COMPAT_VERSION

    @rpc_method("getIdentification", signature=("string",))
    def get_identification(self) -> str:
        """Return identifying string of supervisord

        @return string identifier identifying string
        """
        return self.daemon.identifier()

    @rpc_method("getState", signature=("struct",))
    def get_state(self) -> dict[str, Any]:
        """Return current state of supervisord as a struct

        @return struct A struct with keys int statecode, string statename
        """
        state = self._supervisor_state
        return {"statecode": int(state), "statename": state.name}

    @rpc_method("getPID", signature=("int",))
    def get_pid(self) -> int:
        """Return the PID of supervisord

        @return int PID
        """
        return self.daemon.pid()

    @rpc_method("readLog", "readMainLog", signature=("string", "int", "int"))
    def read_log(self, offset: int, length: int) -> str:
        """Read length bytes from the main log starting at offset

        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        """
        _check_log_args(offset, length)
        path = self.daemon.main_log_path()
        if path is None or not os.path.exists(path):
            raise RPCError(faults.NO_FILE, str(path))
        try:
            return _as_text(rotating.read_slice(path, offset, length))
        except OSError:
            raise RPCError(faults.FAILED) from None

    @rpc_method("clearLog", signature=("boolean",))
    def clear_log(self) -> bool:
        """Clear the main log.

        @return boolean result always returns True unless error
        """
        path = self.daemon.main_log_path()
        if path is None or not os.path.exists(path):
            raise RPCError(faults.NO_FILE)
        try:
            self.daemon.clear_main_log()
        except OSError:
            raise RPCError(faults.FAILED) from None
        return True

    @rpc_method("shutdown", signature=("boolean",))
    def shutdown(self) -> bool:
        """Shut down the supervisor process

        @return boolean result always returns True unless error
        """
        self.daemon.request_shutdown()
        return True

    @rpc_method("restart", signature=("boolean",))
    def restart(self) -> bool:
        """Restart the supervisor process

        @return boolean result  always return True unless error
        """
        self.daemon.request_restart()
        return True

    # -- configuration --------------------------------------------------------------

    @rpc_method("reloadConfig", signature=("array",))
    def reload_config(self) -> list[list[list[str]]]:
        """Reload the configuration.

        The result contains three arrays containing names of process
        groups: added, changed, removed.

        @return array result  [[added, changed, removed]]
        """
        added, changed, removed = self.control.reread().names()
        return [[added, changed, removed]]

    @rpc_method("addProcessGroup", signature=("boolean", "string"))
    def add_process_group(self, name: str) -> bool:
        """Update the config for a running process from config file.

        @param string name         name of process group to add
        @return boolean result     true if successful
        """
        self.control.add_group(name)
        return True

    @rpc_method("removeProcessGroup", signature=("boolean", "string"))
    def remove_process_group(self, name: str) -> bool:
        """Remove a stopped process from the active configuration.

        @param string name         name of process group to remove
        @return boolean result     Indicates whether the removal was successful
        """
        self.control.remove_group(name)
        return True

    # -- start / stop / signal ---------------------------------------------------------

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
        return self.control.start_group(name, wait).addCallback(_results)

    @rpc_method("startAllProcesses", signature=("array", "boolean"))
    def start_all_processes(self, wait: bool = True) -> Deferred[Any]:
        """Start all processes listed in the configuration file

        @param boolean wait    Wait for each process to be fully started
        @return array result   An array of process status info structs
        """
        return self.control.start_all(wait).addCallback(_results)

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
        return self.control.stop_group(name, wait).addCallback(_results)

    @rpc_method("stopAllProcesses", signature=("array", "boolean"))
    def stop_all_processes(self, wait: bool = True) -> Deferred[Any]:
        """Stop all processes in the process list

        @param  boolean wait   Wait for each process to be fully stopped
        @return array result   An array of process status info structs
        """
        return self.control.stop_all(wait).addCallback(_results)

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
        group = self.control.group(name)
        return _results(self.control.signal_many(group.ordered(), _signal_or_error(signal)))

    @rpc_method("signalAllProcesses", signature=("array", "string"))
    def signal_all_processes(self, signal: str | int) -> list[dict[str, Any]]:
        """Send a signal to all processes in the process list

        @param string signal  Signal to send, as name ('HUP') or number ('1')
        @return array         An array of process status info structs
        """
        return _results(
            self.control.signal_many(self.control.all_processes(), _signal_or_error(signal))
        )

    # -- information -----------------------------------------------------------------

    @rpc_method("getAllConfigInfo", signature=("array",))
    def get_all_config_info(self) -> list[dict[str, Any]]:
        """Get info about all available process configurations. Each struct
        represents a single process (i.e. groups get flattened).

        @return array result  An array of process config info structs
        """
        model = self.control.pending or self.control.supervisor.model
        active = self.control.supervisor.groups
        infos = []
        for group in model.groups:
            inuse = group.name in active
            for process in group.processes:
                info = config_info(process, group, inuse)
                running = active[group.name].processes.get(process.name) if inuse else None
                if running is not None:
                    # supervisord reports the AUTO log file it created, not 'auto'
                    info["stdout_logfile"] = running.stdout.path or info["stdout_logfile"]
                    info["stderr_logfile"] = running.stderr.path or info["stderr_logfile"]
                infos.append(info)
        infos.sort(key=lambda info: str(info["name"]))
        return infos

    @rpc_method("getProcessInfo", signature=("struct", "string"))
    def get_process_info(self, name: str) -> dict[str, Any]:
        """Get info about a process named name

        @param string name The name of the process (or 'group:name')
        @return struct result     A structure containing data about the process
        """
        return process_info(self.control.process(name).snapshot(), self.wall_clock())

    @rpc_method("getAllProcessInfo", signature=("array",))
    def get_all_process_info(self) -> list[dict[str, Any]]:
        """Get info about all processes

        @return array result  An array of process status results
        """
        now = self.wall_clock()
        return [process_info(p.snapshot(), now) for p in self.control.sorted_processes()]

    # -- process logs ------------------------------------------------------------------

    def _read(self, name: str, channel: str, offset: int, length: int) -> str:
        _check_log_args(offset, length)
        program = self.control.process(name)
        if program.external:
            raise RPCError(faults.NO_FILE, f"{name} was not started by supervise: it has no log")
        path = getattr(program, channel).path
        if path is None:
            raise RPCError(faults.NO_FILE)
        if not os.path.exists(path):
            raise RPCError(faults.NO_FILE, path)
        try:
            return _as_text(rotating.read_slice(path, offset, length))
        except OSError:
            raise RPCError(faults.FAILED) from None

    def _tail(self, name: str, channel: str, offset: int, length: int) -> list[Any]:
        program = self.control.process(name)
        if program.external:
            raise RPCError(faults.NO_FILE, f"{name} was not started by supervise: it has no log")
        path = getattr(program, channel).path
        if path is None:
            return ["", offset, False]
        data, new_offset, overflow = rotating.tail(path, offset, length)
        return [_as_text(data), new_offset, overflow]

    @rpc_method(
        "readProcessStdoutLog", "readProcessLog", signature=("string", "string", "int", "int")
    )
    def read_process_stdout_log(self, name: str, offset: int, length: int) -> str:
        """Read length bytes from name's stdout log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        """
        return self._read(name, "stdout", offset, length)

    @rpc_method("readProcessStderrLog", signature=("string", "string", "int", "int"))
    def read_process_stderr_log(self, name: str, offset: int, length: int) -> str:
        """Read length bytes from name's stderr log starting at offset

        @param string name        the name of the process (or 'group:name')
        @param int offset         offset to start reading from.
        @param int length         number of bytes to read from the log.
        @return string result     Bytes of log
        """
        return self._read(name, "stderr", offset, length)

    @rpc_method(
        "tailProcessStdoutLog", "tailProcessLog", signature=("array", "string", "int", "int")
    )
    def tail_process_stdout_log(self, name: str, offset: int, length: int) -> list[Any]:
        """Provides a more efficient way to tail the (stdout) log than
        readProcessStdoutLog().

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        """
        return self._tail(name, "stdout", offset, length)

    @rpc_method("tailProcessStderrLog", signature=("array", "string", "int", "int"))
    def tail_process_stderr_log(self, name: str, offset: int, length: int) -> list[Any]:
        """Provides a more efficient way to tail the (stderr) log than
        readProcessStderrLog().

        @param string name         the name of the process (or 'group:name')
        @param int offset          offset to start reading from
        @param int length          maximum number of bytes to return
        @return array result       [string bytes, int offset, bool overflow]
        """
        return self._tail(name, "stderr", offset, length)

    def _clear(self, program: Program) -> None:
        program.stdout.clear()
        program.stderr.clear()

    @rpc_method("clearProcessLogs", "clearProcessLog", signature=("boolean", "string"))
    def clear_process_logs(self, name: str) -> bool:
        """Clear the stdout and stderr logs for the named process and
        reopen them.

        @param string name   The name of the process (or 'group:name')
        @return boolean result      Always True unless error
        """
        program = self.control.process(name)
        try:
            self._clear(program)
        except OSError:
            raise RPCError(faults.FAILED, name) from None
        return True

    @rpc_method("clearAllProcessLogs", signature=("array",))
    def clear_all_process_logs(self) -> list[dict[str, Any]]:
        """Clear all process log files

        @return array result   An array of process status info structs
        """
        results = []
        for program in self.control.all_processes():
            try:
                self._clear(program)
            except OSError:
                error: SuperviseError | None = SuperviseError(program.namespec)
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return _results(results)

    # -- communication -----------------------------------------------------------------

    @rpc_method("sendProcessStdin", signature=("boolean", "string", "string"), binary=True)
    def send_process_stdin(self, name: str, chars: str) -> bool:
        """Send a string of chars to the stdin of the process name.
        If non-7-bit data is sent (unicode), it is encoded to utf-8
        before being sent to the process' stdin.

        @param string name        The process name to send to (or 'group:name')
        @param string chars       The character data to send to the process
        @return boolean result    Always return True unless error
        """
        if isinstance(chars, xmlrpc.client.Binary):
            chars = chars.data
        if not isinstance(chars, str | bytes):
            raise RPCError(faults.INCORRECT_PARAMETERS, repr(chars))
        data = chars.encode("utf-8") if isinstance(chars, str) else chars
        try:
            self.control.send_stdin(name, data)
        except NotRunning:
            raise
        except OSError:
            raise RPCError(faults.NO_FILE, name) from None
        return True

    @rpc_method("sendRemoteCommEvent", signature=("boolean", "string", "string"))
    def send_remote_comm_event(self, type: str, data: str) -> bool:
        """Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        """
        self.control.supervisor.bus.publish(RemoteCommunicationEvent(str(type), str(data)))
        return True


def _split(name: str) -> tuple[str, str | None]:
    from supervise.control import split_namespec

    return split_namespec(name)


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
