"""Driving a rolling push from inside the fleet: whichever node holds the lease.

Every node that sees an active rollout ticks; one of them holds ``{sv}:rollout:driver``
(a lease renewed each tick) and advances the rollout (supervise/cluster_store/rollout.py
decides), tells the nodes it moves to check their revision, and pushes the revert when
the rollout halts with ``auto_revert``. If the driver dies, another node takes over when
its lease runs out; the state in Redis says at every moment which nodes moved.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from supervise.cluster_store import admin, fleet
from supervise.cluster_store.admin import LinkCommands
from supervise.cluster_store.link import RedisLink, is_connection_error
from supervise.cluster_store.rollout import FINISHED, NodeSeen, Rollout, decide
from supervise.cluster_store.schema import Keys

log = Logger(namespace="supervise.cluster.agent")

TICK = 0.5
LEASE_MS = 5000
ABANDONED_MS = 30_000  # a rollout left "opening" this long: its pushing client died


class RolloutDriver:
    """Tick while a rollout is active; drive it while this node holds the lease."""

    def __init__(self, node: str, link: RedisLink, keys: Keys, reactor: Any, maxlen: int) -> None:
        self.node = node
        self.link = link
        self.conn = LinkCommands(link)
        self.keys = keys
        self.maxlen = maxlen
        self._loop = LoopingCall(self._tick)
        self._loop.clock = reactor

    def wake(self, rollout: Rollout | None = None) -> None:
        """Start ticking (a rollout is active)."""
        if not self._loop.running:
            self._loop.start(TICK, now=True).addErrback(
                lambda f: log.failure("cluster: the rollout driver failed", f)
            )

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def _tick(self) -> Deferred[None]:
        return ensureDeferred(self._drive())

    async def _drive(self) -> None:
        try:
            rollout = await fleet.load_rollout(self.conn, self.keys)
            if rollout is None or rollout.state in FINISHED:
                self.stop()
                return
            if not await fleet.lead(self.conn, self.keys, self.node, LEASE_MS):
                return
            await self.step(rollout)
        except Exception as problem:
            if not is_connection_error(problem):
                log.failure("cluster: a rollout tick failed")

    async def step(self, rollout: Rollout) -> None:
        """One tick of the driver holding the lease."""
        now = await admin.redis_time_ms(self.conn)
        head = await admin.head(self.conn, self.keys)
        rollout.driver = self.node
        if rollout.state == "opening":
            if now - rollout.started > ABANDONED_MS:
                rollout.state = "superseded"
                rollout.reason = "the pushing client left before storing the revision"
                await self._save(rollout)
            return
        if rollout.active and head != rollout.revision:
            rollout.state = "superseded"
            rollout.reason = f"revision {head} was pushed meanwhile"
            await self._save(rollout)
            await self._tell_everyone()
            return
        asks = await fleet.take_asks(self.conn, self.keys)
        decision = decide(rollout, await self._seen(rollout), now, asks)
        if decision.revert:
            await self._revert(rollout)
        if decision.changed or decision.revert:
            await self._save(rollout)
            if rollout.reason and not rollout.active:
                log.warn("cluster: {summary}", summary=rollout.summary())
        for node in decision.move:
            await self._tell(node)
        if rollout.state == "done":
            log.info("cluster: {summary}", summary=rollout.summary())
            await self._tell_everyone()

    async def _seen(self, rollout: Rollout) -> dict[str, NodeSeen]:
        moving = {n for n in rollout.order if rollout.step(n).phase in ("moving", "healthy")}
        seen = {}
        for info in await admin.nodes(self.conn, self.keys):
            if info.name not in moving:
                continue
            fields = admin.node_fields(info.fields)
            rows = await admin.processes(self.conn, self.keys, info.name)
            seen[info.name] = NodeSeen(info.reachable, fields["applied"], fields["refused"], rows)
        return seen

    async def _revert(self, rollout: Rollout) -> None:
        base = await admin.revision(self.conn, self.keys, rollout.base)
        if base is None:
            rollout.reason += f"; cannot revert: revision {rollout.base} is no longer kept"
            return
        rollout.revert = await admin.push(
            self.conn,
            self.keys,
            base.sections,
            f"revert of revision {rollout.revision} to {rollout.base}: {rollout.reason}",
            author=f"rollout driver on {self.node}",
        )
        if rollout.state == "halted":
            rollout.state = "reverted"

    async def _save(self, rollout: Rollout) -> None:
        await fleet.save_rollout(self.conn, self.keys, rollout, self.maxlen)

    async def _tell(self, node: str) -> None:
        """Ask ``node`` to check which revision it should run now."""
        await self.link.execute(
            "XADD", self.keys.commands(node), "MAXLEN", "~", 1000, "*",
            "op", "check", "body", "{}", "user", f"rollout driver on {self.node}",
        )  # fmt: skip

    async def _tell_everyone(self) -> None:
        for info in await admin.nodes(self.conn, self.keys):
            await self._tell(info.name)
