"""The Supervisor: owns the groups, its own state, and applies configuration changes."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define, field
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from supervise.config.model import ConfigModel, GroupConfig, GroupKind
from supervise.events.types import (
    ProcessGroupAdded,
    ProcessGroupRemoved,
    SupervisorRunning,
    SupervisorStopping,
)
from supervise.interfaces import IEventBus, IProcessSpawner
from supervise.process.group import ProcessGroup
from supervise.process.pool import ListenerPool, WireSerials
from supervise.process.program import Program, SpawnContext
from supervise.states import SupervisorState

log = Logger()


@define(eq=False)
class Supervisor:
    """Runs the groups of one configuration.

    :ivar fcgi_sockets: opens the shared socket of an fcgi group, giving its fd.
    """

    model: ConfigModel
    clock: IReactorTime
    wall_clock: Callable[[], float]
    spawner: IProcessSpawner
    bus: IEventBus
    context: SpawnContext
    fcgi_sockets: Callable[[GroupConfig], int | None] = lambda group: None
    state: SupervisorState = SupervisorState.RUNNING
    groups: dict[str, ProcessGroup] = field(factory=dict)
    pools: dict[str, ListenerPool] = field(factory=dict)
    serials: WireSerials = field(factory=WireSerials)
    _stopping: Deferred[None] | None = None

    def start(self) -> None:
        """Add every configured group (autostarting) and announce RUNNING."""
        self.state = SupervisorState.RUNNING
        for config in sorted(self.model.groups, key=lambda g: (g.priority, g.name)):
            self.add_group(config)
        self.bus.publish(SupervisorRunning())

    def may_restart(self) -> bool:
        """Automatic starts happen only while the daemon is RUNNING."""
        return self.state is SupervisorState.RUNNING

    def add_group(self, config: GroupConfig) -> ProcessGroup:
        """Create a group's processes, announce it, and autostart it."""
        stdin_fd = self.fcgi_sockets(config) if config.fcgi_socket is not None else None
        processes = {
            process.name: Program(
                process,
                self.clock,
                self.wall_clock,
                self.spawner,
                self.bus,
                self.context,
                may_restart=self.may_restart,
                stdin_fd=stdin_fd,
            )
            for process in config.processes
        }
        group = ProcessGroup(config, processes)
        self.groups[config.name] = group
        if config.kind is GroupKind.EVENTLISTENER:
            pool = ListenerPool(
                config, group.ordered(), self.bus, self.context.identifier, self.serials
            )
            pool.start()
            self.pools[config.name] = pool
        self.bus.publish(ProcessGroupAdded(config.name))
        if self.state is SupervisorState.RUNNING:
            group.autostart()
        return group

    def remove_group(self, name: str) -> None:
        """Forget a fully stopped group and announce it."""
        del self.groups[name]
        pool = self.pools.pop(name, None)
        if pool is not None:
            pool.stop()
        self.bus.publish(ProcessGroupRemoved(name))

    def ordered_groups(self) -> list[ProcessGroup]:
        """Groups in start order: (priority, name)."""
        return sorted(self.groups.values(), key=lambda g: (g.config.priority, g.name))

    async def stop_all(self) -> None:
        """Stop groups one at a time, highest priority number first (SUPERVISOR.md §3.8)."""
        for group in reversed(self.ordered_groups()):
            await group.stop_all()

    def shutdown(self) -> Deferred[None]:
        """Stop everything for exit; fire when every process is stopped."""
        if self._stopping is not None:
            return self._stopping
        self.state = SupervisorState.SHUTDOWN
        self.bus.publish(SupervisorStopping())
        self._stopping = Deferred.fromCoroutine(self.stop_all())
        return self._stopping

    async def replace(self, model: ConfigModel, context: SpawnContext | None = None) -> None:
        """Reload: stop everything, drop every group, and start ``model`` from scratch."""
        self.state = SupervisorState.RESTARTING
        self.bus.publish(SupervisorStopping())
        await self.stop_all()
        for name in list(self.groups):
            self.remove_group(name)
        self.model = model
        if context is not None:
            self.context = context
        self.start()
