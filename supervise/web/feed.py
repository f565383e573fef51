"""``/api/events``: the console's live feed, Server-Sent Events fed by the event bus.

Each browser first gets a ``snapshot`` (the daemon and every process), then ``update``
events carrying only the rows that changed. Changes are marked dirty as the bus delivers
them and flushed once per reactor turn, so a flapping program costs one message per turn,
not one per event. A browser that cannot keep up (its socket buffer is full) is sent
nothing more until it drains, then a fresh snapshot: memory per client stays bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.web import resource, server
from zope.interface import implementer

from supervise.control import SupervisorControl
from supervise.errors import BadName
from supervise.events.types import Event, ProcessGroupEvent, SupervisorStateChangeEvent
from supervise.interfaces import IEventListener
from supervise.web.rows import ROW_EVENTS, process_row

# The browser reconnects this many milliseconds after a dropped connection.
RETRY_MS = 1000


def sse(name: str, payload: object) -> bytes:
    """One Server-Sent Event."""
    return f"event: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


@implementer(IPushProducer)
class FeedClient:
    """One connected browser; paused while its socket buffer is full."""

    def __init__(self, request: server.Request, resumed: Callable[[FeedClient], None]) -> None:
        self.request = request
        self.resumed = resumed
        self.paused = False
        self.stale = False

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's name
        """The transport is full: stop sending deltas."""
        self.paused = True
        self.stale = True

    def resumeProducing(self) -> None:  # noqa: N802 - Twisted's name
        """The transport drained: the feed sends a fresh snapshot."""
        self.paused = False
        if self.stale:
            self.resumed(self)

    def stopProducing(self) -> None:  # noqa: N802 - Twisted's name
        """The connection is gone."""
        self.paused = True


class Fanout:
    """Every connected browser of one feed: open streams, broadcast, bounded per client."""

    def __init__(self, snapshot: Callable[[], bytes]) -> None:
        self.snapshot = snapshot
        self.clients: list[FeedClient] = []

    def open(self, request: server.Request) -> int:
        """Start a stream: the snapshot now, broadcasts after."""
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.setHeader(b"x-accel-buffering", b"no")
        client = FeedClient(request, self._resumed)
        request.registerProducer(client, True)
        request.write(f"retry: {RETRY_MS}\n\n".encode() + self.snapshot())
        self.clients.append(client)

        def gone(_: object) -> None:
            if client in self.clients:
                self.clients.remove(client)

        request.notifyFinish().addBoth(gone)
        return server.NOT_DONE_YET

    def broadcast(self, message: bytes) -> None:
        """Send ``message`` to every browser that keeps up (a fresh snapshot to the others)."""
        for client in list(self.clients):
            self._send(client, message)

    def _resumed(self, client: FeedClient) -> None:
        if client in self.clients:
            self._send(client, b"")

    def _send(self, client: FeedClient, message: bytes) -> None:
        if client.paused:
            return
        if client.stale:
            client.stale = False
            message = self.snapshot()
        client.request.write(message)


@implementer(IEventListener)
class ConsoleFeed(resource.Resource):
    """The SSE resource and the bus listener behind it."""

    isLeaf = True
    name = "console"
    event_types = (*ROW_EVENTS, ProcessGroupEvent, SupervisorStateChangeEvent)
    max_pending = 100_000

    def __init__(
        self,
        control: SupervisorControl,
        daemon_info: Callable[[], dict[str, Any]],
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

    def notify(self, event: Event) -> None:
        """Mark what ``event`` changed; flush on the next reactor turn."""
        if not self.fanout.clients:
            return
        if isinstance(event, ProcessGroupEvent | SupervisorStateChangeEvent):
            self.resync = True
        else:
            self.dirty.add((event.group, event.process))  # type: ignore[attr-defined]
        if self._flush_call is None:
            self._flush_call = self.clock.callLater(0, self.flush)

    def flush(self) -> None:
        """Send what changed since the last flush to every browser."""
        self._flush_call = None
        dirty, self.dirty = self.dirty, set()
        resync, self.resync = self.resync, False
        rows = []
        for group, process in sorted(dirty):
            try:
                program = self.control.group(group).processes[process]
            except (BadName, KeyError):
                resync = True
                continue
            rows.append(process_row(program))
        if resync:
            self.fanout.broadcast(self.snapshot())
        else:
            self.fanout.broadcast(sse("update", {"now": self.wall_clock(), "processes": rows}))

    def snapshot(self) -> bytes:
        """The whole picture: the daemon and every process."""
        return sse(
            "snapshot",
            {
                "now": self.wall_clock(),
                "daemon": self.daemon_info(),
                "processes": [process_row(p) for p in self.control.sorted_processes()],
            },
        )

    def render_GET(self, request: server.Request) -> int:  # noqa: N802 - Twisted's name
        """Open a stream: the snapshot now, deltas after."""
        return self.fanout.open(request)
