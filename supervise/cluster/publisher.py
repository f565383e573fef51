"""This node's state in Redis: a row per process and the node record, kept current.

Bus events mark processes dirty and one flush per reactor turn writes their rows and
appends them to the event stream; a change of groups, or a reconnect, rewrites the whole
state hash instead. Consoles follow both.
"""

from __future__ import annotations

import json
from typing import Any

from attrs import define
from twisted.internet.defer import ensureDeferred
from twisted.internet.interfaces import IDelayedCall

from supervise.cluster.cache import Applied
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.schema import SNAPSHOT_SCRIPT, Keys
from supervise.config.model import ClusterConfig
from supervise.errors import BadName
from supervise.events.types import Event, GroupScaled, HealthFailed, ProcessGroupEvent
from supervise.interfaces import ISupervisorControl
from supervise.rows import process_row


@define(eq=False)
class Standing:
    """What the node record says besides presence: the revision run and any refusal."""

    applied: Applied
    refusal: str = ""


class StatePublisher:
    """Write this node's process rows, state events and node record to Redis."""

    def __init__(
        self,
        config: ClusterConfig,
        control: ISupervisorControl,
        link: RedisLink,
        keys: Keys,
        reactor: Any,
        standing: Standing,
    ) -> None:
        self.config = config
        self.control = control
        self.link = link
        self.keys = keys
        self.reactor = reactor
        self.standing = standing
        self.sequence = 0
        self.dirty: set[tuple[str, str]] = set()
        self.resnapshot = False
        self.health_failed: dict[str, int] = {}  # namespec -> failed checks since added
        self._flush_call: IDelayedCall | None = None

    def notify(self, event: Event) -> None:
        """Mark what changed; one flush per reactor turn."""
        self._count_health(event)
        if not self.link.up:
            return  # the full snapshot on reconnect carries it
        if isinstance(event, ProcessGroupEvent | GroupScaled):
            self.resnapshot = True  # a scale adds or removes rows
        else:
            self.dirty.add((event.group, event.process))  # type: ignore[attr-defined]
        if self._flush_call is None:
            self._flush_call = self.reactor.callLater(0, self._flush)

    def _count_health(self, event: Event) -> None:
        """Failed health checks per process since its group was added (rolling pushes)."""
        if isinstance(event, HealthFailed):
            namespec = f"{event.group}:{event.process}"
            self.health_failed[namespec] = self.health_failed.get(namespec, 0) + 1
        elif isinstance(event, ProcessGroupEvent):
            prefix = f"{event.group}:"
            for namespec in [n for n in self.health_failed if n.startswith(prefix)]:
                del self.health_failed[namespec]

    def _row(self, group: str, process: str) -> dict[str, Any] | None:
        namespec = f"{group}:{process}"
        try:
            row = process_row(
                self.control.snapshot(namespec), self.control.process_config(namespec)
            )
        except BadName:
            return None
        self.sequence += 1
        row.update(
            node=self.config.node,
            seq=self.sequence,
            health_failed=self.health_failed.get(namespec, 0),
        )
        return row

    def _flush(self) -> None:
        self._flush_call = None
        dirty, self.dirty = self.dirty, set()
        if self.resnapshot:
            self.resnapshot = False
            ensureDeferred(self.snapshot()).addErrback(lambda f: None)
            return
        node = self.config.node
        for group, process in sorted(dirty):
            row = self._row(group, process)
            if row is None:
                continue
            body = json.dumps(row, separators=(",", ":"))
            self.link.execute("HSET", self.keys.state(node), row["namespec"], body).addErrback(
                lambda f: None
            )
            self.link.execute(
                "XADD", self.keys.events, "MAXLEN", "~", self.config.events_maxlen, "*",
                "node", node, "kind", "process", "body", body,
            ).addErrback(lambda f: None)  # fmt: skip

    async def snapshot(self) -> None:
        """Rewrite the node's whole state hash, then tell consoles to re-read it."""
        node = self.config.node
        flat: list[str] = []
        for snapshot in self.control.snapshots():
            row = self._row(snapshot.group, snapshot.name)
            if row is not None:
                flat += [row["namespec"], json.dumps(row, separators=(",", ":"))]
        await self.link.execute("EVAL", SNAPSHOT_SCRIPT, 1, self.keys.state(node), *flat)
        await self.announce_node()

    async def announce_node(self) -> None:
        """Write the revision run and any refusal to the node record; tell consoles."""
        node = self.config.node
        await self.link.execute(
            "HSET",
            self.keys.node(node),
            "applied",
            self.standing.applied.number,
            "refused",
            self.standing.refusal,
        )
        await self.link.execute(
            "XADD", self.keys.events, "MAXLEN", "~", self.config.events_maxlen, "*",
            "node", node, "kind", "node", "body", "{}",
        )  # fmt: skip
