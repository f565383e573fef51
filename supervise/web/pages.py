"""The console's HTML pages and supervisord's old paths.

``/`` and ``/index.html`` serve the live console; ``/tail.html?processname=x&limit=N``
the last bytes of a process's stdout, as supervisord's page does; ``/ok.html`` says OK.
supervisord acted on GET links (``index.html?action=stop``), which crawlers and prefetch
can trigger: here those links show the console with a notice and change nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from importlib import resources
from typing import Any

from twisted.web import resource, server, static
from twisted.web.iweb import IRequest

from supervise.control import SupervisorControl
from supervise.errors import BadName
from supervise.web.logtail import last_bytes

ASSETS = resources.files("supervise.web") / "assets"
GET_ACTION_NOTICE = (
    "Actions by GET link are not performed (a crawler or a prefetch could trigger them); "
    "use the buttons on this page."
)


def _arg(request: IRequest, name: bytes) -> str | None:
    values = (request.args or {}).get(name)
    return values[0].decode("utf-8", "replace") if values else None


def _html(request: IRequest, body: str) -> bytes:
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    request.setHeader(b"x-frame-options", b"DENY")
    request.setHeader(b"referrer-policy", b"same-origin")
    request.setHeader(
        b"content-security-policy",
        b"default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    )
    return body.encode()


class ConsolePage(resource.Resource):
    """``/`` and ``/index.html``: the console itself (the template in assets/)."""

    isLeaf = True

    def __init__(
        self,
        token: str,
        daemon_info: Callable[[], dict[str, Any]],
        mode: str = "node",
        role: str = "operator",
    ) -> None:
        super().__init__()
        self.token = token
        self.daemon_info = daemon_info
        self.mode = mode
        self.role = role
        self.template = (ASSETS / "index.html").read_text("utf-8")

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        if request.postpath not in ([], [b""], [b"index.html"]):
            request.setResponseCode(404)
            return _html(request, "<!doctype html><title>Not found</title><p>No such page</p>")
        notice = _arg(request, b"message") or ""
        if _arg(request, b"action"):
            notice = GET_ACTION_NOTICE
        info = self.daemon_info()
        page = (
            self.template.replace("{{token}}", html.escape(self.token))
            .replace("{{identification}}", html.escape(str(info["identification"])))
            .replace("{{notice}}", html.escape(notice))
            .replace("{{mode}}", self.mode)
            .replace("{{role}}", self.role)
        )
        return _html(request, page)


class TailPage(resource.Resource):
    """``/tail.html?processname=x&limit=N``: the last max(1024, N) bytes of stdout."""

    isLeaf = True

    def __init__(self, control: SupervisorControl) -> None:
        super().__init__()
        self.control = control

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        name = _arg(request, b"processname") or ""
        try:
            limit = max(1024, int(_arg(request, b"limit") or 1024))
        except ValueError:
            limit = 1024
        try:
            program = self.control.process(name)
            text = last_bytes(program.stdout.path, limit).decode("utf-8", "replace")
        except BadName:
            request.setResponseCode(404)
            text = f"No such process named {name}"
        quoted = html.escape(name)
        return _html(
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

    def __init__(self, control: SupervisorControl, main_log: Callable[[], str | None]) -> None:
        super().__init__()
        self.control = control
        self.main_log = main_log

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        parts = [p.decode("utf-8", "replace") for p in request.postpath or [] if p]
        path = self._path(parts)
        if path is None:
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain")
            return b"No such log"
        name = "-".join(parts).replace(":", "_") + ".log"
        request.setHeader(b"content-disposition", f'attachment; filename="{name}"'.encode())
        return static.File(path, defaultType="text/plain; charset=utf-8").render_GET(request)  # type: ignore[no-any-return]

    def _path(self, parts: list[str]) -> str | None:
        if parts == ["main"]:
            return self.main_log()
        if len(parts) != 2 or parts[1] not in ("stdout", "stderr"):
            return None
        try:
            program = self.control.process(parts[0])
        except BadName:
            return None
        return (program.stdout if parts[1] == "stdout" else program.stderr).path


class Assets(static.File):
    """``/static/``: the console's script, style and icon, shipped in the package."""

    def directoryListing(self) -> resource.Resource:  # noqa: N802 - Twisted's name
        """No listings."""
        return resource.NoResource("No such file")


def assets() -> Assets:
    """The static folder resource."""
    folder = Assets(str(ASSETS), defaultType="application/octet-stream")
    folder.contentTypes.update(
        {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    )
    return folder
