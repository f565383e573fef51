"""Scheduled programs (``schedule = CRON``): a timer on the injected clock starts the
program at each tick of its cron expression; a tick that finds the previous run still
going is skipped, with an event and a main-log line.

The next tick is computed by cronsim in the program's time zone (``schedule_timezone``,
else the daemon's local zone), so daylight-saving changes are cron's: a time that does
not exist runs at the first minute after the change, a time that happens twice runs once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from attrs import define, field
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from supervise.errors import SuperviseError
from supervise.events.types import ScheduleSkipped
from supervise.interfaces import IEventBus
from supervise.states import ProcessState

if TYPE_CHECKING:
    from supervise.process.program import Program

log = Logger(namespace="supervise.supervisor")

#: States from which a tick starts the program; in any other, the tick is skipped.
STARTABLE = frozenset({ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL})


def zone_named(name: str | None) -> tzinfo:
    """``name``'s zone, or the daemon's local zone (``TZ``, then /etc/localtime, else UTC)."""
    from zoneinfo import ZoneInfo

    if name is not None:
        return ZoneInfo(name)
    local = os.environ.get("TZ", "").lstrip(":")
    try:
        if local:
            return ZoneInfo(local)
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return UTC


def next_tick(cron: str, zone: tzinfo, now: float) -> float:
    """The first tick of ``cron`` strictly after ``now`` (epoch seconds), read in ``zone``."""
    from cronsim import CronSim

    return next(CronSim(cron, datetime.fromtimestamp(now, zone))).timestamp()


@define(eq=False)
class ProgramSchedule:
    """One scheduled program's timer.

    :ivar start: starts the program (the supervisor's, dependencies first).
    """

    program: Program
    clock: IReactorTime
    wall_clock: Callable[[], float]
    bus: IEventBus
    start: Callable[[Program], None]
    zone: tzinfo = field(init=False)
    _call: IDelayedCall | None = field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        self.zone = zone_named(self.program.config.extras.schedule_timezone)

    @property
    def cron(self) -> str:
        """The program's cron expression."""
        schedule = self.program.config.extras.schedule
        assert schedule is not None
        return schedule

    def arm(self) -> None:
        """Plan the next tick (the program's ``next_run`` says when)."""
        self.cancel()
        now = self.wall_clock()
        due = next_tick(self.cron, self.zone, now)
        self.program.next_run = due
        self._call = self.clock.callLater(max(0.0, due - now), self._tick, due)

    def cancel(self) -> None:
        """No more ticks."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        self.program.next_run = 0.0

    def _tick(self, due: float) -> None:
        self._call = None
        if self.wall_clock() >= due:
            self.fire()
        self.arm()  # early (the wall clock was set back): the same tick, planned again

    def fire(self) -> None:
        """One tick: start the program unless it is disabled or still running."""
        program = self.program
        if program.disabled:
            log.info("{name}: scheduled start skipped (disabled)", name=program.namespec)
            return
        if not program.may_restart():
            return
        if program.state not in STARTABLE:
            log.warn(
                "{name}: scheduled start skipped, the previous run is still {state} (pid {pid})",
                name=program.namespec,
                state=program.state.name,
                pid=program.pid,
                program=program.namespec,
            )
            self.bus.publish(
                ScheduleSkipped(program.group, program.name, program.state.name, program.pid)
            )
            return
        log.info("{name}: scheduled start", name=program.namespec, program=program.namespec)
        try:
            self.start(program)
        except SuperviseError as problem:
            log.warn(
                "{name}: scheduled start failed: {problem}",
                name=program.namespec,
                problem=str(problem),
            )
