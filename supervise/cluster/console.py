"""``/cluster/``: one page for every process of every node.

The same page and script as a node's own console, in cluster mode: rows are keyed by
node, actions travel to the owning node through its command stream, log tails are
fetched from the owning node on demand. Three roles: ``viewer`` (state and logs; every
action answers 403 and is audited as refused), ``operator`` (acts) and ``admin`` (acts,
and reads the audit trail at ``api/audit``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

from twisted.internet.defer import Deferred, DeferredList, ensureDeferred
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.iweb import IRequest
from twisted.web.util import Redirect, redirectTo

from supervise.actions import BadAction, check
from supervise.audit import AuditTrail
from supervise.cluster.view import ClusterView
from supervise.cluster_store import admin
from supervise.cluster_store.audit import read_audit, redis_sink
from supervise.cluster_store.link import RedisDown
from supervise.config.model import ClusterConfig, ServerConfig
from supervise.http.basic_auth import guarded
from supervise.http.console_page import ConsolePage, assets
from supervise.http.csrf import new_token
from supervise.http.json_get import JsonView
from supervise.http.json_post import JsonAction, json_answer, peek_json
from supervise.http.openapi import OpenApiDocument
from supervise.http.peer import caller

log = Logger()

TAIL_RENEW = 15.0
ROLES = ("viewer", "operator", "admin")
ACTING_ROLES = ("operator", "admin")


class ClusterActions(JsonAction):
    """``POST /cluster/api/action``: ``{"action", "targets": [{"node", "names"}], "signal"}``."""

    def __init__(
        self, view: ClusterView, token: str, role: str, user: str, audit: AuditTrail
    ) -> None:
        super().__init__(token)
        self.view = view
        self.role = role
        self.user = user
        self.audit = audit
        self.origin = ""
        self.who = user

    def forbidden(self) -> str | None:
        if self.role not in ACTING_ROLES:
            return f"read-only: you are logged in as a {self.role}"
        return None

    def refused(self, request: IRequest, why: str) -> None:
        """A viewer's (or a cross-site) action: recorded as refused."""
        tried = peek_json(request)
        targets = tried.get("targets") if isinstance(tried.get("targets"), list) else []
        for target in targets or [{}]:
            names = target.get("names") if isinstance(target, dict) else None
            self.audit.record(
                self.user or caller(request)[0], caller(request)[1], "cluster console",
                str(tried.get("action", "action")), names if isinstance(names, list) else [],
                f"refused: {why}",
                node=str(target.get("node", "-")) if isinstance(target, dict) else "-",
            )  # fmt: skip

    def act_for(self, data: dict[str, Any], request: IRequest) -> Deferred[dict[str, Any]]:
        who, where = caller(request)
        self.who = self.user or who
        self.origin = f"{where} through the console on {socket.gethostname()}"
        return self.act(data)

    def act(self, data: dict[str, Any]) -> Deferred[dict[str, Any]]:
        targets = data.get("targets")
        if not isinstance(targets, list) or not targets:
            raise BadAction("bad request: targets must be a non-empty list of {node, names}")
        for target in targets:
            if not isinstance(target, dict):
                raise BadAction("bad request: each target is {node, names}")
            check(data.get("action"), target.get("names"), data.get("signal"))
            if target.get("node") not in self.view.nodes:
                raise BadAction(f"bad request: no node named {target.get('node')!r}")
        work = [ensureDeferred(self._one(data, target)) for target in targets]
        return DeferredList(work, consumeErrors=True).addCallback(
            lambda outcomes: {"results": [r for ok, rs in outcomes if ok for r in rs]}
        )

    async def _one(self, data: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
        node = target["node"]
        body = {"action": data["action"], "names": target["names"], "signal": data.get("signal")}
        origin, who = self.origin, self.who
        try:
            reply = await admin.send(
                self.view.redis, self.view.link.dedicated, self.view.link.forget,
                self.view.keys, node, "action", body, who,
                self.view.config.command_timeout, via="cluster console", origin=origin,
            )  # fmt: skip
        except (admin.NodeSilent, RedisDown) as problem:
            reply = {"error": str(problem)}
        except Exception as problem:
            reply = {"error": f"the command could not be sent: {problem}"}
        if "error" in reply:  # the node never ran it: the console records it
            self.audit.record(
                who, origin, "cluster console", str(data["action"]), target["names"],
                f"failed: {reply['error']}", node=node,
            )  # fmt: skip
            return [
                {"node": node, "name": name, "ok": False, "error": reply["error"]}
                for name in target["names"]
            ]
        return [dict(result, node=node) for result in reply["results"]]


class ClusterLogTail(resource.Resource):
    """``/cluster/logtail/NODE/NAME/CHANNEL``: asks the owning node to copy its log into
    Redis while this request lasts, and streams what arrives."""

    isLeaf = True

    def __init__(self, view: ClusterView, user: str) -> None:
        super().__init__()
        self.view = view
        self.user = user

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        parts = [p.decode("utf-8", "replace") for p in request.postpath or [] if p]
        if (
            len(parts) != 3
            or parts[2] not in ("stdout", "stderr")
            or parts[0] not in self.view.nodes
        ):
            request.setResponseCode(404)
            return b"No such log"
        request.setHeader(b"content-type", b"text/plain;charset=utf-8")
        request.setHeader(b"x-accel-buffering", b"no")
        request.setHeader(b"cache-control", b"no-cache")
        gone = [False]
        request.notifyFinish().addBoth(lambda _: gone.__setitem__(0, True))
        ensureDeferred(self._stream(request, parts[0], parts[1], parts[2], gone))
        return server.NOT_DONE_YET

    async def _ask(self, node: str, name: str, channel: str) -> dict[str, Any]:
        return await admin.send(
            self.view.redis, self.view.link.dedicated, self.view.link.forget, self.view.keys,
            node, "tail", {"name": name, "channel": channel}, self.user or "anonymous",
            self.view.config.command_timeout,
        )  # fmt: skip

    async def _stream(
        self, request: server.Request, node: str, name: str, channel: str, gone: list[bool]
    ) -> None:
        connection = None
        try:
            answer = await self._ask(node, name, channel)
            if "error" in answer:
                request.write(f"({answer['error']})\n".encode())
                return
            key, last_id, renewed = answer["stream"], "0-0", self.view.reactor.seconds()
            connection = await self.view.link.dedicated()
            while not gone[0]:
                reply = await connection.execute_command(
                    "XREAD", "COUNT", 100, "BLOCK", int(TAIL_RENEW * 1000), "STREAMS", key, last_id
                )
                for _stream, entries in reply or []:
                    for entry_id, flat in entries:
                        last_id = str(entry_id)
                        if not gone[0]:
                            request.write(
                                dict(zip(flat[::2], flat[1::2], strict=False))
                                .get("data", "")
                                .encode()
                            )
                if self.view.reactor.seconds() - renewed >= TAIL_RENEW:
                    renewed = self.view.reactor.seconds()
                    await self._ask(node, name, channel)
        except (admin.NodeSilent, RedisDown) as problem:
            if not gone[0]:
                request.write(f"\n({problem})\n".encode())
        except Exception as problem:
            if not gone[0]:
                request.write(f"\n(the log stream failed: {problem})\n".encode())
        finally:
            if connection is not None:
                self.view.link.forget(connection)
            if not gone[0]:
                request.finish()


class ClusterAudit(resource.Resource):
    """``/cluster/api/audit?count=N``: the cluster's audit trail, for admins only."""

    isLeaf = True

    def __init__(self, view: ClusterView, role: str) -> None:
        super().__init__()
        self.view = view
        self.role = role

    def render_GET(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        if self.role != "admin":
            return json_answer(request, 403, {"error": "the audit trail is for admins"})
        try:
            count = max(1, min(10_000, int(request.args.get(b"count", [b"200"])[0])))
        except ValueError:
            return json_answer(request, 400, {"error": "count must be a number"})

        def answer(entries: list[dict[str, Any]]) -> None:
            request.write(json_answer(request, 200, {"entries": entries}))
            request.finish()

        def failed(failure: Any) -> None:
            request.write(json_answer(request, 503, {"error": f"Redis: {failure.value}"}))
            request.finish()

        ensureDeferred(read_audit(self.view.redis, self.view.keys, count)).addCallbacks(
            answer, failed
        )
        return server.NOT_DONE_YET


class ClusterConsole(resource.Resource):
    """``/cluster/`` for one logged-in user: the page, the feed, actions and tails."""

    def __init__(
        self, view: ClusterView, token: str, role: str, user: str, audit: AuditTrail
    ) -> None:
        super().__init__()
        page = ConsolePage(token, view.daemon, mode="cluster", role=role)
        self.putChild(b"", page)
        self.putChild(b"index.html", page)
        self.putChild(b"static", assets())
        self.putChild(b"logtail", ClusterLogTail(view, user))
        api = resource.Resource()
        api.putChild(b"events", ClusterFeed(view))
        api.putChild(b"action", ClusterActions(view, token, role, user, audit))
        api.putChild(b"audit", ClusterAudit(view, role))
        api.putChild(b"status", JsonView(view.status))
        api.putChild(b"openapi.json", OpenApiDocument())
        self.putChild(b"api", api)

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        """``/cluster`` without its slash: the page's relative links need it."""
        return redirectTo(request.path + b"/", request)


class ClusterFeed(resource.Resource):
    """``/cluster/api/events``: the view's Server-Sent Events."""

    isLeaf = True

    def __init__(self, view: ClusterView) -> None:
        super().__init__()
        self.view = view

    def render_GET(self, request: server.Request) -> int:  # noqa: N802 - Twisted's name
        return self.view.fanout.open(request)


def cluster_users(config: ClusterConfig) -> dict[str, tuple[str, str]]:
    """The console's users: name → (password, role)."""
    return {user.name: (user.password, user.role) for user in config.users}


class ConsoleMount:
    """Builds the ``/cluster`` resource for each role (users log in per request)."""

    def __init__(
        self,
        config: ClusterConfig,
        reactor: Any,
        announce: bool = True,
        audit: AuditTrail | None = None,
    ) -> None:
        """:param announce: log Redis outages and write audit records to Redis (a
        node's own agent already does both); ``audit``: the daemon's trail."""
        self.config = config
        self.view = ClusterView(config, reactor, announce)
        self.token = new_token()
        self.audit = audit or AuditTrail(config.node)
        if announce:
            self.audit.sinks.append(redis_sink(self.view.link, self.view.keys))

    def for_role(self, role: str, user: str = "") -> resource.Resource:
        """The console as ``role`` (viewer, operator or admin) sees it."""
        shown = role if role in ROLES else "viewer"
        return ClusterConsole(self.view, self.token, shown, user, self.audit)

    def guest_tree(self, avatar: str) -> resource.IResource:
        """What a console user (``role:name``) of a server with its own credentials sees:
        the console and nothing else (``/`` leads to it)."""
        tree = resource.Resource()
        tree.putChild(b"", Redirect(b"/cluster/"))
        tree.putChild(b"cluster", self.for_role(*avatar.split(":", 1)))
        return tree

    def start(self) -> None:
        self.view.start()

    def stop(self) -> None:
        self.view.stop()


def cluster_gate(mount: ConsoleMount, servers: Iterable[ServerConfig]) -> resource.IResource:
    """``/cluster``: its own login when console users are configured (the users of the
    node's own HTTP servers operate), open like the rest of the site otherwise."""
    users = cluster_users(mount.config)
    if not users:
        return mount.for_role("operator")
    for http_server in servers:
        if http_server.username is not None and http_server.password is not None:
            users.setdefault(http_server.username, (http_server.password, "admin"))
    return guarded(users, lambda avatar: mount.for_role(*avatar.split(":", 1)))
