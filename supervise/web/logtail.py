"""``/logtail/<namespec>[/stdout|stderr]`` and ``/mainlogtail``: endless log streams.

What ``supervisorctl tail -f``, ``fg`` and ``maintail -f`` read (SUPERVISOR.md §5.6): the
last 1024 bytes of the file, then every new byte as it is written. Unlike supervisord,
which polls the file size, the stream is fed by the writer itself, so it follows
rotations and never polls.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.control import SupervisorControl
from supervise.errors import BadName
from supervise.logs.channel import OutputChannel

INITIAL_BYTES = 1024


def last_bytes(path: str | None, count: int = INITIAL_BYTES) -> bytes:
    if path is None:
        return b""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - count))
            return handle.read()
    except OSError:
        return b""


def stream(
    request: server.Request, path: str | None, followers: list[Callable[[bytes], None]]
) -> int:
    """Send the file's tail, then follow ``followers`` until the client goes away."""
    request.setHeader(b"content-type", b"text/plain;charset=utf-8")
    request.setHeader(b"x-accel-buffering", b"no")
    request.setHeader(b"cache-control", b"no-cache")
    request.write(last_bytes(path))

    def follow(data: bytes) -> None:
        request.write(data)

    followers.append(follow)

    def gone(_: object) -> None:
        if follow in followers:
            followers.remove(follow)

    request.notifyFinish().addBoth(gone)
    return server.NOT_DONE_YET


class ProcessLogTail(resource.Resource):
    """``/logtail/...``: one process channel's stream."""

    isLeaf = True

    def __init__(self, control: SupervisorControl) -> None:
        super().__init__()
        self.control = control

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        parts = [p.decode("utf-8", "replace") for p in (request.postpath or []) if p]
        if (
            not parts
            or len(parts) > 2
            or (len(parts) == 2 and parts[1] not in ("stdout", "stderr"))
        ):
            return _not_found(request)
        try:
            program = self.control.process(parts[0])
        except BadName:
            return _not_found(request)
        channel: OutputChannel = program.stderr if parts[1:] == ["stderr"] else program.stdout
        if channel.path is None:
            return _not_found(request)
        return stream(request, channel.path, channel.followers)

    def render_POST(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        request.setResponseCode(400)
        return b"GET only"


class MainLogTail(resource.Resource):
    """``/mainlogtail``: the main log's stream."""

    isLeaf = True

    def __init__(
        self,
        path: Callable[[], str | None],
        followers: Callable[[], list[Callable[[bytes], None]] | None],
    ) -> None:
        super().__init__()
        self.path = path
        self.followers = followers

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        followers = self.followers()
        path = self.path()
        if followers is None or path is None:
            return _not_found(request)
        return stream(request, path, followers)


def _not_found(request: IRequest) -> bytes:
    request.setResponseCode(404)
    return b"No such log"
