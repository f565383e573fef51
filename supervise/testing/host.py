"""Fakes of the process core's OS collaborators (process/interfaces.py): a process
table, file watches, sd_notify sockets, probes and process trees the test drives."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field
from twisted.internet.defer import CancelledError, Deferred
from zope.interface import implementer

from supervise.process.interfaces import (
    IFileWatcher,
    INotifyChannel,
    INotifySockets,
    IProcessTable,
    IReadinessCheck,
    ITreeKiller,
)
from supervise.process.spec import SpawnSpec


@implementer(IProcessTable)
@define(eq=False)
class FakeProcessTable:
    """A process table the test writes: live pids, command lines, pidfile contents.

    :ivar processes: pid → command line of every live process.
    :ivar pidfiles: path → (pid, written at).
    """

    processes: dict[int, str] = field(factory=dict)
    pidfiles: dict[str, tuple[int, float]] = field(factory=dict)
    started: dict[int, float] = field(factory=dict)
    signalled: list[tuple[int, int]] = field(factory=list)

    def signal(self, pid: int, sig: int) -> None:
        """A signal ends the process (it leaves the table)."""
        self.signalled.append((pid, sig))
        self.processes.pop(pid, None)

    def start_ticks(self, pid: int) -> int | None:
        """A fixed tick count per live pid."""
        return pid * 100 if pid in self.processes else None

    def start_time(self, pid: int) -> float | None:
        """When the test said ``pid`` started."""
        return self.started.get(pid) if pid in self.processes else None

    def find(self, pattern: Any, user: str | None, exclude: Callable[[int], bool]) -> int | None:
        """The lowest live pid whose command line matches."""
        found = [p for p, line in self.processes.items() if pattern.search(line) and not exclude(p)]
        return min(found) if found else None

    def pidfile_pid(self, path: str, written_since: float) -> int | None:
        """The live pid a pidfile names, if written since ``written_since``."""
        entry = self.pidfiles.get(path)
        if entry is None or entry[1] < written_since - 1 or entry[0] not in self.processes:
            return None
        return entry[0]


@implementer(IFileWatcher)
@define(eq=False)
class FakeFiles:
    """File watches the test fires with ``changed(path)``."""

    watchers: dict[str, list[Callable[[], None]]] = field(factory=dict)

    def watch(self, path: str, on_change: Callable[[], None]) -> Callable[[], None]:
        """Remember the watch; the returned function ends it."""
        self.watchers.setdefault(path, []).append(on_change)
        return lambda: self.watchers.get(path, []).remove(on_change)

    def changed(self, path: str) -> None:
        """``path`` changed: call its watchers."""
        for on_change in list(self.watchers.get(path, [])):
            on_change()


@implementer(INotifyChannel)
@define(eq=False)
class FakeNotifyChannel:
    """An sd_notify socket; the test sends with ``send("READY=1")``."""

    address: str
    on_message: Callable[[str, str], None]
    closed: bool = False

    def send(self, line: str) -> None:
        """The program sent ``line``."""
        if not self.closed:
            key, _, value = line.partition("=")
            self.on_message(key, value)

    def close(self) -> None:
        """Stop listening."""
        self.closed = True


@implementer(INotifySockets)
@define(eq=False)
class FakeNotifySockets:
    """Opens FakeNotifyChannels; ``last`` is the newest."""

    opened: list[FakeNotifyChannel] = field(factory=list)

    def open(self, label: str, on_message: Callable[[str, str], None]) -> FakeNotifyChannel:
        """A new channel."""
        channel = FakeNotifyChannel(f"@fake-{label}", on_message)
        self.opened.append(channel)
        return channel

    @property
    def last(self) -> FakeNotifyChannel:
        """The newest channel."""
        return self.opened[-1]


@implementer(IReadinessCheck)
@define(eq=False)
class FakeCheck:
    """A probe whose attempts the test answers: ``answer(True)`` fires the pending one.

    :ivar attempts: every attempt's Deferred, in order.
    """

    description: str
    attempts: list[Deferred[bool]] = field(factory=list)
    cancelled: int = 0

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """A new pending attempt."""

        def cancel(_: Deferred[bool]) -> None:
            self.cancelled += 1

        attempt: Deferred[bool] = Deferred(cancel)
        attempt.addErrback(lambda failure: failure.trap(CancelledError) and False)
        self.attempts.append(attempt)
        return attempt

    def answer(self, passed: bool) -> None:
        """The pending attempt passes or fails."""
        pending = [a for a in self.attempts if not a.called]
        assert pending, f"no pending attempt of {self.description}"
        pending[-1].callback(passed)


@implementer(ITreeKiller)
@define(eq=False)
class FakeTree:
    """A program's tree the test populates: ``members`` beyond the main process.

    :ivar signals: (member, signal) sent to members; a member dies on SIGKILL, or on any
        signal unless listed in ``stubborn``.
    """

    members: list[int] = field(factory=list)
    stubborn: set[int] = field(factory=set)
    signals: list[tuple[int, int]] = field(factory=list)
    remembered: list[int] = field(factory=list)
    empty: Deferred[None] | None = None
    released: int = 0

    def prepare(self, spec: SpawnSpec, label: str) -> SpawnSpec:
        """Unchanged."""
        return spec

    def remember(self, pid: int) -> None:
        """Note the members now."""
        self.remembered = list(self.members)

    def signal_rest(self, pid: int, sig: int) -> None:
        """Signal each member; they die unless stubborn (SIGKILL always kills)."""
        for member in list(self.members):
            self.signals.append((member, sig))
            if sig == signal.SIGKILL or member not in self.stubborn:
                self.members.remove(member)
        if not self.members and self.empty is not None and not self.empty.called:
            self.empty.callback(None)

    def when_empty(self, pid: int) -> Deferred[None]:
        """Fire once no member is left."""
        self.empty = Deferred()
        if not self.members:
            self.empty.callback(None)
        return self.empty

    def release(self) -> int:
        """Count releases."""
        self.released += 1
        return 0
