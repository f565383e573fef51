"""Mount the console on the daemon's web root (the same site and checkers as XML-RPC)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web import resource
from twisted.web.iweb import IRequest

from supervise.actions import check, perform
from supervise.audit import AuditTrail, summary
from supervise.http.console_page import ConsolePage, assets
from supervise.http.json_get import JsonView
from supervise.http.json_post import JsonAction, peek_json
from supervise.http.openapi import OpenApiDocument
from supervise.http.peer import caller
from supervise.interfaces import IEventBus, IResourceUsage, ISupervisorControl
from supervise.web.feed import ConsoleFeed
from supervise.web.pages import Download, OkPage, TailPage


class ConsoleActions(JsonAction):
    """``POST /api/action``: start, stop, restart, signal and clear logs from the console.

    The body is JSON ``{"action": ..., "names": [namespec, ...], "signal": "HUP"}``; a
    name may be ``group:*``. Every name is answered with ``{"name", "ok", "error"}``, the
    error in words; the work goes through the control API, as XML-RPC's does.
    """

    def __init__(
        self, control: ISupervisorControl, token: str, audit: AuditTrail | None = None
    ) -> None:
        super().__init__(token)
        self.control = control
        self.audit = audit

    def act(self, data: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """Check the request, then perform it on every process it names."""
        action, names, sig = check(data.get("action"), data.get("names"), data.get("signal"))
        return perform(self.control, action, names, sig).addCallback(
            lambda results: {"action": action, "results": results}
        )

    def act_for(self, data: dict[str, Any], request: IRequest) -> Deferred[dict[str, Any]]:
        """``act``, recorded in the audit trail with who asked and how it ended."""
        who, where = caller(request)

        def record(answer: dict[str, Any]) -> dict[str, Any]:
            if self.audit is not None:
                self.audit.record(
                    who, where, "console", answer["action"], data["names"],
                    summary(answer["results"]),
                )  # fmt: skip
            return answer

        return self.act(data).addCallback(record)

    def refused(self, request: IRequest, why: str) -> None:
        if self.audit is not None:
            who, where = caller(request)
            tried = peek_json(request)
            names = tried.get("names")
            self.audit.record(
                who, where, "console", str(tried.get("action", "action")),
                names if isinstance(names, list) else [], f"refused: {why}",
            )  # fmt: skip


def mount_console(
    root: resource.Resource,
    control: ISupervisorControl,
    bus: IEventBus,
    daemon_info: Callable[[], Mapping[str, Any]],
    main_log: Callable[[], str | None],
    clock: IReactorTime,
    wall_clock: Callable[[], float],
    token: str,
    audit: AuditTrail | None = None,
    usage: IResourceUsage | None = None,
) -> ConsoleFeed:
    """Add the console's pages and API under ``root``; return the feed (its ``subscription``
    to the bus, its ``refresh()`` for news that comes from elsewhere).

    :param token: the cross-site token, one per daemon run (pages stay usable across a reload).
    :param usage: each program's sampled CPU and memory, when the daemon samples them.
    """
    page = ConsolePage(token, daemon_info)
    root.putChild(b"", page)
    root.putChild(b"index.html", page)
    root.putChild(b"tail.html", TailPage(control))
    root.putChild(b"ok.html", OkPage())
    root.putChild(b"static", assets())
    root.putChild(b"download", Download(control, main_log))
    feed = ConsoleFeed(control, daemon_info, clock, wall_clock, usage)
    feed.subscription = bus.subscribe(feed)
    api = resource.Resource()
    api.putChild(b"events", feed)
    api.putChild(b"action", ConsoleActions(control, token, audit))
    api.putChild(b"status", JsonView(feed.status))
    api.putChild(b"openapi.json", OpenApiDocument())
    root.putChild(b"api", api)
    return feed
