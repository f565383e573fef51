"""The process machine's two faces: the inputs it takes, and the core its outputs use.

``ProcessInputs`` is what can happen to a process (each method one machine input);
``MachineCore`` is what the machine's outputs and its states' data need of the Program
that owns it. Both are Protocols, as Automat's typed builder requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from attrs import define, field
from twisted.internet.interfaces import IDelayedCall

from supervise.config.model import ProcessConfig
from supervise.interfaces import IChild
from supervise.process.host import ProcessHost
from supervise.process.interfaces import INotifyChannel, IReadinessCheck, ITreeKiller
from supervise.states import ProcessState


def cancel_call(call: IDelayedCall | None) -> None:
    """Cancel a state's timer if it is still pending (leaving a state cancels its own)."""
    if call is not None and call.active():
        call.cancel()


class ProcessInputs(Protocol):
    """Everything that can happen to a process; each is one machine input."""

    def start(self) -> None:
        """Someone asked the process to start."""

    def stop(self, restart: bool = False) -> None:
        """Someone asked the process to stop; ``restart``: start it again once stopped
        (a failed health check or watchdog)."""

    def send_signal(self, sig: int) -> None:
        """Someone asked to signal the process (``signalProcess``)."""

    def write_stdin(self, chunk: bytes) -> None:
        """Someone sent bytes for the process's stdin (``sendProcessStdin``)."""

    def give_up(self) -> None:
        """Stop retrying: too many retries, or a shutdown while backing off."""

    def start_failed(self, spawnerr: str, status: int | None) -> None:
        """The start failed: the spawn itself (``status`` None) or the child exited
        before it counted as started (its raw wait ``status``)."""

    def started(self, restored: bool = False) -> None:
        """The start succeeded: startsecs passed, the program is ready, or its daemon
        was found."""

    def not_ready(self, why: str) -> None:
        """The readiness check gave up: the start failed though the child still runs."""

    def child_exited(self, status: int) -> None:
        """The main process was reaped with this raw wait status (-1: unknown)."""

    def exited(self, status: int) -> None:
        """The process and its tree are gone: the exit counts now."""

    def backoff_elapsed(self) -> None:
        """The BACKOFF delay passed; time to retry."""

    def stop_timeout(self) -> None:
        """``stopwaitsecs`` passed while STOPPING."""

    def restart_after_exit(self) -> None:
        """The autorestart policy asks for a new start after EXITED."""

    def kill_failed(self) -> None:
        """Signalling the child failed in an unexpected way."""

    def watchdog_ping(self) -> None:
        """The program said ``WATCHDOG=1``."""

    def adopted(self, restored: bool = True) -> None:
        """A running process was taken over (re-exec, or a survivor of a dead daemon)."""

    def restore_exited(self) -> None:
        """The daemon's previous run left the process EXITED."""

    def restore_fatal(self) -> None:
        """The daemon's previous run left the process FATAL."""

    def restore_backoff(self, spawnerr: str, status: int | None) -> None:
        """The daemon's previous run left the process in BACKOFF: retry as it would have."""


@define(eq=False)
class ChildRun:
    """One child of a program: spawned, adopted or found, until it is reaped."""

    child: IChild
    pid: int
    env: Mapping[str, str] = field(factory=dict)
    #: Taken over rather than spawned (watch mode, a survivor of a dead daemon).
    external: bool = False
    notify: INotifyChannel | None = None
    notify_status: str = ""
    #: The raw wait status once the main process was reaped.
    exit_status: int | None = None


class MachineCore(Protocol):
    """What the machine's outputs and its states' data need from the owning Program."""

    config: ProcessConfig
    host: ProcessHost
    tree: ITreeKiller
    readiness: IReadinessCheck | None
    health: IReadinessCheck | None
    run: ChildRun | None
    tries: int
    spawns: int
    spawnerr: str
    exitstatus: int
    #: The last exit in words (``exit status 3``, ``terminated by SIGKILL``).
    exit_text: str
    start_time: float
    health_failures: int

    @property
    def namespec(self) -> str:
        """The process's ``group:name``."""

    @property
    def name(self) -> str:
        """The process name."""

    @property
    def group(self) -> str:
        """The group name."""

    def may_restart(self) -> bool:
        """True while automatic (re)starts are allowed (the daemon is RUNNING)."""

    def enter(self, state: ProcessState, **fields: object) -> None:
        """Record ``state`` and publish its event with ``fields``."""

    def recall(self, state: ProcessState) -> None:
        """Record ``state`` as a previous daemon left it, with no event."""

    def spawn(self, machine: ProcessInputs) -> ChildRun | None:
        """Start a child; None (and ``start_failed`` queued) if it cannot be started."""

    def adopt(self, pid: int, external: bool) -> ChildRun:
        """Watch ``pid`` as this program's process (ProcessLookupError if it is gone)."""

    def owns(self, pid: int) -> bool:
        """True if ``pid`` is already some program's child."""

    def find_watched(self) -> int | None:
        """The live process a ``watch =`` program stands for, if any."""

    def signal_child(self, machine: ProcessInputs, sig: int, group: bool) -> None:
        """Signal the main process (``kill_failed`` queued on an unexpected error)."""

    def reaped(self) -> None:
        """The run is over: flush and close its output, release its tree, forget it."""

    def ended(self, state: ProcessState, status: int, expected: bool, why: str) -> None:
        """The process ended for good (FATAL, or EXITED with no restart to come)."""
