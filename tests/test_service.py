"""Layer 3: the service's wiring choices."""

import time

from twisted.internet.task import Clock

from supervise.service import use_monotonic_clock


def test_reactor_switched_to_monotonic_only_when_nothing_is_scheduled():
    """Deadlines use time.monotonic, unless something was already scheduled on the old clock."""
    fresh = Clock()
    assert use_monotonic_clock(fresh) and fresh.seconds is time.monotonic
    busy = Clock()
    busy.callLater(5, lambda: None)
    assert not use_monotonic_clock(busy) and busy.seconds is not time.monotonic
