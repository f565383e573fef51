"""A node of the cluster: applies the revisions placed on it, publishes its state and
events, answers commands. Redis going away costs the node nothing but the central view.

One blocking ``XREADGROUP`` (on its own connection) wakes the node for both its command
stream and the revision log, so an idle node costs Redis one heartbeat every
``heartbeat`` seconds and nothing else.

The agent keeps the Redis link's lifecycle, the node's presence and that reader; the
work is its collaborators': ``StatePublisher`` (rows, events, the node record),
``RevisionFollower`` (the head revision, applied or refused) and ``CommandRunner``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from supervise import __version__
from supervise.audit import AuditTrail
from supervise.cluster.cache import Applied
from supervise.cluster.commands import CommandRunner
from supervise.cluster.placement import PlacementKeeper
from supervise.cluster.publisher import Standing, StatePublisher
from supervise.cluster.revisions import RevisionFollower
from supervise.cluster.rollout_driver import RolloutDriver
from supervise.cluster.tails import TailForwarder
from supervise.cluster_store.audit import redis_sink
from supervise.cluster_store.definitions import extra_sections
from supervise.cluster_store.link import RedisLink, is_connection_error, is_reply_error
from supervise.cluster_store.schema import HEARTBEAT_SCRIPT, Keys, pairs
from supervise.config.ini import RawConfig
from supervise.config.model import ClusterConfig, ConfigModel
from supervise.events.types import Event, GroupScaled, ProcessGroupEvent
from supervise.interfaces import IEventListener, ISupervisorControl
from supervise.rows import ROW_EVENTS

log = Logger()


@implementer(IEventListener)
class ClusterAgent:
    """This daemon's side of cluster mode."""

    name = "cluster"
    event_types = (*ROW_EVENTS, ProcessGroupEvent, GroupScaled)
    max_pending = 100_000

    def __init__(
        self,
        config: ClusterConfig,
        control: ISupervisorControl,
        reactor: Any,
        load: Callable[[Callable[[RawConfig], None] | None], ConfigModel],
        applied: Applied,
        on_link: Callable[[], None] = lambda: None,
        audit: AuditTrail | None = None,
    ) -> None:
        """:param on_link: called when Redis goes away or comes back (pages show it).
        :param audit: the daemon's trail; its records also go to the cluster's stream."""
        self.config = config
        self.on_link = on_link
        self.control = control
        self.reactor = reactor
        self.keys = Keys(config.prefix)
        self.link = RedisLink(config.redis, reactor, self._connected, self._disconnected)
        self.tails = TailForwarder(self.link, self.keys, config.node, control, reactor)
        self.standing = Standing(applied)
        self.publisher = StatePublisher(
            config, control, self.link, self.keys, reactor, self.standing
        )
        self.placement = PlacementKeeper(
            config.node,
            config.unreachable_after,
            self.link,
            self.keys,
            reactor,
            lambda: ensureDeferred(self.revisions.follow_placement()),
        )
        self.revisions = RevisionFollower(
            config,
            control,
            self.link,
            self.keys,
            load,
            self.standing,
            self.publisher,
            self.placement,
        )
        self.driver = RolloutDriver(
            config.node, self.link, self.keys, reactor, config.events_maxlen
        )
        self.revisions.on_rollout = self.driver.wake
        self.audit = audit or AuditTrail(config.node)
        self.audit.node = config.node
        self._audit_sink = redis_sink(self.link, self.keys)
        self.audit.sinks.append(self._audit_sink)
        self.commands = CommandRunner(config, control, self.link, self.keys, self.tails, self.audit)
        self.commands.recheck = self.revisions.check_head
        self.down_since: float | None = None
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = reactor
        self._reader: Any = None

    @property
    def applied(self) -> Applied:
        """The revision this node runs (its sections placed here)."""
        return self.standing.applied

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Connect to Redis (and keep reconnecting)."""
        self.down_since = time.time()
        self.link.start()

    def stop(self) -> None:
        """Leave Redis alone from now on (the node's heartbeat stops: it ages out)."""
        if self._heartbeat.running:
            self._heartbeat.stop()
        self.tails.stop()
        self.placement.stop()
        self.driver.stop()
        if self._audit_sink in self.audit.sinks:
            self.audit.sinks.remove(self._audit_sink)
        self.link.stop()

    def hook(self) -> Callable[[RawConfig], None] | None:
        """The ``config.load(extra=…)`` hook for the applied revision (None for revision 0)."""
        if not self.applied.number:
            return None
        held = self.applied.sections if self.placement.holding else self.applied.steady()
        return extra_sections(self.applied.number, held)

    def status(self) -> dict[str, Any]:
        """For this node's own page: Redis reachable or not, the revision run, any refusal."""
        return {
            "node": self.config.node,
            "redis": "up" if self.link.up else "unreachable",
            "down_since": self.down_since if not self.link.up else None,
            "applied": self.applied.number,
            "refused": self.standing.refusal,
        }

    def notify(self, event: Event) -> None:
        """Mark what changed; one flush per reactor turn."""
        self.publisher.notify(event)

    async def _connected(self) -> None:
        self.down_since = None
        self.on_link()
        await self._register()
        await self.publisher.snapshot()
        if not self._heartbeat.running:
            self._heartbeat.start(self.config.heartbeat, now=False)
        ensureDeferred(self._read_loop())
        await self.revisions.check_head()

    def _disconnected(self, reason: str) -> None:
        self.down_since = time.time()
        self.on_link()
        if self._heartbeat.running:
            self._heartbeat.stop()

    # -- presence -----------------------------------------------------------------------

    async def _register(self) -> None:
        node = self.config.node
        await self.link.execute("EVAL", HEARTBEAT_SCRIPT, 1, self.keys.nodes, node)
        self.placement.renewed()
        await self.link.execute(
            "HSET",
            self.keys.node(node),
            "host", socket.gethostname(),
            "labels", ",".join(self.config.labels),
            "version", __version__,
            "pid", os.getpid(),
            "applied", self.applied.number,
            "refused", self.standing.refusal,
            "heartbeat", self.config.heartbeat,
            "unreachable_after", self.config.unreachable_after,
        )  # fmt: skip
        for stream in (self.keys.commands(node), self.keys.revlog):
            try:
                await self.link.execute("XGROUP", "CREATE", stream, node, "$", "MKSTREAM")
            except Exception as problem:
                if not is_reply_error(problem) or "BUSYGROUP" not in str(problem):
                    raise

    def _beat(self) -> None:
        self.link.execute(
            "EVAL", HEARTBEAT_SCRIPT, 1, self.keys.nodes, self.config.node
        ).addCallback(lambda _: self._beat_landed()).addErrback(lambda f: None)

    def _beat_landed(self) -> None:
        """The heartbeat reached Redis: renew the placement lease, re-read the fleet."""
        self.placement.renewed()
        if self.revisions.spreads:
            ensureDeferred(self.placement.refresh()).addErrback(lambda f: None)

    # -- the reader -------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        node = self.config.node
        commands, revlog = self.keys.commands(node), self.keys.revlog
        try:
            connection = await self.link.dedicated()
        except Exception as problem:
            self.link.lost(problem)
            return
        self._reader = connection
        positions = {commands: "0", revlog: "0"}  # our own pending entries first
        try:
            while self.link.up:
                reply = await connection.execute_command(
                    "XREADGROUP", "GROUP", node, node, "COUNT", 100,
                    *(("BLOCK", 0) if set(positions.values()) == {">"} else ()),
                    "STREAMS", commands, revlog, positions[commands], positions[revlog],
                )  # fmt: skip
                got = {str(stream): entries for stream, entries in (reply or [])}
                for stream in (commands, revlog):
                    entries = got.get(stream, [])
                    if positions[stream] == "0" and not entries:
                        positions[stream] = ">"
                    for entry_id, flat in entries:
                        if flat is None:  # pending, but trimmed from the stream
                            await self.link.execute("XACK", stream, node, entry_id)
                            continue
                        if stream == commands:
                            await self.commands.run(entry_id, pairs(flat))
                        else:
                            await self.revisions.check_head()
                            await self.link.execute("XACK", stream, node, entry_id)
        except Exception as problem:
            if is_connection_error(problem) or not self.link.up:
                self.link.lost(problem)
            else:
                log.failure("cluster: the command reader failed; reconnecting")
                self.link.lost(problem)
        finally:
            self.link.forget(connection)
