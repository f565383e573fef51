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

    # supervisord's order: by group priority, then name.
    def order(group: GroupConfig) -> tuple[int, str]:
        return group.priority, group.name

    added = tuple(sorted((g for n, g in new_groups.items() if n not in active), key=order))
    changed = tuple(
        sorted((g for n, g in new_groups.items() if n in active and active[n] != g), key=order)
    )
    removed = tuple(
        g.name for g in sorted((g for n, g in active.items() if n not in new_groups), key=order)
    )
    return ConfigDiff(added, changed, removed)
