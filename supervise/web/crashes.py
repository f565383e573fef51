"""Which programs are crash-looping: the rule, and the recent unrequested exits it counts.

A program is **crash-looping** while it has ended on its own (an exit while RUNNING, or
a failed start that sent it to BACKOFF; never a stop that was asked for)
``CRASH_LOOP_EXITS`` times or more in the last ``CRASH_LOOP_WINDOW`` seconds. The daemon
sends each row's recent exit times and the rule; the console and ``supervisectl top``
apply it against their clock, so the mark clears by itself once the exits age out.
"""

from __future__ import annotations

from collections import deque

from supervise.events.types import ProcessStateBackoff, ProcessStateEvent, ProcessStateExited

#: Exits within the window that make a crash loop.
CRASH_LOOP_EXITS = 3
#: The window, seconds.
CRASH_LOOP_WINDOW = 300.0
#: The rule as sent to the console and ``top``.
CRASH_LOOP_RULE = {"exits": CRASH_LOOP_EXITS, "window": CRASH_LOOP_WINDOW}

# Exit times kept per process: enough to apply the rule, and a bound on memory.
_KEPT = 10


class RecentExits:
    """Each process's recent unrequested exits, from the state events on the bus."""

    def __init__(self) -> None:
        self.exits: dict[tuple[str, str], deque[float]] = {}

    def record(self, event: ProcessStateEvent) -> None:
        """Note ``event`` if it is an exit nobody asked for."""
        if isinstance(event, ProcessStateExited | ProcessStateBackoff):
            key = (event.group, event.process)
            self.exits.setdefault(key, deque(maxlen=_KEPT)).append(event.when)

    def recent(self, group: str, process: str, now: float) -> list[float]:
        """The process's exit times within the window before ``now``, oldest first."""
        return [t for t in self.exits.get((group, process), ()) if now - t <= CRASH_LOOP_WINDOW]
