"""Following the cluster's head: a node runs the newest revision placed on it, or
refuses it whole and says why.

Nodes move forward only: a head older than the revision a node runs (a failover lost
writes), or a revision whose digest differs from the one run under the same number, is
refused and the running set kept. So is a revision that fails to parse, is unsigned
where a key is required, or asks for something the node's allow-list forbids.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import DeferredLock
from twisted.logger import Logger

from supervise.cluster.cache import Applied, save_applied
from supervise.cluster.publisher import Standing, StatePublisher
from supervise.cluster_store.definitions import (
    Refused,
    check_allowed,
    cluster_groups,
    extra_sections,
    placed_on,
)
from supervise.cluster_store.link import RedisLink
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
    ) -> None:
        self.config = config
        self.control = control
        self.link = link
        self.keys = keys
        self.load = load
        self.standing = standing
        self.publisher = publisher
        self._apply_lock = DeferredLock()

    async def check_head(self) -> None:
        """Read the head revision and apply it if it is new (one check at a time)."""
        await self._apply_lock.run(self._check_head_locked)  # type: ignore[arg-type]

    async def _check_head_locked(self) -> None:
        head = int(await self.link.execute("GET", self.keys.head) or 0)
        if head == self.standing.applied.number:
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
        sections = placed_on(revision.sections, self.config.node, self.config.labels)
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
        self.standing.applied = Applied(revision.number, sections, revision.digest)
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
