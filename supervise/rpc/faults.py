"""supervisord's fault codes, and the one table mapping core errors to them."""

from __future__ import annotations

import xmlrpc.client

from supervise import errors

UNKNOWN_METHOD = 1
INCORRECT_PARAMETERS = 2
BAD_ARGUMENTS = 3
SIGNATURE_UNSUPPORTED = 4
SHUTDOWN_STATE = 6
BAD_NAME = 10
BAD_SIGNAL = 11
NO_FILE = 20
NOT_EXECUTABLE = 21
FAILED = 30
ABNORMAL_TERMINATION = 40
SPAWN_ERROR = 50
ALREADY_STARTED = 60
NOT_RUNNING = 70
SUCCESS = 80
ALREADY_ADDED = 90
STILL_RUNNING = 91
CANT_REREAD = 92

FAULT_NAMES = {
    value: name
    for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, int)
}

ERROR_CODES: dict[type[errors.SuperviseError], int] = {
    errors.BadName: BAD_NAME,
    errors.BadSignal: BAD_SIGNAL,
    errors.BadArguments: BAD_ARGUMENTS,
    errors.NoFile: NO_FILE,
    errors.NotExecutable: NOT_EXECUTABLE,
    errors.Failed: FAILED,
    errors.AbnormalTermination: ABNORMAL_TERMINATION,
    errors.SpawnFailed: SPAWN_ERROR,
    errors.AlreadyStarted: ALREADY_STARTED,
    errors.NotRunning: NOT_RUNNING,
    errors.AlreadyAdded: ALREADY_ADDED,
    errors.StillRunning: STILL_RUNNING,
    errors.CantReread: CANT_REREAD,
    errors.ShuttingDown: SHUTDOWN_STATE,
}


class RPCError(Exception):
    """A fault with supervisord's ``NAME: detail`` string."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        self.code = code
        self.text = FAULT_NAMES[code] if detail is None else f"{FAULT_NAMES[code]}: {detail}"
        super().__init__(self.text)

    def fault(self) -> xmlrpc.client.Fault:
        """As an XML-RPC Fault."""
        return xmlrpc.client.Fault(self.code, self.text)


def code_for(error: errors.SuperviseError) -> int:
    """The fault code of a core error."""
    for kind in type(error).__mro__:
        if kind in ERROR_CODES:
            return ERROR_CODES[kind]  # type: ignore[index]
    return FAILED


def to_rpc_error(error: errors.SuperviseError) -> RPCError:
    """A core error as supervisord's fault (bare name when there is no detail)."""
    return RPCError(code_for(error), error.detail)


def description(error: errors.SuperviseError | None) -> tuple[int, str]:
    """``(status, description)`` for a group-call result struct."""
    if error is None:
        return SUCCESS, "OK"
    return code_for(error), to_rpc_error(error).text
