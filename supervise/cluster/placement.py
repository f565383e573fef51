"""This node's share of the ``count =`` definitions, and the lease that bounds it.

Every heartbeat that reaches Redis renews the lease; then the node reads the fleet
(heartbeat ages, labels, drained nodes) and, when its share of copies changed (a node
died, was drained or came back), has the revision applied again. When no heartbeat
has reached Redis for ``lease`` seconds, the node stops its copies by itself: the other
nodes start them once its heartbeat is older than ``reschedule_after``, so with
``lease`` below ``reschedule_after`` a partition never runs more than N copies longer
than the stop takes (docs/cluster.md, "Placement and failover").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.cluster_store import fleet
from supervise.cluster_store.admin import LinkCommands
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.placement import Candidate, copies_on
from supervise.cluster_store.schema import Keys

log = Logger(namespace="supervise.cluster.agent")


class PlacementKeeper:
    """The fleet as last read, and whether this node may run floating copies."""

    def __init__(
        self,
        node: str,
        lease: float,
        link: RedisLink,
        keys: Keys,
        reactor: Any,
        changed: Callable[[], object],
    ) -> None:
        self.node = node
        self.lease = lease
        self.conn = LinkCommands(link)
        self.keys = keys
        self.reactor = reactor
        self.changed = changed
        self.view: list[Candidate] = []
        self.holding = False
        self._expiry: IDelayedCall | None = None

    def copies(self, sections: Mapping[str, str]) -> dict[str, int]:
        """The copies of each ``count =`` section this node should run now."""
        if not self.holding:
            return {name: 0 for name in copies_on(self.node, sections, [])}
        return copies_on(self.node, sections, self.view)

    def renewed(self) -> None:
        """A heartbeat reached Redis: the lease runs ``lease`` seconds from now."""
        if self._expiry is not None and self._expiry.active():
            self._expiry.cancel()
        self._expiry = self.reactor.callLater(self.lease, self._expired)
        if not self.holding:
            self.holding = True

    async def refresh(self) -> None:
        """Read the fleet again, and let the follower apply again if this node's share moved."""
        self.view = await fleet.candidates(self.conn, self.keys)
        self.changed()

    def stop(self) -> None:
        if self._expiry is not None and self._expiry.active():
            self._expiry.cancel()
        self._expiry = None

    def _expired(self) -> None:
        self._expiry = None
        self.holding = False
        log.warn(
            "cluster: no heartbeat reached Redis for {lease:g} s: stopping this node's copies "
            "of count = definitions (other nodes take them over)",
            lease=self.lease,
        )
        self.changed()
