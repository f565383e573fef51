"""Following the cluster's head: a node runs the newest revision placed on it, or
refuses it whole and says why.

Nodes move forward only: a head older than the revision a node runs (a failover lost
writes), or a revision whose digest differs from the one run under the same number, is
refused and the running set kept. So is a revision that fails to parse, is unsigned
where a key is required, or asks for something the node's allow-list forbids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twisted.internet.defer import DeferredLock
from twisted.logger import Logger

from supervise.cluster.cache import Applied, save_applied
from supervise.cluster.placement import PlacementKeeper
from supervise.cluster.publisher import Standing, StatePublisher
from supervise.cluster_store import fleet
from supervise.cluster_store.admin import LinkCommands
from supervise.cluster_store.definitions import (
    Refused,
    check_allowed,
    cluster_groups,
    extra_sections,
    placed_on,
)
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.placement import copies_on
from supervise.cluster_store.rollout import Rollout, target_revision
from supervise.cluster_store.schema import Keys, Revision, pairs, signed_by
from supervise.config.errors import ConfigError
from supervise.config.ini import RawConfig
from supervise.config.model import ClusterConfig, ConfigModel
from supervise.interfaces import ISupervisorControl

log = Logger(namespace="supervise.cluster.agent")


class RevisionFollower:
    """Apply the cluster's head revision to this node, one check at a time."""

    def __init__(
        self,
        config: ClusterConfig,
        control: ISupervisorControl,
        link: RedisLink,
        keys: Keys,
        load: Callable[[Callable[[RawConfig], None] | None], ConfigModel],
        standing: Standing,
        publisher: StatePublisher,
        placement: PlacementKeeper,
    ) -> None:
        self.config = config
        self.control = control
        self.link = link
        self.keys = keys
        self.load = load
        self.standing = standing
        self.publisher = publisher
        self.placement = placement
        self.current: Revision | None = None  # the last revision applied, whole
        self.copies: Mapping[str, int] = {}  # the count = copies it placed here
        self.on_rollout: Callable[[Rollout], object] | None = None
        self._apply_lock = DeferredLock()

    async def check_head(self) -> None:
        """Read the head revision and apply it if it is new (one check at a time)."""
        await self._apply_lock.run(self._check_head_locked)  # type: ignore[arg-type]

    @property
    def spreads(self) -> bool:
        """True when the running revision has ``count =`` definitions (placement matters)."""
        return self.current is not None and bool(
            copies_on(self.config.node, self.current.sections, [])
        )

    async def follow_placement(self) -> None:
        """Apply the running revision again if this node's share of copies changed."""
        await self._apply_lock.run(self._follow_placement_locked)  # type: ignore[arg-type]

    async def _follow_placement_locked(self) -> None:
        current = self.current
        if current is not None and self.placement.copies(current.sections) != self.copies:
            await self.apply(current)

    async def _target(self) -> int:
        """The head, or the last good revision while a rollout has not reached this node."""
        head = int(await self.link.execute("GET", self.keys.head) or 0)
        rollout = await fleet.load_rollout(LinkCommands(self.link), self.keys)
        if rollout is not None and rollout.active and self.on_rollout is not None:
            self.on_rollout(rollout)
        return target_revision(head, rollout, self.config.node)

    async def _check_head_locked(self) -> None:
        head = await self._target()
        if head == self.standing.applied.number:
            if head and self.current is None:
                values = pairs(await self.link.execute("HGETALL", self.keys.revision(head)))
                if values and values.get("_digest", "") == self.standing.applied.digest:
                    self.current = Revision.from_hash(head, values)
            if head and self.standing.applied.digest:
                stored = await self.link.execute("HGET", self.keys.revision(head), "_digest")
                if stored and stored != self.standing.applied.digest:
                    await self._refuse(
                        head,
                        f"revision {head} in Redis is not the revision {head} this node runs "
                        "(Redis lost writes and reused the number): keeping the running one; "
                        "push again to move on",
                    )
            return
        if head < self.standing.applied.number:
            await self._refuse(
                head,
                f"the cluster's head is revision {head}, older than revision "
                f"{self.standing.applied.number} which this node runs (a failover lost "
                "writes?): keeping the running one",
            )
            return
        values = pairs(await self.link.execute("HGETALL", self.keys.revision(head)))
        if not values:
            await self._refuse(head, f"revision {head} is missing from Redis")
            return
        await self.apply(Revision.from_hash(head, values))

    async def apply(self, revision: Revision) -> None:
        """Run ``revision``'s sections placed here, or refuse it whole."""
        key = self.config.signing_key
        if key is not None and not signed_by(key, revision):
            await self._refuse(
                revision.number, f"revision {revision.number} is not signed with this node's key"
            )
            return
        copies = self.placement.copies(revision.sections)
        sections = placed_on(revision.sections, self.config.node, self.config.labels, copies)
        try:
            model = self.load(extra_sections(revision.number, sections))
            check_allowed(self.config, cluster_groups(model, sections), revision.number)
        except (ConfigError, Refused) as problem:
            await self._refuse(revision.number, str(problem))
            return
        before = {
            g.name
            for g in cluster_groups(self.control.active_config(), self.standing.applied.sections)
        }
        after = {g.name for g in cluster_groups(model, sections)}
        changes = await self.control.update(model, only=before | after)
        floating = tuple(name for name, number in copies.items() if number)
        self.standing.applied = Applied(revision.number, sections, revision.digest, floating)
        self.current, self.copies = revision, copies
        self.standing.refusal = ""
        try:
            save_applied(self.config.cache, self.standing.applied)
        except OSError as problem:
            log.warn("cluster: could not cache the applied revision: {problem}", problem=problem)
        added, changed, removed = changes.names()
        log.info(
            "cluster: applied revision {n} ({placed} sections here): added {added}, changed "
            "{changed}, removed {removed}",
            n=revision.number,
            placed=len(sections),
            added=", ".join(added) or "none",
            changed=", ".join(changed) or "none",
            removed=", ".join(removed) or "none",
        )
        if self.link.up:
            await self.publisher.announce_node()

    async def _refuse(self, number: int, why: str) -> None:
        if self.standing.refusal != why:
            log.error("cluster: refused revision {n}: {why}", n=number, why=why)
        self.standing.refusal = why
        if self.link.up:
            await self.publisher.announce_node()
