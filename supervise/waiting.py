"""The one waiter primitive: wait until processes satisfy a condition.

Fed by the bus's ``PROCESS_STATE_*`` events (DESIGN.md §4 rule 4: waiters learn of a
change through its one event), decided at the event and fired on a later reactor turn,
so a waiter's callbacks never run inside a process machine's transition. Deadlines are
``callLater`` on the injected clock; nothing polls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import define, evolve, field
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from supervise.events.bus import CallbackListener
from supervise.events.types import Event, ProcessStateEvent
from supervise.interfaces import IEventBus
from supervise.results import WaitTimedOut
from supervise.snapshot import ProcessSnapshot

#: A process as (group name, process name), the names its events carry.
Key = tuple[str, str]


@define(eq=False)
class _Waiter:
    """One wait: the processes watched, the condition, the Deferred to fire."""

    namespecs: tuple[str, ...]
    keys: tuple[Key, ...]
    predicate: Callable[[ProcessSnapshot], bool]
    done: Deferred[list[ProcessSnapshot]]
    timer: IDelayedCall | None = None
    decided: bool = False


@define(eq=False)
class StateWaiters:
    """Every pending wait of one daemon, behind one bus subscription.

    :ivar lookup: the current snapshot of a process, None once it is gone (its group
        removed): such a wait ends only at its timeout.
    """

    bus: IEventBus
    clock: IReactorTime
    lookup: Callable[[Key], ProcessSnapshot | None]
    _waiting: dict[Key, list[_Waiter]] = field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.bus.subscribe(CallbackListener("state-waiters", (ProcessStateEvent,), self._changed))

    def when(
        self,
        processes: Sequence[tuple[str, Key]],
        predicate: Callable[[ProcessSnapshot], bool],
        timeout: float | None = None,
    ) -> Deferred[list[ProcessSnapshot]]:
        """Fire with the snapshots once every process satisfies ``predicate``.

        :param processes: ``(namespec, (group, name))`` of each process to wait for.
        :param timeout: seconds; then fail with ``WaitTimedOut``.
        """
        waiter = _Waiter(
            tuple(n for n, _ in processes),
            tuple(k for _, k in processes),
            predicate,
            Deferred(lambda _: self._forget(waiter)),
        )
        snapshots = self._current(waiter)
        if snapshots is not None and all(predicate(s) for s in snapshots):
            self._decide(waiter, snapshots)
            return waiter.done
        for key in set(waiter.keys):
            self._waiting.setdefault(key, []).append(waiter)
        if timeout is not None:
            waiter.timer = self.clock.callLater(max(0.0, timeout), self._expire, waiter)
        return waiter.done

    def _changed(self, event: Event) -> None:
        assert isinstance(event, ProcessStateEvent)
        key = (event.group, event.process)
        for waiter in tuple(self._waiting.get(key, ())):
            snapshots = self._current(waiter)
            if snapshots is None:
                continue
            # Judge the state this event reports: a later one may already be recorded
            # when the bus delivers late (an event published during another's delivery).
            snapshots = [
                evolve(s, state=event.state) if k == key else s
                for k, s in zip(waiter.keys, snapshots, strict=True)
            ]
            if all(waiter.predicate(s) for s in snapshots):
                self._forget(waiter)
                self._decide(waiter, snapshots)

    def _current(self, waiter: _Waiter) -> list[ProcessSnapshot] | None:
        found = []
        for key in waiter.keys:
            snapshot = self.lookup(key)
            if snapshot is None:
                return None
            found.append(snapshot)
        return found

    def _decide(self, waiter: _Waiter, snapshots: list[ProcessSnapshot]) -> None:
        waiter.decided = True
        self.clock.callLater(0, _fire, waiter, snapshots)

    def _expire(self, waiter: _Waiter) -> None:
        waiter.timer = None
        if waiter.decided:
            return
        self._forget(waiter)
        waiter.decided = True
        snapshots = self._current(waiter)
        if snapshots is None:
            missing, snapshots = waiter.namespecs, []
        else:
            missing = tuple(
                n
                for n, s in zip(waiter.namespecs, snapshots, strict=True)
                if not waiter.predicate(s)
            )
        waiter.done.errback(WaitTimedOut(missing, tuple(snapshots)))

    def _forget(self, waiter: _Waiter) -> None:
        for key in set(waiter.keys):
            waiting = self._waiting.get(key)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self._waiting[key]
        if waiter.timer is not None and waiter.timer.active():
            waiter.timer.cancel()
        waiter.timer = None

    @property
    def pending(self) -> int:
        """Waits not decided yet."""
        return len({id(w) for waiting in self._waiting.values() for w in waiting})


def _fire(waiter: _Waiter, snapshots: list[ProcessSnapshot]) -> None:
    if not waiter.done.called:  # not cancelled meanwhile
        waiter.done.callback(snapshots)
