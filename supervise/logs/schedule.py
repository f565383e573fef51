"""When a log rotated by time (``*_rotate_every``) rotates next.

Boundaries are aligned to the wall clock in local time, counted from Monday 1970-01-05
00:00: ``1h`` rotates on the hour, ``30m`` at :00 and :30, ``1d`` at midnight, ``7d``
at midnight between Sunday and Monday. A restart does not move them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: Seconds from the epoch to Monday 1970-01-05 00:00 (in the same local time).
ORIGIN = 4 * 86400

#: The offset of local time from UTC at a moment (seconds east of UTC).
UtcOffset = Callable[[float], int]


def local_offset(moment: float) -> int:
    """This machine's offset from UTC at ``moment`` (follows DST and ``TZ``)."""
    return time.localtime(moment).tm_gmtoff


def next_boundary(now: float, period: int, utc_offset: UtcOffset = local_offset) -> float:
    """The first boundary of ``period`` seconds strictly after ``now`` (epoch seconds)."""
    local = now + utc_offset(now)
    steps = math.floor((local - ORIGIN) / period) + 1
    boundary_local = ORIGIN + steps * period
    boundary = boundary_local - utc_offset(boundary_local - utc_offset(now))
    while boundary <= now:  # a DST change between now and the boundary
        boundary += period
    return boundary
