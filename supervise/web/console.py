"""Mount the console on the daemon's web root (the same site and checkers as XML-RPC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.web import resource

from supervise.control import SupervisorControl
from supervise.interfaces import IEventBus, ISubscription
from supervise.web.actions import ConsoleActions
from supervise.web.feed import ConsoleFeed
from supervise.web.pages import ConsolePage, Download, OkPage, TailPage, assets


def mount_console(
    root: resource.Resource,
    control: SupervisorControl,
    bus: IEventBus,
    daemon_info: Callable[[], dict[str, Any]],
    main_log: Callable[[], str | None],
    clock: IReactorTime,
    wall_clock: Callable[[], float],
    token: str,
) -> ISubscription:
    """Add the console's pages and API under ``root``; return the feed's bus subscription.

    :param token: the cross-site token, one per daemon run (pages stay usable across a reload).
    """
    page = ConsolePage(token, daemon_info)
    root.putChild(b"", page)
    root.putChild(b"index.html", page)
    root.putChild(b"tail.html", TailPage(control))
    root.putChild(b"ok.html", OkPage())
    root.putChild(b"static", assets())
    root.putChild(b"download", Download(control, main_log))
    feed = ConsoleFeed(control, daemon_info, clock, wall_clock)
    subscription: ISubscription = bus.subscribe(feed)
    api = resource.Resource()
    api.putChild(b"events", feed)
    api.putChild(b"action", ConsoleActions(control, token))
    root.putChild(b"api", api)
    return subscription
