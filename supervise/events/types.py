"""Every event type, with supervisord's names and payload fields (SUPERVISOR.md §7.1).

The class tree mirrors supervisord's, so subscribing to ``ProcessStateEvent`` means every
``PROCESS_STATE_*``. ``serial`` and ``when`` are stamped by the bus on publish.

A type that only names its kind (no field of its own) is a plain subclass with empty
``__slots__``: it inherits the attrs methods (``__init__``, ``__eq__`` by exact class,
``__repr__`` by its own name, frozen ``__setattr__``), and ``attrs.fields`` sees it. Each
attrs class costs about 0.5 ms of generated code at every start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from attrs import field, frozen

from supervise.snapshot import ResourceUsage
from supervise.states import ProcessState


@frozen
class Event:
    """Base of every event (``EVENT``)."""

    type_name: ClassVar[str] = "EVENT"
    serial: int = field(default=0, kw_only=True)
    when: float = field(default=0.0, kw_only=True)


@frozen
class ProcessStateEvent(Event):
    """A process changed state (``PROCESS_STATE``); one subclass per target state."""

    type_name: ClassVar[str] = "PROCESS_STATE"
    state: ClassVar[ProcessState]
    group: str
    process: str
    from_state: ProcessState
    pid: int = 0
    tries: int = 0
    expected: bool | None = None


class ProcessStateStarting(ProcessStateEvent):
    """A process entered STARTING."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_STARTING"
    state: ClassVar[ProcessState] = ProcessState.STARTING


class ProcessStateRunning(ProcessStateEvent):
    """A process entered RUNNING."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_RUNNING"
    state: ClassVar[ProcessState] = ProcessState.RUNNING


class ProcessStateBackoff(ProcessStateEvent):
    """A process entered BACKOFF."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_BACKOFF"
    state: ClassVar[ProcessState] = ProcessState.BACKOFF


class ProcessStateStopping(ProcessStateEvent):
    """A process entered STOPPING."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_STOPPING"
    state: ClassVar[ProcessState] = ProcessState.STOPPING


class ProcessStateExited(ProcessStateEvent):
    """A process entered EXITED."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_EXITED"
    state: ClassVar[ProcessState] = ProcessState.EXITED


class ProcessStateStopped(ProcessStateEvent):
    """A process entered STOPPED."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_STOPPED"
    state: ClassVar[ProcessState] = ProcessState.STOPPED


class ProcessStateFatal(ProcessStateEvent):
    """A process entered FATAL."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_FATAL"
    state: ClassVar[ProcessState] = ProcessState.FATAL


class ProcessStateUnknown(ProcessStateEvent):
    """A process entered UNKNOWN."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_STATE_UNKNOWN"
    state: ClassVar[ProcessState] = ProcessState.UNKNOWN


STATE_EVENTS: dict[ProcessState, type[ProcessStateEvent]] = {
    cls.state: cls
    for cls in (
        ProcessStateStarting,
        ProcessStateRunning,
        ProcessStateBackoff,
        ProcessStateStopping,
        ProcessStateExited,
        ProcessStateStopped,
        ProcessStateFatal,
        ProcessStateUnknown,
    )
}


@frozen
class ProcessLogEvent(Event):
    """A process wrote output and its ``*_events_enabled`` is on (``PROCESS_LOG``)."""

    type_name: ClassVar[str] = "PROCESS_LOG"
    channel: ClassVar[str]
    group: str
    process: str
    pid: int
    data: bytes


class ProcessLogStdout(ProcessLogEvent):
    """Output on stdout."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_LOG_STDOUT"
    channel: ClassVar[str] = "stdout"


class ProcessLogStderr(ProcessLogEvent):
    """Output on stderr."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_LOG_STDERR"
    channel: ClassVar[str] = "stderr"


@frozen
class ProcessCommunicationEvent(Event):
    """Bytes a process sent between capture-mode tokens (``PROCESS_COMMUNICATION``)."""

    type_name: ClassVar[str] = "PROCESS_COMMUNICATION"
    channel: ClassVar[str]
    group: str
    process: str
    pid: int
    data: bytes


class ProcessCommunicationStdout(ProcessCommunicationEvent):
    """Captured on stdout."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_COMMUNICATION_STDOUT"
    channel: ClassVar[str] = "stdout"


class ProcessCommunicationStderr(ProcessCommunicationEvent):
    """Captured on stderr."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_COMMUNICATION_STDERR"
    channel: ClassVar[str] = "stderr"


@frozen
class RemoteCommunicationEvent(Event):
    """``sendRemoteCommEvent(type, data)`` was called (``REMOTE_COMMUNICATION``)."""

    type_name: ClassVar[str] = "REMOTE_COMMUNICATION"
    kind: str
    data: str


class SupervisorStateChangeEvent(Event):
    """The daemon changed state (``SUPERVISOR_STATE_CHANGE``)."""

    __slots__ = ()

    type_name: ClassVar[str] = "SUPERVISOR_STATE_CHANGE"


class SupervisorRunning(SupervisorStateChangeEvent):
    """The daemon is running (at start and after each reload)."""

    __slots__ = ()

    type_name: ClassVar[str] = "SUPERVISOR_STATE_CHANGE_RUNNING"


class SupervisorStopping(SupervisorStateChangeEvent):
    """The daemon began shutting down or reloading."""

    __slots__ = ()

    type_name: ClassVar[str] = "SUPERVISOR_STATE_CHANGE_STOPPING"


@frozen
class TickEvent(Event):
    """A wall-clock period boundary passed (``TICK``); ``boundary`` is its epoch."""

    type_name: ClassVar[str] = "TICK"
    period: ClassVar[int]
    boundary: int


class Tick5(TickEvent):
    """Every 5 seconds."""

    __slots__ = ()

    type_name: ClassVar[str] = "TICK_5"
    period: ClassVar[int] = 5


class Tick60(TickEvent):
    """Every minute."""

    __slots__ = ()

    type_name: ClassVar[str] = "TICK_60"
    period: ClassVar[int] = 60


class Tick3600(TickEvent):
    """Every hour."""

    __slots__ = ()

    type_name: ClassVar[str] = "TICK_3600"
    period: ClassVar[int] = 3600


@frozen
class ProcessGroupEvent(Event):
    """A group was added or removed (``PROCESS_GROUP``)."""

    type_name: ClassVar[str] = "PROCESS_GROUP"
    group: str


class ProcessGroupAdded(ProcessGroupEvent):
    """A group was added (start-up, reload, ``addProcessGroup``)."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_GROUP_ADDED"


class ProcessGroupRemoved(ProcessGroupEvent):
    """A group was removed."""

    __slots__ = ()

    type_name: ClassVar[str] = "PROCESS_GROUP_REMOVED"


class SuperviseEvent(Event):
    """Base of supervise's own events: never sent to a listener pool unless named."""

    __slots__ = ()

    type_name: ClassVar[str] = "SUPERVISE_EVENT"


@frozen
class EventBufferOverflow(SuperviseEvent):
    """A listener pool's buffer was full and dropped its oldest event."""

    type_name: ClassVar[str] = "EVENT_BUFFER_OVERFLOW"
    pool: str
    dropped_type: str
    dropped_serial: int


@frozen
class ListenerOverflow(SuperviseEvent):
    """An in-process listener was too slow: its queue was full and dropped events."""

    type_name: ClassVar[str] = "SUPERVISE_LISTENER_OVERFLOW"
    listener: str
    dropped: int


@frozen
class HealthFailed(SuperviseEvent):
    """A RUNNING program failed its health check ``failures`` times in a row; it is restarted."""

    type_name: ClassVar[str] = "SUPERVISE_HEALTH_FAILED"
    group: str
    process: str
    check: str
    failures: int


@frozen
class HealthRecovered(SuperviseEvent):
    """A program passed its health check again after failing it."""

    type_name: ClassVar[str] = "SUPERVISE_HEALTH_RECOVERED"
    group: str
    process: str
    check: str


@frozen
class OutOfMemory(SuperviseEvent):
    """The kernel's OOM killer killed processes of a program (its cgroup's memory.events)."""

    type_name: ClassVar[str] = "SUPERVISE_OOM_KILLED"
    group: str
    process: str
    killed: int


@frozen
class WatchdogExpired(SuperviseEvent):
    """A program with watchdog_sec sent no WATCHDOG=1 in time; it is restarted."""

    type_name: ClassVar[str] = "SUPERVISE_WATCHDOG_EXPIRED"
    group: str
    process: str
    seconds: float


@frozen
class ProcessAdopted(SuperviseEvent):
    """A watched program's process was found and taken over (``old_pid`` 0 at start-up)."""

    type_name: ClassVar[str] = "SUPERVISE_PROCESS_ADOPTED"
    group: str
    process: str
    old_pid: int
    new_pid: int


@frozen
class ProcessDisabled(SuperviseEvent):
    """A process was disabled: stopped, and started by nothing until enabled."""

    type_name: ClassVar[str] = "SUPERVISE_PROCESS_DISABLED"
    group: str
    process: str


@frozen
class ProcessEnabled(SuperviseEvent):
    """A disabled process was enabled again."""

    type_name: ClassVar[str] = "SUPERVISE_PROCESS_ENABLED"
    group: str
    process: str


@frozen
class GroupScaled(SuperviseEvent):
    """A program's number of processes was changed at run time (``declared``: the file's)."""

    type_name: ClassVar[str] = "SUPERVISE_GROUP_SCALED"
    group: str
    count: int
    previous: int
    declared: int


@frozen
class ScheduleSkipped(SuperviseEvent):
    """A scheduled program's tick came while its previous run was still going."""

    type_name: ClassVar[str] = "SUPERVISE_SCHEDULE_SKIPPED"
    group: str
    process: str
    state: str
    pid: int


@frozen
class DaemonExiting(SuperviseEvent):
    """A program's end ends the daemon (``critical``, ``exit_when_done``): every program
    is stopped and the daemon exits with ``status``."""

    type_name: ClassVar[str] = "SUPERVISE_DAEMON_EXITING"
    group: str
    process: str
    status: int
    reason: str


@frozen
class ResourcesSampled(SuperviseEvent):
    """The sampler measured every running program (namespec → its usage). Internal: it
    feeds the console, ``top`` and plugins, and is never sent to an event listener pool."""

    type_name: ClassVar[str] = "SUPERVISE_RESOURCES_SAMPLED"
    usage: Mapping[str, ResourceUsage]


SUPERVISOR_EVENT_TYPES: tuple[type[Event], ...] = (
    Event,
    ProcessStateEvent,
    *STATE_EVENTS.values(),
    ProcessLogEvent,
    ProcessLogStdout,
    ProcessLogStderr,
    ProcessCommunicationEvent,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    RemoteCommunicationEvent,
    SupervisorStateChangeEvent,
    SupervisorRunning,
    SupervisorStopping,
    TickEvent,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroupEvent,
    ProcessGroupAdded,
    ProcessGroupRemoved,
)

OWN_EVENT_TYPES: tuple[type[Event], ...] = (
    SuperviseEvent,
    EventBufferOverflow,
    ListenerOverflow,
    HealthFailed,
    HealthRecovered,
    OutOfMemory,
    WatchdogExpired,
    ProcessAdopted,
    ProcessDisabled,
    ProcessEnabled,
    GroupScaled,
    ScheduleSkipped,
    DaemonExiting,
)

EVENT_TYPES_BY_NAME: dict[str, type[Event]] = {
    cls.type_name: cls for cls in (*SUPERVISOR_EVENT_TYPES, *OWN_EVENT_TYPES)
}


def subscribable_event_names() -> frozenset[str]:
    """Names an ``[eventlistener:x] events=`` line may use."""
    return frozenset(EVENT_TYPES_BY_NAME)
