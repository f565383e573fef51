"""What Program's behaviour mixins may use of it, declared once for the type checker."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall

from supervise.config.model import ProcessConfig
from supervise.interfaces import IChild, IEventBus, IProcessSpawner
from supervise.logs.channel import OutputChannel
from supervise.process.daemonized import PidfileWait
from supervise.process.machine import ProcessInputs
from supervise.process.readiness import NotifySocket
from supervise.process.watch import SuccessorSearch
from supervise.states import ProcessState

if TYPE_CHECKING:
    from supervise.process.spec import SpawnContext


class ProgramParts:
    """Program's fields and core methods, as its mixins see them."""

    # Provided by Program (attrs fields and methods); declared for the type checker.
    config: ProcessConfig
    clock: Any
    wall_clock: Callable[[], float]
    spawner: IProcessSpawner
    bus: IEventBus
    context: SpawnContext
    machine: ProcessInputs
    state: ProcessState
    child: IChild | None
    pid: int
    start_time: float
    stop_time: float
    spawns: int
    spawnerr: str
    exitstatus: int
    stdout: OutputChannel
    stderr: OutputChannel
    _timer: IDelayedCall | None
    _readiness: Deferred[Any] | None
    _launcher_running: bool
    _pidfile_wait: PidfileWait | None
    _successor: SuccessorSearch | None
    _watchdog: IDelayedCall | None
    notify: NotifySocket | None
    health_failures: int
    external: bool
    _ticks: tuple[int, int | None]
    may_restart: Callable[[], bool]

    @property
    def namespec(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def group(self) -> str:
        raise NotImplementedError

    def watch(self, watcher: Callable[[ProcessState], bool]) -> None: ...
    def enter(self, state: ProcessState, **fields: Any) -> None: ...
    def _send(self, machine: ProcessInputs, sig: int, group: bool) -> None: ...
    def _arm_startsecs(self, machine: ProcessInputs) -> None: ...
