"""Configuration changes on a running Supervisor: supervisorctl's ``reread``, ``update``,
``add`` and ``remove``, as one ``ConfigDiff`` applied one way."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define
from twisted.internet.defer import Deferred

from supervise.config.diff import ConfigDiff, diff
from supervise.config.model import ConfigModel
from supervise.control.lookup import ProcessLookup
from supervise.errors import AlreadyAdded, BadName, CantReread, StillRunning
from supervise.supervisor import Supervisor

__all__ = ["ConfigUpdates"]


@define(eq=False)
class ConfigUpdates:
    """Read the configuration again and apply it, group by group.

    :ivar reread_model: reads the configuration again (raises ValueError/ConfigError).
    :ivar pending: the configuration last read by ``reread``, until ``update`` applies it.
    """

    supervisor: Supervisor
    processes: ProcessLookup
    reread_model: Callable[[], ConfigModel]
    pending: ConfigModel | None = None

    def latest_config(self) -> ConfigModel:
        """The configuration last read (or the running one)."""
        return self.pending if self.pending is not None else self.supervisor.model

    def reread(self) -> ConfigDiff:
        """Read the configuration again and say what changed (CantReread on error)."""
        try:
            model = self.reread_model()
        except ValueError as error:
            raise CantReread(str(error)) from None
        self.pending = model
        active = {name: group.declared for name, group in self.supervisor.groups.items()}
        return diff(active, model)

    def add_group(self, name: str) -> None:
        """Add a group from the last-read configuration."""
        if name in self.supervisor.groups:
            raise AlreadyAdded(name)
        config = self.latest_config().group(name)
        if config is None:
            raise BadName(name)
        self.supervisor.add_group(config)

    def remove_group(self, name: str) -> None:
        """Remove a group whose processes are all stopped."""
        group = self.processes.group(name)
        if not group.all_stopped():
            raise StillRunning(name)
        self.supervisor.remove_group(name)

    def update(self, model: ConfigModel, only: set[str] | None = None) -> Deferred[ConfigDiff]:
        """Apply ``model`` as supervisorctl's ``update`` would."""
        return Deferred.fromCoroutine(self._update(model, only))

    async def _update(self, model: ConfigModel, only: set[str] | None) -> ConfigDiff:
        # A live scale is no change of the configuration: compare what it declared.
        active = {name: group.declared for name, group in self.supervisor.groups.items()}
        changes = diff(active, model)
        if only is not None:
            changes = ConfigDiff(
                tuple(g for g in changes.added if g.name in only),
                tuple(g for g in changes.changed if g.name in only),
                tuple(n for n in changes.removed if n in only),
            )
        for name in [*changes.removed, *(g.name for g in changes.changed)]:
            group = self.supervisor.groups.get(name)
            if group is not None:
                await group.stop_all(self.supervisor.waiters)
                self.supervisor.remove_group(name)
                if name in changes.removed:
                    self.supervisor.choices.scaled.pop(name, None)
        for config in [*changes.changed, *changes.added]:
            self.supervisor.add_group(config)
        self.supervisor.model = model
        self.pending = None
        return changes
