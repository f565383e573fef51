"""Public fakes for tests of supervise and of plugins: a spawner whose children exit
when the test says, and a harness wiring programs to a fake clock and a bus."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

from attrs import define, field
from twisted.internet.task import Clock
from zope.interface import implementer

from supervise.config.model import ProcessConfig
from supervise.errors import NotRunning, ProcessGone
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import Event, ProcessStateEvent
from supervise.interfaces import IChild, IChildProtocol, IProcessSpawner
from supervise.process.program import Program, SpawnContext
from supervise.process.spawner import SpawnSpec
from supervise.states import ProcessState


@implementer(IChild)
@define(eq=False)
class FakeChild:
    """A child that lives until ``exit`` or ``kill`` is called by the test."""

    pid: int
    spec: SpawnSpec
    protocol: IChildProtocol
    signals: list[tuple[int, bool]] = field(factory=list)
    stdin: bytearray = field(factory=bytearray)
    alive: bool = True
    dies_on_signal: bool = True

    def signal(self, sig: int, group: bool = False) -> None:
        """Record the signal; by default a signal kills the child at once."""
        if not self.alive:
            raise ProcessGone(self.pid)
        self.signals.append((sig, group))
        if self.dies_on_signal or sig == signal.SIGKILL:
            self.kill(sig)

    def write_stdin(self, data: bytes) -> None:
        """Record bytes written to stdin."""
        if not self.alive:
            raise NotRunning(str(self.pid))
        self.stdin += data

    def close_stdin(self) -> None:
        """Nothing to close."""

    def exit(self, code: int = 0) -> None:
        """The child exits with ``code``."""
        self._end(code << 8)

    def kill(self, sig: int) -> None:
        """The child dies of ``sig``."""
        self._end(sig)

    def write(self, stream: str, data: bytes) -> None:
        """The child writes output."""
        self.protocol.output(stream, data)

    def _end(self, status: int) -> None:
        if self.alive:
            self.alive = False
            self.protocol.exited(status)


@implementer(IProcessSpawner)
@define(eq=False)
class FakeSpawner:
    """Hands out FakeChildren; set ``fail_next`` to an exception to fail one spawn."""

    children: list[FakeChild] = field(factory=list)
    next_pid: int = 1000
    fail_next: Exception | None = None
    dies_on_signal: bool = True

    def spawn(self, spec: SpawnSpec, protocol: IChildProtocol) -> FakeChild:
        """Create a live FakeChild."""
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.next_pid += 1
        child = FakeChild(self.next_pid, spec, protocol, dies_on_signal=self.dies_on_signal)
        self.children.append(child)
        return child

    @property
    def last(self) -> FakeChild:
        """The most recently spawned child."""
        return self.children[-1]

    def live(self) -> list[FakeChild]:
        """Children still alive."""
        return [c for c in self.children if c.alive]


@define(eq=False)
class Harness:
    """Programs on a fake clock and fake spawner, with every event recorded."""

    tmpdir: str
    clock: Clock = field(factory=Clock)
    spawner: FakeSpawner = field(factory=FakeSpawner)
    bus: EventBus = field(init=False)
    events: list[Event] = field(factory=list)
    programs: dict[str, Program] = field(factory=dict)
    restarts_allowed: bool = True

    def __attrs_post_init__(self) -> None:
        self.bus = EventBus(self.clock.seconds)
        self.bus.subscribe(CallbackListener("recorder", (Event,), self.events.append))

    def add(self, name: str, command: str = "/bin/true", **options: object) -> Program:
        """Add a program (its options are ProcessConfig fields)."""
        config = ProcessConfig(name=name, group=name, program=name, command=command, **options)  # type: ignore[arg-type]
        context = SpawnContext(
            environ=dict(os.environ), server_url=None, childlogdir=self.tmpdir, identifier="test"
        )
        program = Program(
            config, self.clock, self.clock.seconds, self.spawner, self.bus, context,
            may_restart=lambda: self.restarts_allowed,
        )  # fmt: skip
        self.programs[name] = program
        return program

    def states(self, name: str) -> list[ProcessState]:
        """The states ``name`` entered, in order."""
        return [
            e.state for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name
        ]

    def state_events(self, name: str) -> Iterable[ProcessStateEvent]:
        """The state events of ``name``."""
        return [e for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name]
