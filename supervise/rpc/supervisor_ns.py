"""The ``supervisor.*`` namespace: argument checks → ISupervisorControl → structs.

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from typing import Any

from attrs import define
from twisted.internet.defer import Deferred

from supervise import API_VERSION, SUPERVISOR_COMPAT_VERSION
from supervise.config.values import signal_number
from supervise.errors import BadName, BadSignal, SuperviseError
from supervise.events.types import RemoteCommunicationEvent
from supervise.interfaces import IDaemonControl, ISupervisorControl
from supervise.logs.reading import log_exists, read_log_file
from supervise.results import ProcessResult
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import config_info, process_info
from supervise.rpc.registry import rpc_method
from supervise.snapshot import ProcessSnapshot
from supervise.states import SIGNALLABLE_STATES, SupervisorState


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


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


@define(eq=False)
class SupervisorNamespace:
    """supervisord 4.3.0's ``supervisor`` XML-RPC namespace."""

    control: ISupervisorControl
    daemon: IDaemonControl
    wall_clock: Callable[[], float]

    @property
    def _supervisor_state(self) -> SupervisorState:
        return self.control.supervisor_state()

    def check_state(self, method: str) -> None:
        """Refuse every call but sendRemoteCommEvent while shutting down."""
        if (
            method != "sendRemoteCommEvent"
            and self._supervisor_state is not SupervisorState.RUNNING
        ):
            raise RPCError(faults.SHUTDOWN_STATE)

    def _group_form(self, name: str) -> str | None:
        """The group of a ``group:*`` name, None for a process name (BAD_NAME with the
        name as given when it designates nothing, as supervisord's lookup answers)."""
        target = self.control.resolve(name)
        return target.group if target.whole_group else None

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
        return _as_text(read_log_file(self.daemon.main_log_path(), offset, length))

    @rpc_method("clearLog", signature=("boolean",))
    def clear_log(self) -> bool:
        """Clear the main log.

        @return boolean result always returns True unless error
        """
        if not log_exists(self.daemon.main_log_path()):
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
        self.control.group_config(name)  # BAD_NAME first, as supervisord's lookup says
        sig = _signal_or_error(signal)
        if isinstance(sig, SuperviseError):
            return _results(self._each_refused(self._group_snapshots(name), sig))
        return _results(self.control.signal_group(name, sig))

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
            return _results(self._each_refused(snapshots, sig))
        return _results(self.control.signal_all(sig))

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

    # -- information -----------------------------------------------------------------

    @rpc_method("getAllConfigInfo", signature=("array",))
    def get_all_config_info(self) -> list[dict[str, Any]]:
        """Get info about all available process configurations. Each struct
        represents a single process (i.e. groups get flattened).

        @return array result  An array of process config info structs
        """
        model = self.control.latest_config()
        active = set(self.control.group_names())
        infos = []
        for group in model.groups:
            inuse = group.name in active
            for process in group.processes:
                info = config_info(process, group, inuse)
                if inuse:
                    try:
                        running = self.control.snapshot(f"{group.name}:{process.name}")
                    except BadName:
                        running = None
                    if running is not None:
                        # supervisord reports the AUTO log file it created, not 'auto'
                        info["stdout_logfile"] = running.stdout_logfile or info["stdout_logfile"]
                        info["stderr_logfile"] = running.stderr_logfile or info["stderr_logfile"]
                infos.append(info)
        infos.sort(key=lambda info: str(info["name"]))
        return infos

    @rpc_method("getProcessInfo", signature=("struct", "string"))
    def get_process_info(self, name: str) -> dict[str, Any]:
        """Get info about a process named name

        @param string name The name of the process (or 'group:name')
        @return struct result     A structure containing data about the process
        """
        return process_info(self.control.snapshot(name), self.wall_clock())

    @rpc_method("getAllProcessInfo", signature=("array",))
    def get_all_process_info(self) -> list[dict[str, Any]]:
        """Get info about all processes

        @return array result  An array of process status results
        """
        now = self.wall_clock()
        return [process_info(s, now) for s in self.control.snapshots()]

    # -- process logs ------------------------------------------------------------------

    def _read(self, name: str, channel: str, offset: int, length: int) -> str:
        return _as_text(self.control.read_log(name, channel, offset, length))

    def _tail(self, name: str, channel: str, offset: int, length: int) -> list[Any]:
        data, new_offset, overflow = self.control.tail_log(name, channel, offset, length)
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

    @rpc_method("clearProcessLogs", "clearProcessLog", signature=("boolean", "string"))
    def clear_process_logs(self, name: str) -> bool:
        """Clear the stdout and stderr logs for the named process and
        reopen them.

        @param string name   The name of the process (or 'group:name')
        @return boolean result      Always True unless error
        """
        self.control.clear_log(name)
        return True

    @rpc_method("clearAllProcessLogs", signature=("array",))
    def clear_all_process_logs(self) -> list[dict[str, Any]]:
        """Clear all process log files

        @return array result   An array of process status info structs
        """
        return _results(self.control.clear_all_logs())

    # -- communication -----------------------------------------------------------------

    @rpc_method("sendProcessStdin", signature=("boolean", "string", "string"), unchecked=("chars",))
    def send_process_stdin(self, name: str, chars: object) -> bool:
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
            # supervisord's own check and text: INCORRECT_PARAMETERS: 5
            raise RPCError(faults.INCORRECT_PARAMETERS, str(chars))
        data = chars.encode("utf-8") if isinstance(chars, str) else chars
        self.control.send_stdin(name, data)
        return True

    @rpc_method(
        "sendRemoteCommEvent", signature=("boolean", "string", "string"), unchecked=("type", "data")
    )
    def send_remote_comm_event(self, type: object, data: object) -> bool:
        """Send an event that will be received by event listener
        subprocesses subscribing to the RemoteCommunicationEvent.

        @param  string  type  String for the "type" key in the event header
        @param  string  data  Data for the event body
        @return boolean       Always return True unless error
        """
        # Any value is accepted and sent as its text, as supervisord does.
        self.control.bus.publish(RemoteCommunicationEvent(_text(type), _text(data)))
        return True


def _text(value: object) -> str:
    """A value as supervisord's ``%s`` shows it; base64 decoded as its unmarshaller does."""
    if isinstance(value, xmlrpc.client.Binary):
        return value.data.decode("utf-8", "replace")
    return str(value)


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
