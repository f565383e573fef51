"""``supervisor.*`` that read processes: process and config info, and the processes' logs
(read, tail, clear).

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define

from supervise.errors import BadName
from supervise.interfaces import ISupervisorControl
from supervise.rpc.marshal import as_text, config_info, process_info, result_structs
from supervise.rpc.premarshalled import PreMarshalled, process_structs
from supervise.rpc.registry import rpc_method


@define(eq=False)
class ProcessInfoNamespace:
    """supervisord 4.3.0's process information and process log methods."""

    control: ISupervisorControl
    wall_clock: Callable[[], float]

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
    def get_all_process_info(self) -> list[PreMarshalled]:
        """Get info about all processes

        @return array result  An array of process status results
        """
        return process_structs(self.control.snapshots(), self.wall_clock())

    # -- process logs ------------------------------------------------------------------

    def _read(self, name: str, channel: str, offset: int, length: int) -> str:
        return as_text(self.control.read_log(name, channel, offset, length))

    def _tail(self, name: str, channel: str, offset: int, length: int) -> list[Any]:
        data, new_offset, overflow = self.control.tail_log(name, channel, offset, length)
        return [as_text(data), new_offset, overflow]

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
        return result_structs(self.control.clear_all_logs())
