"""The ``[unix_http_server]`` / ``[inet_http_server]`` servers as a service.

They listen before the core starts (a second daemon on the same config stops there,
having touched nothing of the first one's) and close after every program has stopped
(supervisorctl can follow a shutdown to its end). What they serve is mounted later,
once the core runs: until then a request gets 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.web import resource

from supervise.daemon.errors import StartupError
from supervise.daemon.runtime import Runtime
from supervise.http.servers import ServerStartError, listen

if TYPE_CHECKING:
    # Cluster mode (and its Redis client) is imported only when [cluster] is configured:
    # it would otherwise cost every daemon ~80 ms of start-up and a few MiB.
    from supervise.cluster.console import ConsoleMount

log = Logger(namespace="supervise.service")


class Starting(resource.Resource):
    """503 until the daemon's tree is mounted (twisted.web.pages would import
    twisted.web.template, and through it xml.sax, urllib and ssl: 6 MiB)."""

    isLeaf = True  # noqa: N815 - Twisted's name
    BODY = (
        b"<!DOCTYPE html>\n<html><head><title>503 - Service Unavailable</title></head>"
        b"<body><h1>Service Unavailable</h1><p>supervise is starting.</p></body></html>"
    )

    def render(self, request: Any) -> bytes:
        request.setResponseCode(503)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return self.BODY


STARTING = Starting()


class LateRoot(resource.Resource):
    """The servers' root: delegates to the tree mounted now (503 before there is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.current: resource.Resource | None = None

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:  # noqa: N802
        if self.current is None:
            return STARTING
        return self.current.getChildWithDefault(path, request)

    def render(self, request: Any) -> Any:
        if self.current is None:
            return STARTING.render(request)
        return self.current.render(request)


class HTTPServers(Service):
    """Listens on every configured server (StartupError with supervisord's wording if
    one cannot), and serves the cluster console's mount when configured."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.root = LateRoot()
        self.ports: list[IListeningPort] = []
        self.cluster_console: ConsoleMount | None = None
        #: XML-RPC for a console user's role (set by the site): viewers read, operators act.
        self.rpc_for_role: Callable[[str], resource.Resource] | None = None

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        self.listen()

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        super().stopService()
        if self.cluster_console is not None:
            self.cluster_console.stop()
            self.cluster_console = None
        return ensureDeferred(self.stop_listening())

    def mount(self, tree: resource.Resource) -> None:
        """Serve ``tree`` from now on."""
        self.root.current = tree

    def listen(self) -> None:
        """Open every server of the configuration running now."""
        model = self.runtime.model
        if model.cluster is not None and model.cluster.console and self.cluster_console is None:
            from supervise.cluster.console import ConsoleMount

            self.cluster_console = ConsoleMount(
                model.cluster, self.runtime.reactor, announce=False, audit=self.runtime.audit
            )
        mount = self.cluster_console
        guests: dict[str, Any] = {}
        if mount is not None:
            from supervise.cluster.console import cluster_users

            guests = cluster_users(mount.config)
        for server_config in model.servers:
            try:
                port = listen(
                    self.runtime.reactor,
                    server_config,
                    self.root,
                    guests,
                    self.guest_tree if mount else None,
                )
            except ServerStartError as problem:
                raise StartupError(str(problem)) from None
            self.ports.append(port)
        if mount is not None:
            mount.start()

    def guest_tree(self, avatar: str) -> resource.IResource:
        """A cluster console user's tree: the console, and XML-RPC limited to their role."""
        assert self.cluster_console is not None
        tree = self.cluster_console.guest_tree(avatar)
        if self.rpc_for_role is not None and isinstance(tree, resource.Resource):
            tree.putChild(b"RPC2", self.rpc_for_role(avatar.split(":", 1)[0]))
        return tree

    async def stop_listening(self) -> None:
        """Close every server (the cluster console's mount stays)."""
        ports, self.ports = self.ports, []
        for port in ports:
            stopping = port.stopListening()
            if stopping is not None:
                await stopping
