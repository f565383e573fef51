"""The cluster console's picture of every node and process, kept live from Redis.

On each (re)connection: remember the newest event id, read every node's hash and state
hash (the snapshot), then follow ``sv:events`` from that id with a blocking read. Node
liveness is judged every second from the heartbeat scores and Redis's own clock (two
commands, whatever the number of nodes). Browsers get the snapshot, then only what
changed, at most once per reactor turn.
"""

from __future__ import annotations

import json
import time
from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from supervise import __version__
from supervise.cluster_store import admin, fleet
from supervise.cluster_store.admin import LinkCommands
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.rollout import Rollout
from supervise.cluster_store.schema import TIME_SCRIPT, Keys, pairs
from supervise.config.model import ClusterConfig
from supervise.http.sse import Fanout, sse

log = Logger()

JUDGE_EVERY = 1.0


class ClusterView:
    """Nodes and processes of the whole cluster, and the browsers that watch them."""

    def __init__(self, config: ClusterConfig, reactor: Any, announce: bool = True) -> None:
        self.config = config
        self.reactor = reactor
        self.keys = Keys(config.prefix)
        self.link = RedisLink(
            config.redis, reactor, self._connected, self._disconnected, announce=announce
        )
        self.redis = LinkCommands(self.link)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.rows: dict[str, dict[str, Any]] = {}  # "node/namespec" -> row
        self.now_ms = 0
        self.down_since: float | None = None
        self.fanout = Fanout(self.snapshot)
        self.dirty_rows: set[str] = set()
        self.removed: set[str] = set()
        self.dirty_nodes: set[str] = set()
        self.rollout = ""  # the current or last rolling push, one line
        self._flush_call: IDelayedCall | None = None
        self._judge = LoopingCall(self._judge_nodes)
        self._judge.clock = reactor

    def start(self) -> None:
        """Connect and follow."""
        self.down_since = time.time()
        self.link.start()

    def stop(self) -> None:
        """Disconnect."""
        if self._judge.running:
            self._judge.stop()
        self.link.stop()

    # -- Redis side --------------------------------------------------------------------

    async def _connected(self) -> None:
        self.down_since = None
        newest = await self.link.execute("XREVRANGE", self.keys.events, "+", "-", "COUNT", 1)
        last_id = str(newest[0][0]) if newest else "0-0"
        await self._read_everything()
        self.fanout.broadcast(self.snapshot())
        if not self._judge.running:
            self._judge.start(JUDGE_EVERY, now=False)
        ensureDeferred(self._follow(last_id))

    def _disconnected(self, reason: str) -> None:
        self.down_since = time.time()
        if self._judge.running:
            self._judge.stop()
        self.fanout.broadcast(self.snapshot())

    async def _read_everything(self) -> None:
        rollout = await fleet.load_rollout(self.redis, self.keys)
        self.rollout = rollout.summary() if rollout is not None else ""
        found = await admin.nodes(self.redis, self.keys)
        self.nodes = {n.name: n.as_dict() for n in found}
        self.rows = {}
        for name in self.nodes:
            await self._read_node_state(name)

    async def _read_node_state(self, name: str) -> None:
        for key in [k for k in self.rows if k.startswith(f"{name}/")]:
            del self.rows[key]
            self.removed.add(key)
        for row in await admin.processes(self.redis, self.keys, name):
            key = f"{name}/{row['namespec']}"
            self.rows[key] = row
            self.removed.discard(key)
            self.dirty_rows.add(key)

    async def _read_node(self, name: str) -> None:
        fields = pairs(await self.link.execute("HGETALL", self.keys.node(name)))
        entry = self.nodes.setdefault(
            name, {"name": name, "heartbeat": 0, "age": 0.0, "reachable": True}
        )
        entry.update(admin.node_fields(fields))
        self.dirty_nodes.add(name)

    async def _follow(self, last_id: str) -> None:
        try:
            connection = await self.link.dedicated()
        except Exception as problem:
            self.link.lost(problem)
            return
        try:
            while self.link.up:
                reply = await connection.execute_command(
                    "XREAD", "COUNT", 1000, "BLOCK", 0, "STREAMS", self.keys.events, last_id
                )
                for _stream, entries in reply or []:
                    for entry_id, flat in entries:
                        last_id = str(entry_id)
                        await self._event(pairs(flat))
                self._schedule()
        except Exception as problem:
            self.link.lost(problem)
        finally:
            self.link.forget(connection)

    async def _event(self, fields: dict[str, str]) -> None:
        node = fields.get("node", "")
        if fields.get("kind") == "node":
            await self._read_node(node)
            await self._read_node_state(node)
            return
        if fields.get("kind") == "rollout":
            self._rollout_changed(fields.get("body", "{}"))
            return
        try:
            row = json.loads(fields.get("body", "{}"))
        except ValueError:
            return
        key = f"{node}/{row.get('namespec', '')}"
        known = self.rows.get(key)
        if known is not None and known.get("seq", 0) > row.get("seq", 0) and row.get("seq"):
            return  # an older update than the one shown (a node's restart resets seq: accept)
        self.rows[key] = row
        self.dirty_rows.add(key)
        if node not in self.nodes:
            await self._read_node(node)

    def _rollout_changed(self, body: str) -> None:
        try:
            self.rollout = Rollout.from_dict(json.loads(body)).summary()
        except (ValueError, TypeError):
            return
        if self.fanout.clients:
            self.fanout.broadcast(
                sse("update", {"now": self._now(), "processes": [], "rollout": self.rollout})
            )

    async def _judge_nodes(self) -> None:
        try:
            now = int(await self.link.execute("EVAL", TIME_SCRIPT, 0))
            scores = pairs(await self.link.execute("ZRANGE", self.keys.nodes, 0, -1, "WITHSCORES"))
        except Exception:
            return
        self.now_ms = now
        for name, score in scores.items():
            if name not in self.nodes:
                await self._read_node(name)
                await self._read_node_state(name)
            entry = self.nodes[name]
            age = max(0.0, (now - float(score)) / 1000)
            reachable = age <= float(entry.get("unreachable_after", self.config.unreachable_after))
            if reachable != entry.get("reachable") or abs(age - entry.get("age", 0)) >= 1:
                self.dirty_nodes.add(name)
            entry.update(age=round(age, 1), heartbeat=float(score) / 1000, reachable=reachable)
        self._schedule()

    # -- browser side ---------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._flush_call is None and (self.dirty_rows or self.dirty_nodes or self.removed):
            self._flush_call = self.reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        self._flush_call = None
        rows = [self._row(k) for k in sorted(self.dirty_rows) if k in self.rows]
        nodes = [self.nodes[n] for n in sorted(self.dirty_nodes) if n in self.nodes]
        removed = sorted(self.removed - set(self.rows))
        self.dirty_rows, self.dirty_nodes, self.removed = set(), set(), set()
        if self.fanout.clients and (rows or nodes or removed):
            self.fanout.broadcast(
                sse(
                    "update",
                    {"now": self._now(), "processes": rows, "nodes": nodes, "removed": removed},
                )
            )

    def _row(self, key: str) -> dict[str, Any]:
        row = dict(self.rows[key])
        row["key"] = key
        return row

    def _now(self) -> float:
        return self.now_ms / 1000 if self.now_ms else time.time()

    def daemon(self) -> dict[str, Any]:
        """The header of the cluster page."""
        up = sum(1 for n in self.nodes.values() if n.get("reachable"))
        state = f"{up} of {len(self.nodes)} nodes up"
        if not self.link.up:
            state = "Redis unreachable: showing the last known state"
        return {
            "identification": f"cluster {self.config.prefix}",
            "version": __version__,
            "state": state,
            "pid": 0,
            "redis": self.link.describe(),
            "redis_up": self.link.up,
            "rollout": self.rollout,
        }

    def status(self) -> dict[str, Any]:
        """Everything: the console, every node, every process (``/cluster/api/status``)."""
        return {
            "now": self._now(),
            "daemon": self.daemon(),
            "nodes": [self.nodes[n] for n in sorted(self.nodes)],
            "processes": [self._row(k) for k in sorted(self.rows)],
        }

    def snapshot(self) -> bytes:
        """Everything, for a browser that connects or fell behind."""
        return sse("snapshot", self.status())
