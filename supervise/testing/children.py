"""FakeSpawner and FakeChild: children that live until the test says they exit."""

from __future__ import annotations

import signal
from collections.abc import Mapping

from attrs import define, field
from zope.interface import implementer

from supervise.errors import NotRunning, ProcessGone
from supervise.interfaces import IChild, IChildProtocol, IProcessSpawner
from supervise.process.spec import SpawnSpec


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

    def adopt(
        self,
        pid: int,
        protocol: IChildProtocol,
        fds: Mapping[str, int] | None = None,
        label: str = "",
    ) -> FakeChild:
        """Watch an existing pid: a FakeChild the test can end."""
        spec = SpawnSpec(filename="", argv=(), env={})
        child = FakeChild(pid, spec, protocol, dies_on_signal=self.dies_on_signal)
        self.children.append(child)
        return child

    def owns(self, pid: int) -> bool:
        """True for pids of live fake children."""
        return any(c.pid == pid and c.alive for c in self.children)

    @property
    def last(self) -> FakeChild:
        """The most recently spawned child."""
        return self.children[-1]

    def live(self) -> list[FakeChild]:
        """Children still alive."""
        return [c for c in self.children if c.alive]
