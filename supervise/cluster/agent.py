"""A node of the cluster: applies the revisions placed on it, publishes its state and
events, answers commands. Redis going away costs the node nothing but the central view.

One blocking ``XREADGROUP`` (on its own connection) wakes the node for both its command
stream and the revision log, so an idle node costs Redis one heartbeat every
``heartbeat`` seconds and nothing else.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import DeferredLock, ensureDeferred
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from supervise import __version__
from supervise.actions import BadAction, check, perform
from supervise.cluster.cache import Applied, save_applied
from supervise.cluster.tails import TailForwarder
from supervise.cluster_store.definitions import (
    Refused,
    check_allowed,
    cluster_groups,
    extra_sections,
    placed_on,
)
from supervise.cluster_store.link import RedisLink, is_connection_error, is_reply_error
from supervise.cluster_store.schema import (
    HEARTBEAT_SCRIPT,
    SNAPSHOT_SCRIPT,
    TIME_SCRIPT,
    Keys,
    Revision,
    pairs,
    signed_by,
)
from supervise.config.errors import ConfigError
from supervise.config.ini import RawConfig
from supervise.config.model import ClusterConfig, ConfigModel
from supervise.errors import BadName
from supervise.events.types import Event, ProcessGroupEvent
from supervise.interfaces import IEventListener, ISupervisorControl
from supervise.rows import ROW_EVENTS, process_row

log = Logger()

RESULT_TTL = 120


@implementer(IEventListener)
class ClusterAgent:
    """This daemon's side of cluster mode."""

    name = "cluster"
    event_types = (*ROW_EVENTS, ProcessGroupEvent)
    max_pending = 100_000

    def __init__(
        self,
        config: ClusterConfig,
        control: ISupervisorControl,
        reactor: Any,
        load: Callable[[Callable[[RawConfig], None] | None], ConfigModel],
        applied: Applied,
    ) -> None:
        self.config = config
        self.control = control
        self.reactor = reactor
        self.load = load
        self.applied = applied
        self.keys = Keys(config.prefix)
        self.link = RedisLink(config.redis, reactor, self._connected, self._disconnected)
        self.tails = TailForwarder(self.link, self.keys, config.node, control, reactor)
        self.refusal = ""
        self.down_since: float | None = None
        self.sequence = 0
        self.dirty: set[tuple[str, str]] = set()
        self.resnapshot = False
        self._flush_call: IDelayedCall | None = None
        self._heartbeat = LoopingCall(self._beat)
        self._heartbeat.clock = reactor
        self._apply_lock = DeferredLock()
        self._reader: Any = None

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
        self.link.stop()

    def hook(self) -> Callable[[RawConfig], None] | None:
        """The ``config.load(extra=…)`` hook for the applied revision (None for revision 0)."""
        if not self.applied.number:
            return None
        return extra_sections(self.applied.number, self.applied.sections)

    def status(self) -> dict[str, Any]:
        """For this node's own page: Redis reachable or not, the revision run, any refusal."""
        return {
            "node": self.config.node,
            "redis": "up" if self.link.up else "unreachable",
            "down_since": self.down_since if not self.link.up else None,
            "applied": self.applied.number,
            "refused": self.refusal,
        }

    async def _connected(self) -> None:
        self.down_since = None
        await self._register()
        await self._snapshot()
        if not self._heartbeat.running:
            self._heartbeat.start(self.config.heartbeat, now=False)
        ensureDeferred(self._read_loop())
        await self._check_head()

    def _disconnected(self, reason: str) -> None:
        self.down_since = time.time()
        if self._heartbeat.running:
            self._heartbeat.stop()

    # -- presence -----------------------------------------------------------------------

    async def _register(self) -> None:
        node = self.config.node
        await self.link.execute("EVAL", HEARTBEAT_SCRIPT, 1, self.keys.nodes, node)
        await self.link.execute(
            "HSET",
            self.keys.node(node),
            "host", socket.gethostname(),
            "labels", ",".join(self.config.labels),
            "version", __version__,
            "pid", os.getpid(),
            "applied", self.applied.number,
            "refused", self.refusal,
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
        ).addErrback(lambda f: None)

    # -- state and events -----------------------------------------------------------------

    def notify(self, event: Event) -> None:
        """Mark what changed; one flush per reactor turn."""
        if not self.link.up:
            return  # the full snapshot on reconnect carries it
        if isinstance(event, ProcessGroupEvent):
            self.resnapshot = True
        else:
            self.dirty.add((event.group, event.process))  # type: ignore[attr-defined]
        if self._flush_call is None:
            self._flush_call = self.reactor.callLater(0, self._flush)

    def _row(self, group: str, process: str) -> dict[str, Any] | None:
        namespec = f"{group}:{process}"
        try:
            row = process_row(
                self.control.snapshot(namespec), self.control.process_config(namespec)
            )
        except BadName:
            return None
        self.sequence += 1
        row.update(node=self.config.node, seq=self.sequence)
        return row

    def _flush(self) -> None:
        self._flush_call = None
        dirty, self.dirty = self.dirty, set()
        if self.resnapshot:
            self.resnapshot = False
            ensureDeferred(self._snapshot()).addErrback(lambda f: None)
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

    async def _snapshot(self) -> None:
        """Rewrite the node's whole state hash, then tell consoles to re-read it."""
        node = self.config.node
        flat: list[str] = []
        for snapshot in self.control.snapshots():
            row = self._row(snapshot.group, snapshot.name)
            if row is not None:
                flat += [row["namespec"], json.dumps(row, separators=(",", ":"))]
        await self.link.execute("EVAL", SNAPSHOT_SCRIPT, 1, self.keys.state(node), *flat)
        await self._announce_node()

    async def _announce_node(self) -> None:
        node = self.config.node
        await self.link.execute(
            "HSET", self.keys.node(node), "applied", self.applied.number, "refused", self.refusal
        )
        await self.link.execute(
            "XADD", self.keys.events, "MAXLEN", "~", self.config.events_maxlen, "*",
            "node", node, "kind", "node", "body", "{}",
        )  # fmt: skip

    # -- revisions ----------------------------------------------------------------------

    async def _check_head(self) -> None:
        await self._apply_lock.run(self._check_head_locked)  # type: ignore[arg-type]

    async def _check_head_locked(self) -> None:
        head = int(await self.link.execute("GET", self.keys.head) or 0)
        if head == self.applied.number:
            if head and self.applied.digest:
                stored = await self.link.execute("HGET", self.keys.revision(head), "_digest")
                if stored and stored != self.applied.digest:
                    await self._refuse(
                        head,
                        f"revision {head} in Redis is not the revision {head} this node runs "
                        "(Redis lost writes and reused the number): keeping the running one; "
                        "push again to move on",
                    )
            return
        if head < self.applied.number:
            await self._refuse(
                head,
                f"the cluster's head is revision {head}, older than revision "
                f"{self.applied.number} which this node runs (a failover lost writes?): "
                "keeping the running one",
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
            g.name for g in cluster_groups(self.control.active_config(), self.applied.sections)
        }
        after = {g.name for g in cluster_groups(model, sections)}
        changes = await self.control.update(model, only=before | after)
        self.applied = Applied(revision.number, sections, revision.digest)
        self.refusal = ""
        try:
            save_applied(self.config.cache, self.applied)
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
            await self._announce_node()

    async def _refuse(self, number: int, why: str) -> None:
        if self.refusal != why:
            log.error("cluster: refused revision {n}: {why}", n=number, why=why)
        self.refusal = why
        if self.link.up:
            await self._announce_node()

    # -- commands -------------------------------------------------------------------------

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
                            await self._command(entry_id, pairs(flat))
                        else:
                            await self._check_head()
                            await self.link.execute("XACK", stream, node, entry_id)
        except Exception as problem:
            if is_connection_error(problem) or not self.link.up:
                self.link.lost(problem)
            else:
                log.failure("cluster: the command reader failed; reconnecting")
                self.link.lost(problem)
        finally:
            self.link.forget(connection)

    async def _command(self, entry_id: str, fields: dict[str, str]) -> None:
        node = self.config.node
        stream = self.keys.commands(node)
        now = int(await self.link.execute("EVAL", TIME_SCRIPT, 0))
        command_id = fields.get("id", "")
        deadline = int(fields.get("deadline", "0") or 0)
        if deadline and now > deadline:
            log.warn(
                "cluster: dropped command {op} from {user}: past its deadline by {late} ms",
                op=fields.get("op"),
                user=fields.get("user", "?"),
                late=now - deadline,
            )
            await self.link.execute("XACK", stream, node, entry_id)
            return
        answer = await self._execute(fields)
        if command_id:
            key = self.keys.result(command_id)
            await self.link.execute("RPUSH", key, json.dumps(answer))
            await self.link.execute("EXPIRE", key, RESULT_TTL)
        await self.link.execute("XACK", stream, node, entry_id)

    async def _execute(self, fields: dict[str, str]) -> dict[str, Any]:
        op = fields.get("op", "")
        try:
            body = json.loads(fields.get("body", "{}"))
        except ValueError:
            return {"error": "the command body is not JSON"}
        if op == "action":
            try:
                action, names, sig = check(
                    body.get("action"), body.get("names"), body.get("signal")
                )
            except BadAction as problem:
                return {"error": str(problem)}
            log.info(
                "cluster: {user} asked to {action} {names}",
                user=fields.get("user", "?"),
                action=action,
                names=", ".join(names),
            )
            return {"results": await perform(self.control, action, names, sig)}
        if op == "tail":
            return self.tails.want(str(body.get("name", "")), str(body.get("channel", "stdout")))
        if op == "ping":
            return {"pong": self.config.node}
        return {"error": f"unknown command {op!r}"}
