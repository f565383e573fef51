"""The HTTP resource tree: XML-RPC (the explicit method table), log tails, plugins'
resources, the web console and the cluster console."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from twisted.application.service import Service
from twisted.logger import Logger
from twisted.web import resource

from supervise.config.values import import_spec
from supervise.daemon.control import DaemonControl
from supervise.daemon.core import CoreService
from supervise.daemon.plugins import PluginHost
from supervise.daemon.runtime import Runtime
from supervise.daemon.servers import HTTPServers
from supervise.events.bus import EventBus
from supervise.http.csrf import new_token
from supervise.interfaces import IResourceUsage
from supervise.plugins import LoadedPlugin
from supervise.rpc.registry import methods_of, public_methods
from supervise.rpc.resource import XMLRPCResource
from supervise.rpc.supervise_ns import SuperviseNamespace
from supervise.rpc.supervisor_ns import state_check, supervisor_methods
from supervise.rpc.system_ns import SystemNamespace
from supervise.web.console import mount_console
from supervise.web.feed import ConsoleFeed
from supervise.web.logtail import MainLogTail, ProcessLogTail

log = Logger(namespace="supervise.service")

MAIN_RPC_FACTORIES = frozenset(
    {"supervisor.rpcinterface:make_main_rpcinterface", "supervise.rpc:make_main_rpcinterface"}
)

Methods = dict[str, Callable[..., Any]]


def load_rpc_namespace(
    name: str, factory_spec: str, daemon: DaemonControl, kwargs: Mapping[str, str]
) -> Methods:
    """An ``[rpcinterface:x]`` namespace made by its factory (supervisord's signature:
    ``factory(supervisord, **kwargs)``); logged and left out if it fails."""
    try:
        namespace = import_spec(factory_spec)(daemon, **kwargs)
    except Exception:
        log.failure(
            "could not load [rpcinterface:{name}] ({factory})", name=name, factory=factory_spec
        )
        return {}
    log.info("RPC interface {name!r} initialized", name=name)
    return public_methods(name, namespace)


def rpc_resource(
    runtime: Runtime,
    core: CoreService,
    daemon: DaemonControl,
    plugins: list[LoadedPlugin],
    usage: IResourceUsage | None = None,
) -> XMLRPCResource:
    """``/RPC2`` with every namespace: supervisor, supervise, ``[rpcinterface:x]``,
    plugins' and system."""
    assert core.control is not None
    methods = supervisor_methods(core.control, daemon, time.time)
    supervise = SuperviseNamespace(
        core.control, runtime.reactor, time.time, daemon, audit=runtime.audit, usage=usage
    )
    methods.update(methods_of("supervise", supervise))
    for extra in runtime.model.rpcinterfaces:
        if extra.factory in MAIN_RPC_FACTORIES:
            log.info("RPC interface {name!r} initialized", name=extra.name)
        else:
            methods.update(load_rpc_namespace(extra.name, extra.factory, daemon, extra.kwargs))
    for plugin in plugins:
        for namespace_name, namespace_object in plugin.namespaces.items():
            found = methods_of(namespace_name, namespace_object) or public_methods(
                namespace_name, namespace_object
            )
            methods.update(found)
    system = SystemNamespace()
    methods.update(methods_of("system", system))
    system.methods = methods
    rpc = XMLRPCResource(methods, state_check(core.control), audit=runtime.audit)
    system.dispatch = rpc.dispatch
    return rpc


class SiteService(Service):
    """Builds the tree once the core and plugins run, and mounts it on the servers
    (again after a reload, for the new ``[rpcinterface:x]`` sections)."""

    def __init__(
        self,
        runtime: Runtime,
        bus: EventBus,
        core: CoreService,
        plugins: PluginHost,
        daemon: DaemonControl,
        servers: HTTPServers,
        usage: IResourceUsage | None = None,
    ) -> None:
        self.runtime = runtime
        self.bus = bus
        self.core = core
        self.plugins = plugins
        self.daemon = daemon
        self.servers = servers
        self.usage = usage
        self.console: ConsoleFeed | None = None
        self.console_token = new_token()  # one per daemon run: pages survive a reload

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        self.mount()

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        if self.console is not None and self.console.subscription is not None:
            self.console.subscription.cancel()
        self.console = None

    def refresh_console(self) -> None:
        """Browsers of the node's console get a fresh snapshot (the cluster link changed)."""
        if self.console is not None:
            self.console.refresh()

    def mount(self) -> None:
        """Build the tree for the configuration running now and serve it."""
        self.servers.mount(self.root())

    def root(self) -> resource.Resource:
        """The whole tree."""
        control = self.core.control
        assert control is not None
        plugins = self.plugins.plugins
        root = resource.Resource()
        rpc = rpc_resource(self.runtime, self.core, self.daemon, plugins, self.usage)
        root.putChild(b"RPC2", rpc)
        self.servers.rpc_for_role = rpc.for_role
        root.putChild(b"logtail", ProcessLogTail(control))
        plugin_root = resource.Resource()
        for plugin in plugins:
            mount = resource.Resource()
            for path, child in plugin.resources.items():
                mount.putChild(path, child)
            plugin_root.putChild(plugin.name.encode(), mount)
        root.putChild(b"plugins", plugin_root)
        root.putChild(b"mainlogtail", MainLogTail(self.daemon.main_log_path, self.daemon.followers))
        if self.console is not None and self.console.subscription is not None:
            self.console.subscription.cancel()
        self.console = mount_console(
            root,
            control,
            self.bus,
            self.daemon.daemon_info,
            self.daemon.main_log_path,
            self.runtime.reactor,
            time.time,
            self.console_token,
            self.runtime.audit,
            self.usage,
        )
        cluster_console = self.servers.cluster_console
        if cluster_console is not None:
            from supervise.cluster.console import cluster_gate

            root.putChild(b"cluster", cluster_gate(cluster_console, self.runtime.model.servers))
        return root
