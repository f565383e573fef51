"""``/api/events``: the console's live feed, Server-Sent Events fed by the event bus.

Each browser first gets a ``snapshot`` (the daemon and every process), then ``update``
events carrying only the rows that changed. Changes are marked dirty as the bus delivers
them and flushed once per reactor turn, so a flapping program costs one message per turn,
not one per event. Slow browsers are handled by ``supervise.http.sse.Fanout``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.web import resource, server
from zope.interface import implementer

from supervise.errors import BadName
from supervise.events.types import (
    Event,
    GroupScaled,
    ProcessGroupEvent,
    ProcessStateEvent,
    ResourcesSampled,
    SupervisorStateChangeEvent,
)
from supervise.http.sse import Fanout, sse
from supervise.interfaces import IEventListener, IResourceUsage, ISubscription, ISupervisorControl
from supervise.rows import ROW_EVENTS, process_row
from supervise.snapshot import ResourceUsage
from supervise.web.crashes import CRASH_LOOP_RULE, RecentExits

#: Samples of each program's history a new browser gets (the graph's width).
HISTORY_SENT = 30


def all_rows(control: ISupervisorControl) -> list[dict[str, Any]]:
    """Every process's row, by group then name."""
    return [process_row(s, control.process_config(s.namespec)) for s in control.snapshots()]


def with_exits(row: dict[str, Any], exits: RecentExits, now: float) -> dict[str, Any]:
    """``row`` with the times of its process's recent unrequested exits (``exits``)."""
    row["exits"] = exits.recent(row["group"], row["name"], now)
    return row


def usage_point(usage: ResourceUsage) -> dict[str, Any]:
    """One sample as the console and ``top`` read it: CPU percent, KiB, processes."""
    return {
        "when": usage.when,
        "cpu": usage.cpu_percent,
        "cpu_seconds": usage.cpu_seconds,
        "rss": usage.rss // 1024,
        "processes": usage.processes,
    }


@implementer(IEventListener)
class ConsoleFeed(resource.Resource):
    """The SSE resource and the bus listener behind it."""

    isLeaf = True
    name = "console"
    event_types = (
        *ROW_EVENTS,
        ProcessGroupEvent,
        SupervisorStateChangeEvent,
        GroupScaled,
        ResourcesSampled,
    )
    max_pending = 100_000

    def __init__(
        self,
        control: ISupervisorControl,
        daemon_info: Callable[[], Mapping[str, Any]],
        clock: IReactorTime,
        wall_clock: Callable[[], float],
        usage: IResourceUsage | None = None,
    ) -> None:
        super().__init__()
        self.usage = usage
        self.exits = RecentExits()
        self.control = control
        self.daemon_info = daemon_info
        self.clock = clock
        self.wall_clock = wall_clock
        self.fanout = Fanout(self.snapshot)
        self.dirty: set[tuple[str, str]] = set()
        self.resync = False
        self._flush_call: IDelayedCall | None = None
        self.subscription: ISubscription | None = None

    def notify(self, event: Event) -> None:
        """Mark what ``event`` changed; flush on the next reactor turn."""
        if isinstance(event, ProcessStateEvent):
            self.exits.record(event)
        if not self.fanout.clients:
            return
        if isinstance(event, ResourcesSampled):
            self.fanout.broadcast(
                sse(
                    "usage",
                    {
                        "now": self.wall_clock(),
                        "usage": {name: usage_point(u) for name, u in event.usage.items()},
                    },
                )
            )
            return
        if isinstance(event, ProcessGroupEvent | SupervisorStateChangeEvent | GroupScaled):
            self.resync = True
        else:
            self.dirty.add((event.group, event.process))  # type: ignore[attr-defined]
        if self._flush_call is None:
            self._flush_call = self.clock.callLater(0, self.flush)

    def refresh(self) -> None:
        """Send every browser a fresh snapshot on the next turn (the daemon's own state
        changed: its cluster link went down or came back)."""
        self.resync = True
        if self._flush_call is None and self.fanout.clients:
            self._flush_call = self.clock.callLater(0, self.flush)

    def flush(self) -> None:
        """Send what changed since the last flush to every browser."""
        self._flush_call = None
        dirty, self.dirty = self.dirty, set()
        resync, self.resync = self.resync, False
        rows = []
        now = self.wall_clock()
        for group, process in sorted(dirty):
            namespec = f"{group}:{process}"
            try:
                row = process_row(
                    self.control.snapshot(namespec), self.control.process_config(namespec)
                )
                rows.append(with_exits(row, self.exits, now))
            except BadName:
                resync = True
        if resync:
            self.fanout.broadcast(self.snapshot())
        else:
            self.fanout.broadcast(sse("update", {"now": now, "processes": rows}))

    def status(self) -> dict[str, Any]:
        """The whole picture: the daemon and every process (``/api/status``)."""
        return {
            "now": self.wall_clock(),
            "daemon": dict(self.daemon_info()),
            "processes": all_rows(self.control),
        }

    def snapshot(self) -> bytes:
        """The whole picture as the stream's ``snapshot`` event: ``status()``, plus each
        row's recent unrequested exits, the crash-loop rule and recent resource samples."""
        picture = self.status()
        for row in picture["processes"]:
            with_exits(row, self.exits, picture["now"])
        picture.update(
            crash_loop=CRASH_LOOP_RULE,
            usage_interval=self.usage.interval if self.usage is not None else 0,
            usage=self.usage_history(),
        )
        return sse("snapshot", picture)

    def usage_history(self) -> dict[str, list[dict[str, Any]]]:
        """Each program's recent samples, oldest first (programs never measured left out)."""
        if self.usage is None:
            return {}
        found = {}
        for snapshot in self.control.snapshots():
            history = self.usage.history(snapshot.namespec)[-HISTORY_SENT:]
            if history:
                found[snapshot.namespec] = [usage_point(u) for u in history]
        return found

    def render_GET(self, request: server.Request) -> int:  # noqa: N802 - Twisted's name
        """Open a stream: the snapshot now, deltas after."""
        return self.fanout.open(request)
