"""``supervisor.*`` for the daemon itself: versions, state, pid, main log, shutdown and
restart, and the configuration (reloadConfig, addProcessGroup, removeProcessGroup).

Docstrings here are user documentation: ``system.methodHelp`` serves them.
"""

from __future__ import annotations

from typing import Any

from attrs import define

from supervise import API_VERSION, SUPERVISOR_COMPAT_VERSION
from supervise.interfaces import IDaemonControl, ISupervisorControl
from supervise.logs.reading import log_exists, read_log_file
from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.marshal import as_text
from supervise.rpc.registry import rpc_method


@define(eq=False)
class DaemonNamespace:
    """supervisord 4.3.0's methods on the daemon, its main log and its configuration."""

    control: ISupervisorControl
    daemon: IDaemonControl

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
        state = self.control.supervisor_state()
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
        return as_text(read_log_file(self.daemon.main_log_path(), offset, length))

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

        A configuration that does not load is refused with the fault CANT_REREAD
        (supervisord would exit instead); the daemon keeps running the old one.

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
