"""``[eventlistener:x]`` pools: buffer events, hand each to one READY listener.

supervisord's rules (SUPERVISOR.md §7.3, §7.4): a FIFO of ``buffer_size`` events per
pool (a full buffer drops the oldest, logged); an event goes to the first listener whose
process is RUNNING and whose protocol state is READY; a rejected event, or one held by a
listener that dies, goes back to the head of the buffer. Unlike supervisord, dispatch
happens the moment a listener becomes ready, not on the next loop pass.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from attrs import define, field
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from supervise.config.model import GroupConfig
from supervise.config.values import import_spec
from supervise.errors import NotRunning
from supervise.events.bus import CallbackListener
from supervise.events.types import (
    EVENT_TYPES_BY_NAME,
    Event,
    EventBufferOverflow,
    ProcessStateEvent,
    SuperviseEvent,
)
from supervise.events.wire import envelope
from supervise.interfaces import IEventBus, ISubscription
from supervise.process.listener import ListenerChannel, Queued, default_handler
from supervise.process.program import Program
from supervise.states import ListenerState, ProcessState

log = Logger()

DEFAULT_HANDLER = "supervisor.dispatchers:default_handler"


@define(eq=False)
class WireSerials:
    """supervisord's global event serial: one number per event accepted by any pool."""

    serial: int = -1
    _last_bus_serial: int = -1

    def for_event(self, event: Event) -> int:
        """The same number for every pool that accepts the same event."""
        if event.serial != self._last_bus_serial:
            self._last_bus_serial = event.serial
            self.serial += 1
        return self.serial


def resolve_handler(spec: str) -> Callable[[Event, bytes], None]:
    """The ``result_handler`` callable (supervisord's default is built in)."""
    if spec == DEFAULT_HANDLER:
        return default_handler
    return import_spec(spec)  # type: ignore[no-any-return]


@define(eq=False)
class ListenerPool:
    """One pool of listener processes and its event buffer."""

    config: GroupConfig
    programs: list[Program]
    bus: IEventBus
    identifier: str
    serials: WireSerials
    channels: dict[str, ListenerChannel] = field(factory=dict)
    buffer: deque[Queued] = field(factory=deque)
    pool_serial: int = -1
    subscription: ISubscription | None = None
    lifecycle: ISubscription | None = None
    _members: dict[tuple[str, str], ListenerChannel] = field(factory=dict)
    _drain_waiters: list[Deferred[None]] = field(factory=list)

    def start(self) -> None:
        """Wire the listener processes and subscribe to the pool's events."""
        handler = resolve_handler(self.config.result_handler)
        for program in self.programs:
            channel = ListenerChannel(program.namespec, handler, self.dispatch, self.rebuffer)
            self.channels[program.name] = channel
            self._members[(program.group, program.name)] = channel
            program.stdout_listener = channel.feed
        types = tuple(EVENT_TYPES_BY_NAME[name] for name in self.config.events)
        named_own = tuple(t for t in types if issubclass(t, SuperviseEvent))
        self.subscription = self.bus.subscribe(
            CallbackListener(f"pool:{self.config.name}", types, lambda e: self.accept(e, named_own))
        )
        self.lifecycle = self.bus.subscribe(
            CallbackListener(
                f"pool:{self.config.name}:listeners", (ProcessStateEvent,), self._state_event
            )
        )

    def stop(self) -> None:
        """Stop receiving events."""
        if self.subscription is not None:
            self.subscription.cancel()
            self.subscription = None
        if self.lifecycle is not None:
            self.lifecycle.cancel()
            self.lifecycle = None

    def accept(self, event: Event, named_own: tuple[type[Event], ...] = ()) -> None:
        """Buffer an event (our own event types only when named in ``events=``)."""
        if isinstance(event, SuperviseEvent) and not isinstance(event, named_own):
            return
        self.pool_serial += 1
        self._buffer(Queued(event, self.serials.for_event(event), self.pool_serial), head=False)
        self.dispatch()

    def rebuffer(self, queued: Queued) -> None:
        """Put a rejected event back at the head of the buffer."""
        self._buffer(queued, head=True)

    def _buffer(self, queued: Queued, head: bool) -> None:
        if len(self.buffer) >= self.config.buffer_size:
            dropped = self.buffer.popleft()
            log.error(
                "pool {pool} event buffer overflowed, discarding event {serial}",
                pool=self.config.name,
                serial=dropped.serial,
            )
            self.bus.publish(
                EventBufferOverflow(self.config.name, dropped.event.type_name, dropped.serial)
            )
        if head:
            self.buffer.appendleft(queued)
        else:
            self.buffer.append(queued)

    def dispatch(self) -> None:
        """Send buffered events to READY listeners while there are both."""
        while self.buffer:
            target = self._ready_listener()
            if target is None:
                self._check_drained()
                return
            program, channel = target
            queued = self.buffer.popleft()
            data = envelope(
                queued.event, self.identifier, queued.serial, self.config.name, queued.pool_serial
            )
            try:
                program.write_stdin(data)
            except (NotRunning, OSError):
                self.buffer.appendleft(queued)
                return
            channel.sent(queued)
        self._check_drained()

    def _ready_listener(self) -> tuple[Program, ListenerChannel] | None:
        for program in self.programs:
            channel = self.channels[program.name]
            if program.state is ProcessState.RUNNING and channel.state is ListenerState.READY:
                return program, channel
        return None

    def idle(self) -> bool:
        """Nothing buffered and no listener holding an event."""
        return not self.buffer and all(
            c.state is not ListenerState.BUSY for c in self.channels.values()
        )

    def drained(self, clock: IReactorTime, timeout: float) -> Deferred[None]:
        """Fire when the pool is idle, or after ``timeout`` seconds, whichever is first."""
        done: Deferred[None] = Deferred()
        if self.idle() or not any(p.state is ProcessState.RUNNING for p in self.programs):
            done.callback(None)
            return done
        self._drain_waiters.append(done)

        def expire() -> None:
            if not done.called:
                done.callback(None)

        timer = clock.callLater(timeout, expire)

        def stop_timer(result: None) -> None:
            if timer.active():
                timer.cancel()
            return result

        done.addBoth(stop_timer)
        return done

    def _check_drained(self) -> None:
        if self._drain_waiters and self.idle():
            waiters, self._drain_waiters = self._drain_waiters, []
            for waiter in waiters:
                if not waiter.called:
                    waiter.callback(None)

    def _state_event(self, event: Event) -> None:
        """A listener process changed state: its protocol starts over, or it died."""
        assert isinstance(event, ProcessStateEvent)
        channel = self._members.get((event.group, event.process))
        if channel is None:
            return
        state = event.state
        if state is ProcessState.STARTING:
            channel.reset()
        elif state is ProcessState.RUNNING:
            self.dispatch()
        elif state is not ProcessState.STOPPING:
            channel.died()
            self.dispatch()
