"""Compare two configurations group by group: what ``reread``/``update`` act on."""

from __future__ import annotations

from attrs import frozen

from supervise.config.model import ConfigModel, GroupConfig


@frozen
class ConfigDiff:
    """Groups added, changed and removed between two configurations."""

    added: tuple[GroupConfig, ...]
    changed: tuple[GroupConfig, ...]
    removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing would change."""
        return not (self.added or self.changed or self.removed)

    def names(self) -> tuple[list[str], list[str], list[str]]:
        """Return ``(added, changed, removed)`` group names, as ``reloadConfig`` does."""
        return (
            [g.name for g in self.added],
            [g.name for g in self.changed],
            list(self.removed),
        )


def diff(active: dict[str, GroupConfig], new: ConfigModel) -> ConfigDiff:
    """Diff the active groups against a newly read configuration."""
    new_groups = {g.name: g for g in new.groups}
    # supervisord's order: new groups in config order, removed ones in the order added.
    added = tuple(g for n, g in new_groups.items() if n not in active)
    changed = tuple(g for n, g in new_groups.items() if n in active and active[n] != g)
    removed = tuple(n for n in active if n not in new_groups)
    return ConfigDiff(added, changed, removed)
