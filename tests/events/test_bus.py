"""Layer 2: the bus delivers in order, never re-entrantly, isolates failures, stays bounded."""

from twisted.internet.defer import Deferred

from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import (
    Event,
    ListenerOverflow,
    ProcessGroupAdded,
    ProcessStateEvent,
    ProcessStateRunning,
    Tick5,
)
from supervise.states import ProcessState


def make_bus():
    return EventBus(lambda: 1234.5)


def test_serials_increase_and_types_filter():
    """Serials grow by one; a listener gets only the types it asked for (subclasses too)."""
    bus = make_bus()
    seen = []
    bus.subscribe(CallbackListener("states", (ProcessStateEvent,), seen.append))
    bus.publish(Tick5(5))
    bus.publish(ProcessStateRunning("g", "p", ProcessState.STARTING, pid=7))
    assert [(type(e).__name__, e.serial, e.when) for e in seen] == [
        ("ProcessStateRunning", 2, 1234.5)
    ]


def test_publish_during_delivery_is_queued_not_nested():
    """An event published by a listener is delivered after the current one reached everyone."""
    bus = make_bus()
    order = []

    def first(event):
        order.append(("first", event.group))
        if event.group == "a":
            bus.publish(ProcessGroupAdded("b"))

    bus.subscribe(CallbackListener("first", (Event,), first))
    bus.subscribe(CallbackListener("second", (Event,), lambda e: order.append(("second", e.group))))
    bus.publish(ProcessGroupAdded("a"))
    assert order == [("first", "a"), ("second", "a"), ("first", "b"), ("second", "b")]


def test_failing_listener_harms_no_other():
    """A listener that raises is counted; the others still get every event."""
    bus = make_bus()
    got = []

    def broken(event):
        raise RuntimeError("boom")

    sub = bus.subscribe(CallbackListener("broken", (Event,), broken))
    bus.subscribe(CallbackListener("ok", (Event,), got.append))
    bus.publish(Tick5(5))
    bus.publish(Tick5(10))
    assert (len(got), sub.failures) == (2, 2)


def test_busy_listener_queue_is_bounded_and_ordered():
    """While a listener's Deferred is pending its events queue, oldest dropped past the bound."""
    bus = make_bus()
    seen = []
    pending = []

    def slow(event):
        seen.append(event.boundary)
        d = Deferred()
        pending.append(d)
        return d

    sub = bus.subscribe(CallbackListener("slow", (Tick5,), slow, max_pending=2))
    overflows = []
    bus.subscribe(CallbackListener("watcher", (ListenerOverflow,), overflows.append))
    for boundary in (5, 10, 15, 20):
        bus.publish(Tick5(boundary))
    assert (seen, sub.pending, sub.dropped) == ([5], 2, 1)
    assert [(e.listener, e.dropped) for e in overflows] == [("slow", 1)]
    pending[0].callback(None)
    pending[1].callback(None)
    pending[2].callback(None)
    assert seen == [5, 15, 20]


def test_cancelled_subscription_gets_nothing():
    """After cancel() a listener receives no more events."""
    bus = make_bus()
    got = []
    sub = bus.subscribe(CallbackListener("x", (Event,), got.append))
    sub.cancel()
    bus.publish(Tick5(5))
    assert got == []
