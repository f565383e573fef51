"""What a revision would do on each node: programs started, restarted and stopped.

The same comparison ``supervisorctl update`` makes (supervise/config/diff.py), between
the sections a node runs now and those it would run, so ``cluster plan`` and a rolling
push's health gate watch exactly what a push changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import frozen

from supervise.cluster_store.definitions import placed_on
from supervise.config.build import build
from supervise.config.diff import diff
from supervise.config.errors import ConfigError
from supervise.config.ini import RawConfig, add_text
from supervise.config.model import ConfigModel


@frozen
class NodePlan:
    """One node's part of a push (group names), or why it cannot be worked out."""

    node: str
    start: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    error: str = ""

    @property
    def empty(self) -> bool:
        return not (self.start or self.restart or self.stop or self.error)

    @property
    def watched(self) -> list[str]:
        """The groups a rolling push waits on: those started or restarted."""
        return sorted({*self.start, *self.restart})

    def describe(self) -> str:
        if self.error:
            return f"{self.node}: cannot tell ({self.error})"
        if self.empty:
            return f"{self.node}: nothing changes"
        parts = [
            f"{verb} {', '.join(names)}"
            for verb, names in (
                ("start", self.start),
                ("restart", self.restart),
                ("stop", self.stop),
            )
            if names
        ]
        return f"{self.node}: " + "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "node": self.node,
            "start": list(self.start),
            "restart": list(self.restart),
            "stop": list(self.stop),
            "error": self.error,
        }


def model_of(sections: Mapping[str, str], label: str) -> ConfigModel:
    """The configuration a set of placed sections builds (alone, as the pusher sees it)."""
    raw = RawConfig(path=label, here=os.getcwd(), sections={"supervisord": {}})
    add_text(raw, label, "\n".join(sections[name] for name in sorted(sections)))
    return build(raw, dict(os.environ))


def plan_node(
    node: str,
    labels: tuple[str, ...],
    old: tuple[Mapping[str, str], Mapping[str, int]],
    new: tuple[Mapping[str, str], Mapping[str, int]],
) -> NodePlan:
    """What moving ``node`` from ``old`` to ``new`` (sections, copies) starts, restarts, stops."""
    before = placed_on(old[0], node, labels, old[1])
    after = placed_on(new[0], node, labels, new[1])
    if before == after:
        return NodePlan(node)
    try:
        running = {g.name: g for g in model_of(before, "the running revision").groups}
        change = diff(running, model_of(after, "the new revision"))
    except ConfigError as problem:
        return NodePlan(node, error=str(problem))
    added, changed, removed = change.names()
    return NodePlan(node, tuple(added), tuple(changed), tuple(removed))
