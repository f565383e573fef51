"""Process, supervisor and listener states with supervisord's numeric codes.

Import-free on purpose (like supervisord's ``states.py``): everything may import it.
See SUPERVISOR.md §3.1.
"""

from enum import IntEnum


class ProcessState(IntEnum):
    """The state of one supervised process."""

    STOPPED = 0
    STARTING = 10
    RUNNING = 20
    BACKOFF = 30
    STOPPING = 40
    EXITED = 100
    FATAL = 200
    UNKNOWN = 1000


class SupervisorState(IntEnum):
    """The state of the daemon itself (``getState``)."""

    FATAL = 2
    RUNNING = 1
    RESTARTING = 0
    SHUTDOWN = -1


class ListenerState(IntEnum):
    """The protocol state of one event listener process."""

    READY = 10
    BUSY = 20
    ACKNOWLEDGED = 30
    UNKNOWN = 40


STOPPED_STATES = frozenset(
    {ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL, ProcessState.UNKNOWN}
)
RUNNING_STATES = frozenset({ProcessState.RUNNING, ProcessState.BACKOFF, ProcessState.STARTING})
SIGNALLABLE_STATES = frozenset({ProcessState.RUNNING, ProcessState.STARTING, ProcessState.STOPPING})
