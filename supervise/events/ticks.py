"""TICK_5, TICK_60 and TICK_3600: one timer per period, armed for the next boundary."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define, field
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from supervise.events.types import Tick5, Tick60, Tick3600, TickEvent
from supervise.interfaces import IEventBus

TICK_TYPES: tuple[type[TickEvent], ...] = (Tick5, Tick60, Tick3600)


@define(eq=False)
class Ticker:
    """Publishes a tick when the wall clock crosses each period's boundary.

    Like supervisord the first tick of a period comes at the next boundary after start.
    """

    clock: IReactorTime
    wall_clock: Callable[[], float]
    bus: IEventBus
    _calls: dict[type[TickEvent], IDelayedCall] = field(factory=dict)

    def start(self) -> None:
        """Arm every period."""
        for kind in TICK_TYPES:
            self._arm(kind)

    def stop(self) -> None:
        """Cancel every timer."""
        for call in self._calls.values():
            if call.active():
                call.cancel()
        self._calls.clear()

    def _arm(self, kind: type[TickEvent]) -> None:
        now = self.wall_clock()
        boundary = (int(now) // kind.period + 1) * kind.period
        self._calls[kind] = self.clock.callLater(boundary - now, self._fire, kind, boundary)

    def _fire(self, kind: type[TickEvent], boundary: int) -> None:
        self.bus.publish(kind(boundary))
        self._arm(kind)
