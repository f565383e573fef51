"""Layer 2: TICK events come at wall-clock boundaries, one timer per period."""

from twisted.internet.task import Clock

from supervise.events.bus import CallbackListener, EventBus
from supervise.events.ticks import Ticker
from supervise.events.types import TickEvent


def test_ticks_fire_at_boundaries():
    """The first TICK_5 comes at the next multiple of 5 s, then every 5 s; TICK_60 each minute."""
    clock = Clock()
    clock.advance(1002.5)
    bus = EventBus(clock.seconds)
    ticks = []
    bus.subscribe(CallbackListener("t", (TickEvent,), ticks.append))
    ticker = Ticker(clock, clock.seconds, bus)
    ticker.start()
    for _ in range(130):
        clock.advance(1)
    fives = [t.boundary for t in ticks if t.type_name == "TICK_5"]
    minutes = [t.boundary for t in ticks if t.type_name == "TICK_60"]
    assert fives[:3] == [1005, 1010, 1015] and len(fives) == 26
    assert minutes == [1020, 1080]
    ticker.stop()
    assert clock.getDelayedCalls() == []
