"""Server-Sent Events to many browsers, bounded per browser.

A feed (the node console's, the cluster console's) opens one stream per browser and
broadcasts messages to all of them. A browser that cannot keep up (its socket buffer is
full) is sent nothing more until it drains, then a fresh snapshot: memory per client
stays bounded whatever the event rate.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from twisted.internet.interfaces import IPushProducer
from twisted.web import server
from zope.interface import implementer

from supervise.http.openapi import mark

# The browser reconnects this many milliseconds after a dropped connection.
RETRY_MS = 1000


def sse(name: str, payload: object) -> bytes:
    """One Server-Sent Event named ``name`` carrying ``payload`` as compact JSON."""
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
    """Every connected browser of one feed: open streams, broadcast, bounded per client.

    :ivar snapshot: makes the whole picture, sent first and to browsers that fell behind.
    """

    def __init__(self, snapshot: Callable[[], bytes]) -> None:
        self.snapshot = snapshot
        self.clients: list[FeedClient] = []

    def open(self, request: server.Request) -> int:
        """Start a stream: the snapshot now, broadcasts after."""
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.setHeader(b"x-accel-buffering", b"no")
        mark(request)
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
