"""Typed core errors; ``rpc/faults.py`` maps each to supervisord's fault code once."""


class SuperviseError(Exception):
    """Base of every error the core raises at its callers."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail


class BadName(SuperviseError):
    """No process or group answers to the name given."""


class BadSignal(SuperviseError):
    """The signal given is not a valid signal name or number."""


class BadArguments(SuperviseError):
    """The arguments are of the right types but not acceptable."""


class NoFile(SuperviseError):
    """A command or log file does not exist."""


class NotExecutable(SuperviseError):
    """The command exists but cannot be executed."""


class Failed(SuperviseError):
    """A generic failure (kill error, unknown process state, file error)."""


class Disabled(Failed):
    """Start was asked of a disabled process (``supervisectl enable`` allows it again)."""


class NotScalable(Failed):
    """Scale was asked of a group whose process count cannot change at run time."""


class AbnormalTermination(SuperviseError):
    """A process left STARTING without reaching RUNNING while a caller waited."""


class SpawnFailed(SuperviseError):
    """A process could not be spawned (the caller waited for it)."""


class AlreadyStarted(SuperviseError):
    """Start was asked of a process that is already starting or running."""


class NotRunning(SuperviseError):
    """Stop, signal or stdin was asked of a process that is not running."""


class AlreadyAdded(SuperviseError):
    """The group is already active."""


class StillRunning(SuperviseError):
    """The group still has processes that are not stopped."""


class CantReread(SuperviseError):
    """The configuration could not be re-read; the running one is kept."""


class ShuttingDown(SuperviseError):
    """The daemon is shutting down or restarting and refuses the command."""


class SpawnError(Exception):
    """A spawn failed before exec: carries supervisord's ``spawnerr`` text.

    :ivar kind: ``"NO_FILE"``, ``"NOT_EXECUTABLE"`` or ``"SPAWN_ERROR"``, the fault
        ``startProcess`` reports (SUPERVISOR.md §3.7).
    """

    def __init__(self, message: str, kind: str = "SPAWN_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class ProcessGone(Exception):
    """The process was already reaped when a signal was sent."""


PLAIN_WORDS: dict[type[Exception], str] = {
    BadName: "no such process or group",
    BadSignal: "no such signal",
    NoFile: "the command was not found",
    NotExecutable: "the command is not executable",
    AbnormalTermination: "it exited before it counted as started",
    SpawnFailed: "it could not be started",
    AlreadyStarted: "it is already started",
    NotRunning: "it is not running",
    StillRunning: "some of its processes are still running",
    ShuttingDown: "the daemon is shutting down",
}


def in_words(error: Exception) -> str:
    """A sentence for a person: what went wrong and with what (the console shows it)."""
    if isinstance(error, SpawnError):
        return f"it could not be started: {error.message}"
    words = PLAIN_WORDS.get(type(error))
    if words is None:
        words = (type(error).__doc__ or type(error).__name__).strip().splitlines()[0].rstrip(".")
    detail = getattr(error, "detail", None) if isinstance(error, SuperviseError) else str(error)
    if detail and isinstance(error, NoFile | NotExecutable | Failed | CantReread | BadArguments):
        return f"{words}: {detail}"
    return words
