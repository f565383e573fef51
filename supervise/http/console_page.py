"""The console's page and static files, served by a node (``/``) and by the cluster
console (``/cluster/``): one template and one script, two modes.

The files live in ``supervise/web/assets`` (the package data the distribution ships, on
disk beside this package: ``importlib.resources`` would cost 14 ms at every start).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from twisted.web import resource
from twisted.web.iweb import IRequest

ASSETS = Path(__file__).resolve().parents[1] / "web" / "assets"
GET_ACTION_NOTICE = (
    "Actions by GET link are not performed (a crawler or a prefetch could trigger them); "
    "use the buttons on this page."
)


def query_arg(request: IRequest, name: bytes) -> str | None:
    """The first value of query argument ``name``, decoded, or None."""
    values = (request.args or {}).get(name)
    return values[0].decode("utf-8", "replace") if values else None


def html_page(request: IRequest, body: str) -> bytes:
    """``body`` as an HTML answer with the console's security headers."""
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
    """``/`` and ``/index.html``: the console itself (the template in assets/).

    :param mode: ``node`` (one daemon) or ``cluster`` (every node).
    :param role: ``operator`` (may act) or ``viewer``.
    """

    isLeaf = True  # noqa: N815 - Twisted's name

    def __init__(
        self,
        token: str,
        daemon_info: Callable[[], Mapping[str, Any]],
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
            return html_page(request, "<!doctype html><title>Not found</title><p>No such page</p>")
        notice = query_arg(request, b"message") or ""
        if query_arg(request, b"action"):
            notice = GET_ACTION_NOTICE
        info = self.daemon_info()
        page = (
            self.template.replace("{{token}}", html.escape(self.token))
            .replace("{{identification}}", html.escape(str(info["identification"])))
            .replace("{{notice}}", html.escape(notice))
            .replace("{{mode}}", self.mode)
            .replace("{{role}}", self.role)
        )
        return html_page(request, page)


class Assets(resource.Resource):
    """``/static/``: the console's script, style and icon, shipped in the package.

    The folder resource (twisted.web.static, which imports hyperlink and idna: 3 MiB) is
    made on the first request, so a daemon whose console nobody opens never loads it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder: resource.Resource | None = None

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:  # noqa: N802
        if self.folder is None:
            from supervise.http.console_assets import static_folder

            self.folder = static_folder(str(ASSETS))
        return self.folder.getChildWithDefault(path, request)

    def render(self, request: Any) -> Any:
        return resource.NoResource("No such file").render(request)


def assets() -> Assets:
    """The static folder resource."""
    return Assets()
