"""The console's other pages and supervisord's old paths.

``/tail.html?processname=x&limit=N`` shows the last bytes of a process's stdout, as
supervisord's page does; ``/ok.html`` says OK; ``/download/...`` serves a whole log.
The console page itself is ``supervise.http.console_page`` (shared with the cluster).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.errors import BadName, SuperviseError
from supervise.http.console_page import html_page, query_arg
from supervise.interfaces import ISupervisorControl


class TailPage(resource.Resource):
    """``/tail.html?processname=x&limit=N``: the last max(1024, N) bytes of stdout."""

    isLeaf = True

    def __init__(self, control: ISupervisorControl) -> None:
        super().__init__()
        self.control = control

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        name = query_arg(request, b"processname") or ""
        try:
            limit = max(1024, int(query_arg(request, b"limit") or 1024))
        except ValueError:
            limit = 1024
        try:
            self.control.snapshot(name)
        except BadName:
            request.setResponseCode(404)
            text = f"No such process named {name}"
        else:
            try:
                data = self.control.read_log(name, "stdout", -limit, 0)
            except SuperviseError:
                data = b""  # no log file (yet): an empty page, as before
            text = data.decode("utf-8", "replace")
        quoted = html.escape(name)
        return html_page(
            request,
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>supervise: tail {quoted}</title>"
            "<link rel='stylesheet' href='static/console.css'></head><body class='tail'>"
            f"<h1>{quoted}</h1><p><a href='index.html'>Back to the console</a></p>"
            f"<pre>{html.escape(text)}</pre></body></html>",
        )


class OkPage(resource.Resource):
    """``/ok.html``: the health probe supervisord serves."""

    isLeaf = True

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        request.setHeader(b"content-type", b"text/plain")
        return b"OK"


class Download(resource.Resource):
    """``/download/NAME/stdout|stderr`` and ``/download/main``: the whole current file."""

    isLeaf = True

    def __init__(self, control: ISupervisorControl, main_log: Callable[[], str | None]) -> None:
        super().__init__()
        self.control = control
        self.main_log = main_log

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        parts = [p.decode("utf-8", "replace") for p in request.postpath or [] if p]
        path = self._path(parts)
        if not path:
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain")
            return b"No such log"
        name = "-".join(parts).replace(":", "_") + ".log"
        request.setHeader(b"content-disposition", f'attachment; filename="{name}"'.encode())
        from twisted.web import static  # on first download: it imports hyperlink and idna

        return static.File(path, defaultType="text/plain; charset=utf-8").render_GET(request)  # type: ignore[no-any-return]

    def _path(self, parts: list[str]) -> str | None:
        if parts == ["main"]:
            return self.main_log()
        if len(parts) != 2 or parts[1] not in ("stdout", "stderr"):
            return None
        try:
            snapshot = self.control.snapshot(parts[0])
        except BadName:
            return None
        return snapshot.stdout_logfile if parts[1] == "stdout" else snapshot.stderr_logfile
