"""The event bus: serial-numbered, in order, never re-entrant, bounded per listener."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from attrs import define, evolve, field
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from supervise.events.types import Event, ListenerOverflow
from supervise.interfaces import IEventBus, IEventListener, ISubscription

log = Logger()


@implementer(ISubscription)
@define(eq=False)
class Subscription:
    """One listener's queue on the bus (see DESIGN.md §3, bus contract)."""

    listener: IEventListener
    bus: EventBus
    types: tuple[type[Event], ...]
    max_pending: int
    queue: deque[Event] = field(factory=deque)
    dropped: int = 0
    failures: int = 0
    busy: bool = False
    cancelled: bool = False
    overflowing: bool = False
    call: Callable[[Event], object] = field(init=False, default=None)

    @property
    def pending(self) -> int:
        """Events waiting for this listener."""
        return len(self.queue)

    def cancel(self) -> None:
        """Stop delivering to this listener."""
        self.cancelled = True
        self.queue.clear()
        self.bus.forget(self)

    def offer(self, event: Event) -> None:
        """Deliver ``event`` now, or queue it while the listener is busy."""
        if self.cancelled or not isinstance(event, self.types):
            return
        if self.busy:
            if len(self.queue) >= self.max_pending:
                self.queue.popleft()
                self.dropped += 1
                if not self.overflowing:
                    # Once per episode (until the queue drains), so a listener of
                    # every event cannot feed its own overflow.
                    self.overflowing = True
                    log.warn(
                        "listener {listener} is too slow: its queue of {size} is full, dropping the "
                        "oldest events (dropped {dropped} so far)",
                        listener=self.listener.name,
                        size=self.max_pending,
                        dropped=self.dropped,
                    )
                    self.bus.publish(ListenerOverflow(str(self.listener.name), self.dropped))
            self.queue.append(event)
            return
        self._deliver(event)

    def __attrs_post_init__(self) -> None:
        # What delivering one event calls: a callback listener's function directly.
        self.call = (
            self.listener.callback
            if isinstance(self.listener, CallbackListener)
            else self.listener.notify
        )

    def _deliver(self, event: Event) -> None:
        try:
            result = self.call(event)
        except Exception:
            self._failed(Failure(), event)  # type: ignore[no-untyped-call]
            return
        # Most listeners return None: skip the (costly) isinstance check against Deferred.
        if result is not None and isinstance(result, Deferred):
            self.busy = True
            result.addCallbacks(self._done, self._failed_async, errbackArgs=(event,))

    def _failed(self, failure: Failure, event: Event) -> None:
        self.failures += 1
        log.failure(
            "listener {listener} failed on event {serial} ({type})",
            failure,
            listener=self.listener.name,
            serial=event.serial,
            type=event.type_name,
        )

    def _failed_async(self, failure: Failure, event: Event) -> None:
        self._failed(failure, event)
        self._done(None)

    def _done(self, _: object) -> None:
        self.busy = False
        while self.queue and not self.busy and not self.cancelled:
            self._deliver(self.queue.popleft())
        if not self.queue:
            self.overflowing = False


@implementer(IEventBus)
@define(eq=False)
class EventBus:
    """Delivers every published event to every subscribed listener, in order.

    :ivar wall_clock: gives ``when`` (seconds since the epoch) for each event.
    """

    wall_clock: Callable[[], float]
    _subscriptions: list[Subscription] = field(factory=list)
    _queue: deque[Event] = field(factory=deque)
    _delivering: bool = False
    _serial: int = 0

    def publish(self, event: Event) -> Event:
        """Stamp ``event`` with its serial and time, deliver it, and return it.

        An event is published once, right after it is made; it is stamped in place (it is
        frozen for its listeners), which costs far less than a copy per event.
        """
        self._serial += 1
        if event.serial:  # published before: listeners keep the first copy as it was
            event = evolve(event, serial=self._serial, when=self.wall_clock())
        else:
            object.__setattr__(event, "serial", self._serial)
            object.__setattr__(event, "when", self.wall_clock())
        self._queue.append(event)
        if not self._delivering:
            self._drain()
        return event

    def _drain(self) -> None:
        self._delivering = True
        try:
            while self._queue:
                event = self._queue.popleft()
                for subscription in tuple(self._subscriptions):
                    if subscription.busy or subscription.cancelled:
                        subscription.offer(event)  # queued, or dropped when cancelled
                    elif isinstance(event, subscription.types):
                        # Fast path (DESIGN.md §7): a listener that keeps up is called at
                        # once, skipping offer's checks made just above.
                        subscription._deliver(event)
        finally:
            self._delivering = False

    def subscribe(self, listener: IEventListener) -> Subscription:
        """Subscribe ``listener`` to the event types it declares."""
        subscription = Subscription(
            listener, self, tuple(listener.event_types), int(listener.max_pending)
        )
        self._subscriptions.append(subscription)
        return subscription

    def forget(self, subscription: Subscription) -> None:
        """Remove a cancelled subscription."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)


@implementer(IEventListener)
@define(eq=False)
class CallbackListener:
    """A listener that calls a function: the fast path for in-process consumers."""

    name: str
    event_types: tuple[type[Event], ...]
    callback: Callable[[Event], object]
    max_pending: int = 1000

    def notify(self, event: Event) -> object:
        """Call the callback with the event."""
        return self.callback(event)
