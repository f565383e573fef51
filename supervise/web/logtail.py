"""``/logtail/<namespec>[/stdout|stderr]`` and ``/mainlogtail``: endless log streams.

What ``supervisorctl tail -f``, ``fg`` and ``maintail -f`` read (SUPERVISOR.md §5.6): the
last 1024 bytes of the file, then every new byte as it is written. Unlike supervisord,
which polls the file size, the stream is fed by the writer itself, so it follows
rotations and never polls.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.errors import BadName, NoFile
from supervise.interfaces import ISupervisorControl
from supervise.logs.reading import INITIAL_BYTES, last_bytes


def _stream_headers(request: IRequest) -> None:
    request.setHeader(b"content-type", b"text/plain;charset=utf-8")
    request.setHeader(b"x-accel-buffering", b"no")
    request.setHeader(b"cache-control", b"no-cache")


class ProcessLogTail(resource.Resource):
    """``/logtail/...``: one process channel's stream."""

    isLeaf = True

    def __init__(self, control: ISupervisorControl) -> None:
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
        channel = "stderr" if parts[1:] == ["stderr"] else "stdout"
        started = False

        def write(data: bytes) -> None:
            nonlocal started
            if not started:  # the stream's headers, once the log is known to exist
                started = True
                _stream_headers(request)
            request.write(data)

        try:
            unfollow = self.control.follow_log(parts[0], channel, write, INITIAL_BYTES)
        except (BadName, NoFile):
            return _not_found(request)
        request.notifyFinish().addBoth(lambda _: unfollow())
        return server.NOT_DONE_YET

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
        _stream_headers(request)
        request.write(last_bytes(path))
        followers.append(request.write)

        def gone(_: object) -> None:
            if request.write in followers:
                followers.remove(request.write)

        request.notifyFinish().addBoth(gone)
        return server.NOT_DONE_YET


def _not_found(request: IRequest) -> bytes:
    request.setResponseCode(404)
    return b"No such log"
