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
    SupervisorStateChangeEvent,
)
from supervise.http.sse import Fanout, sse
from supervise.interfaces import IEventListener, ISubscription, ISupervisorControl
from supervise.rows import ROW_EVENTS, process_row


def all_rows(control: ISupervisorControl) -> list[dict[str, Any]]:
    """Every process's row, by group then name."""
    return [process_row(s, control.process_config(s.namespec)) for s in control.snapshots()]


@implementer(IEventListener)
class ConsoleFeed(resource.Resource):
    """The SSE resource and the bus listener behind it."""

    isLeaf = True
    name = "console"
    event_types = (*ROW_EVENTS, ProcessGroupEvent, SupervisorStateChangeEvent, GroupScaled)
    max_pending = 100_000

    def __init__(
        self,
        control: ISupervisorControl,
        daemon_info: Callable[[], Mapping[str, Any]],
        clock: IReactorTime,
        wall_clock: Callable[[], float],
    ) -> None:
        super().__init__()
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
        if not self.fanout.clients:
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
        for group, process in sorted(dirty):
            namespec = f"{group}:{process}"
            try:
                rows.append(
                    process_row(
                        self.control.snapshot(namespec), self.control.process_config(namespec)
                    )
                )
            except BadName:
                resync = True
        if resync:
            self.fanout.broadcast(self.snapshot())
        else:
            self.fanout.broadcast(sse("update", {"now": self.wall_clock(), "processes": rows}))

    def status(self) -> dict[str, Any]:
        """The whole picture: the daemon and every process (``/api/status``)."""
        return {
            "now": self.wall_clock(),
            "daemon": dict(self.daemon_info()),
            "processes": all_rows(self.control),
        }

    def snapshot(self) -> bytes:
        """The whole picture as the stream's ``snapshot`` event."""
        return sse("snapshot", self.status())

    def render_GET(self, request: server.Request) -> int:  # noqa: N802 - Twisted's name
        """Open a stream: the snapshot now, deltas after."""
        return self.fanout.open(request)
