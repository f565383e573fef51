"""Plugins: loaded once the core runs, their services run as children of one
MultiService, each guarded so a failing plugin leaves the daemon and the others be."""

from __future__ import annotations

from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from supervise.daemon.core import CoreService
from supervise.daemon.runtime import Runtime
from supervise.events.bus import EventBus
from supervise.plugins import LoadedPlugin, PluginContext, load_all

log = Logger(namespace="supervise.service")


class GuardedService(Service):
    """One plugin's service: a failure to start or stop is logged, not raised."""

    def __init__(self, plugin: str, inner: IService) -> None:
        self.plugin = plugin
        self.inner = inner

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        try:
            self.inner.startService()
        except Exception:
            log.failure("plugin {name} failed to start a service", name=self.plugin)

    def stopService(self) -> Deferred[Any]:  # noqa: N802 - Twisted's name
        super().stopService()

        def failed(failure: Failure) -> None:
            log.failure("plugin {name} failed to stop", failure, name=self.plugin)

        return maybeDeferred(self.inner.stopService).addErrback(failed)


class PluginHost(MultiService):
    """Loads ``[plugin:x]`` sections, subscribes their listeners to the bus, and runs
    their services."""

    def __init__(self, runtime: Runtime, bus: EventBus, core: CoreService) -> None:
        super().__init__()
        self.runtime = runtime
        self.bus = bus
        self.core = core
        self.plugins: list[LoadedPlugin] = []

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        self.plugins = load_all(self.runtime.model.plugins, self._context)
        for plugin in self.plugins:
            for listener in plugin.listeners:
                self.bus.subscribe(listener)
            for plugin_service in plugin.services:
                GuardedService(plugin.name, plugin_service).setServiceParent(self)
        super().startService()

    def _context(self, name: str) -> PluginContext:
        return PluginContext(
            name,
            self.core.control,
            self.bus,
            self.runtime.reactor,
            Logger(namespace=f"supervise.plugin.{name}"),
        )
