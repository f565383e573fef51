"""``twistd supervise-console``: the cluster console alone, running no programs.

It reads the same configuration as a node (``-c FILE``): ``[cluster]`` for Redis and the
console's users, ``[inet_http_server]`` / ``[unix_http_server]`` for where to serve.
``/`` redirects to ``/cluster/``.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IListeningPort
from twisted.python import usage
from twisted.web import resource
from twisted.web.util import Redirect

from supervise import config
from supervise.cluster.console import ConsoleMount, cluster_gate, cluster_users
from supervise.config.model import ConfigModel
from supervise.http.servers import listen


class Options(usage.Options):
    """Options of ``twistd supervise-console``."""

    synopsis = "-c FILE"
    optParameters = [["configuration", "c", None, "a configuration file with [cluster]"]]

    def postOptions(self) -> None:  # noqa: N802 - Twisted's name
        if not self["configuration"]:
            raise usage.UsageError("-c FILE is required")
        try:
            self["model"] = config.load(self["configuration"])
        except config.ConfigError as problem:
            raise usage.UsageError(str(problem)) from None
        model: ConfigModel = self["model"]
        if model.cluster is None:
            raise usage.UsageError(f"{self['configuration']} has no [cluster] section")
        if not model.servers:
            raise usage.UsageError("no [inet_http_server] or [unix_http_server] to serve on")


class ConsoleService(Service):
    """Serves ``/cluster/`` from Redis on the configured HTTP servers."""

    def __init__(self, model: ConfigModel, reactor: Any) -> None:
        assert model.cluster is not None
        self.model = model
        self.reactor = reactor
        self.mount = ConsoleMount(model.cluster, reactor)
        self.ports: list[IListeningPort] = []

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        root = resource.Resource()
        root.putChild(b"", Redirect(b"/cluster/"))
        root.putChild(b"cluster", cluster_gate(self.mount, self.model.servers))
        users = cluster_users(self.mount.config)
        for server in self.model.servers:
            self.ports.append(listen(self.reactor, server, root, users, self.mount.guest_tree))
        self.mount.start()

    def stopService(self) -> Deferred[Any]:  # noqa: N802 - Twisted's name
        super().stopService()
        self.mount.stop()
        stopping = [d for d in (p.stopListening() for p in self.ports) if d is not None]
        return DeferredList(stopping)


def make_service(options: Options) -> ConsoleService:
    """The service for ``twistd supervise-console``."""
    from twisted.internet import reactor

    return ConsoleService(options["model"], reactor)
