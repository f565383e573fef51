"""Cluster mode as a service: the agent that applies the cluster's definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service

from supervise.cluster.cache import Applied
from supervise.config.ini import RawConfig
from supervise.daemon.core import CoreService
from supervise.daemon.runtime import Runtime
from supervise.events.bus import EventBus

if TYPE_CHECKING:
    # Imported only when [cluster] is configured (its Redis client costs start-up time).
    from supervise.cluster.agent import ClusterAgent


class ClusterService(Service):
    """Runs the ClusterAgent when ``[cluster]`` is configured."""

    def __init__(
        self, runtime: Runtime, bus: EventBus, core: CoreService, applied: Applied
    ) -> None:
        self.runtime = runtime
        self.bus = bus
        self.core = core
        self.applied = applied
        self.agent: ClusterAgent | None = None
        self.watchers: list[Callable[[], None]] = []

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        model = self.runtime.model
        if model.cluster is None:
            return
        from supervise.cluster.agent import ClusterAgent

        assert self.core.control is not None
        self.agent = ClusterAgent(
            model.cluster,
            self.core.control,
            self.runtime.reactor,
            self.runtime.options.load,
            self.applied,
            on_link=self._link_changed,
            audit=self.runtime.audit,
        )
        self.bus.subscribe(self.agent)
        self.agent.start()

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        if self.agent is not None:
            self.agent.stop()
            self.applied = self.agent.applied
            self.agent = None

    def _link_changed(self) -> None:
        for watcher in self.watchers:
            watcher()

    def hook(self) -> Callable[[RawConfig], None] | None:
        """The cluster revision this node runs, for reading the configuration again."""
        return self.agent.hook() if self.agent is not None else None

    def status(self) -> dict[str, Any] | None:
        """This node's cluster status (None outside cluster mode)."""
        return self.agent.status() if self.agent is not None else None
