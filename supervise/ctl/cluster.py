"""``supervisectl cluster …`` and ``supervisectl --node N …``: the cluster through Redis.

Redis is found in the ``[cluster]`` section of the configuration (``-c``), or given with
``--redis URL``. Each command opens a connection, does its work, and exits.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import IO, Any

from twisted.internet import task
from twisted.internet.defer import ensureDeferred

from supervise.audit import AuditRecord
from supervise.cluster_store import admin
from supervise.cluster_store.audit import append_audit, read_audit
from supervise.cluster_store.definitions import sections_from_files
from supervise.cluster_store.link import connect, primary
from supervise.cluster_store.schema import Keys
from supervise.config.cluster import redis_url
from supervise.config.errors import ConfigError
from supervise.config.model import ClusterConfig, RedisAddress
from supervise.ctl.cluster_rollout import RolloutCommands, rolling_options
from supervise.ctl.commands.daemon import audit_line

ACTIONS = ("start", "stop", "restart", "signal", "clear")
#: Subcommands recorded in the audit stream by run() (push and rollback record themselves).
AUDITED = ("promote", "abort", "drain", "undrain")


class ClusterUsage(Exception):
    """Wrong words for a cluster command."""


class ClusterClient:
    """One cluster command's connection and output."""

    def __init__(self, address: RedisAddress, prefix: str, out: IO[str], as_json: bool) -> None:
        self.address = address
        self.keys = Keys(prefix)
        self.out = out
        self.as_json = as_json
        self.conn: Any = None

    def emit(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def open(self) -> None:
        self.conn = await connect(self.address, *await primary(self.address))

    async def blocking(self) -> Any:
        return await connect(self.address, *await primary(self.address))

    # -- cluster subcommands -------------------------------------------------------------

    async def push(self, args: list[str]) -> int:
        options = rolling_options(args)
        try:
            sections = sections_from_files(options.files)
        except ConfigError as problem:
            self.emit(f"ERROR: {problem}")
            return 2
        key = None
        if options.sign_key:
            with open(options.sign_key, "rb") as handle:
                key = handle.read().strip()
        if options.rolling:
            status = await self.rollouts().rolling_push(sections, options, key)
            outcome = "ok" if status == 0 else f"failed: exit status {status}"
            await self.record("cluster push --rolling", sorted(sections), outcome)
            return status
        number = await admin.push(self.conn, self.keys, sections, options.message, key)
        self.emit(f"revision {number}: {len(sections)} sections pushed")
        await self.record("cluster push", sorted(sections), f"ok: revision {number}")
        return 0

    def rollouts(self) -> RolloutCommands:
        return RolloutCommands(self.conn, self.keys, self.emit, self.as_json)

    async def plan(self, args: list[str]) -> int:
        if not args:
            raise ClusterUsage("cluster plan FILE…")
        try:
            sections = sections_from_files(args)
        except ConfigError as problem:
            self.emit(f"ERROR: {problem}")
            return 2
        return await self.rollouts().plan(sections)

    async def promote(self, args: list[str]) -> int:
        return await self.rollouts().ask("promote")

    async def abort(self, args: list[str]) -> int:
        return await self.rollouts().ask("abort")

    async def drain(self, args: list[str]) -> int:
        if len(args) != 1:
            raise ClusterUsage("cluster drain NODE")
        return await self.rollouts().drain(args[0], True)

    async def undrain(self, args: list[str]) -> int:
        if len(args) != 1:
            raise ClusterUsage("cluster undrain NODE")
        return await self.rollouts().drain(args[0], False)

    async def log(self, args: list[str]) -> int:
        count = int(args[1]) if len(args) == 2 and args[0] == "-n" else 20
        entries = await admin.history(self.conn, self.keys, count)
        if self.as_json:
            self.emit(json.dumps(entries, indent=2))
            return 0
        for entry in entries:
            when = datetime.fromtimestamp(entry["time"]).strftime("%Y-%m-%d %H:%M:%S")
            self.emit(
                f"revision {entry['revision']:<5} {when}  {entry['author']:<12} "
                f"{entry['digest']}  {entry['message']}"
            )
        if not entries:
            self.emit("nothing pushed yet")
        return 0

    async def diff(self, args: list[str]) -> int:
        newest = int(args[0]) if args else await admin.head(self.conn, self.keys)
        new = await admin.revision(self.conn, self.keys, newest)
        if new is None:
            self.emit(f"ERROR: no revision {newest}")
            return 1
        old = await admin.revision(self.conn, self.keys, newest - 1) if newest > 1 else None
        self.emit(admin.diff(old, new) or f"revision {newest} changes nothing")
        return 0

    async def rollback(self, args: list[str]) -> int:
        if len(args) != 1 or not args[0].isdigit():
            raise ClusterUsage("cluster rollback REVISION")
        old = await admin.revision(self.conn, self.keys, int(args[0]))
        if old is None:
            self.emit(f"ERROR: revision {args[0]} is not kept any more (or never existed)")
            return 1
        number = await admin.push(
            self.conn, self.keys, old.sections, f"rollback to revision {old.number}"
        )
        self.emit(f"revision {number}: the sections of revision {old.number}")
        await self.record("cluster rollback", [str(old.number)], f"ok: revision {number}")
        return 0

    async def nodes(self, args: list[str]) -> int:
        found = [n.as_dict() for n in await admin.nodes(self.conn, self.keys)]
        drained = set(await self.conn.execute_command("SMEMBERS", self.keys.drained) or [])
        for node in found:
            node["drained"] = node["name"] in drained
        if self.as_json:
            self.emit(json.dumps(found, indent=2))
            return 0
        for node in found:
            health = "up" if node["reachable"] else f"UNREACHABLE (silent {node['age']:g} s)"
            refused = f"  refused: {node['refused']}" if node["refused"] else ""
            refused += "  drained" if node["drained"] else ""
            self.emit(
                f"{node['name']:<20} {health:<28} revision {node['applied']:<5} "
                f"labels {','.join(node['labels']) or '-'}{refused}"
            )
        if not found:
            self.emit("no node has registered yet")
        return 0

    async def status(self, args: list[str]) -> int:
        known = {node.name: node for node in await admin.nodes(self.conn, self.keys)}
        unknown = [name for name in args if name not in known]
        if unknown:
            self.emit(
                f"ERROR: no node named {', '.join(unknown)} (known: {', '.join(sorted(known)) or 'none'})"
            )
            return 1
        everything = {}
        for name, node in known.items():
            if not args or name in args:
                everything[name] = (node, await admin.processes(self.conn, self.keys, name))
        silent = [name for name, (info, _rows) in everything.items() if not info.reachable]
        if self.as_json:
            self.emit(
                json.dumps(
                    {n: {"node": i.as_dict(), "processes": p} for n, (i, p) in everything.items()},
                    indent=2,
                )
            )
            return 1 if silent else 0
        for line in [] if args else await self.rollouts().status_lines():
            self.emit(line)
        for name, (info, rows) in everything.items():
            if not info.reachable:
                self.emit(f"{name:<16} {unreachable(info)}; its last known processes:")
            if info.fields.get("refused"):
                self.emit(f"{name:<16} refused: {info.fields['refused']}")
            state_word = "" if info.reachable else "last known "
            for row in rows:
                pid = f"pid {row['pid']}" if row["pid"] else ""
                self.emit(
                    f"{name:<16} {row['namespec']:<32} {state_word}{row['state']:<10} {pid}".rstrip()
                )
        return 1 if silent else 0

    async def record(self, action: str, targets: list[str], result: str) -> None:
        """A change made from here, in the cluster's audit stream (no node ran it)."""
        entry = AuditRecord(
            time=time.time(), node="*", who=getpass.getuser(), where=socket.gethostname(),
            door="supervisectl", action=action, targets=tuple(targets), result=result,
        )  # fmt: skip
        try:
            await append_audit(self.conn, self.keys, entry)
        except Exception as problem:
            self.emit(f"(the audit stream was not written: {problem})")

    async def audit(self, args: list[str]) -> int:
        """The cluster's audit trail, oldest first (``--json``: one JSON object a line)."""
        parser = argparse.ArgumentParser(prog="supervisectl cluster audit")
        parser.add_argument("-n", type=int, default=100, help="how many records (newest)")
        options = parser.parse_args(args)
        for entry in await read_audit(self.conn, self.keys, max(1, options.n)):
            if self.as_json:
                self.emit(json.dumps(entry, separators=(",", ":")))
            else:
                self.emit(audit_line(entry))
        return 0

    async def known_node(self, node: str) -> admin.NodeInfo | None:
        """``node`` if it is registered and alive; else say why not and return None."""
        found = {info.name: info for info in await admin.nodes(self.conn, self.keys)}
        info = found.get(node)
        if info is None:
            self.emit(f"ERROR: no node named {node} (known: {', '.join(sorted(found)) or 'none'})")
            return None
        if not info.reachable:
            self.emit(f"ERROR: node {node} is {unreachable(info)}; nothing was done")
            return None
        return info

    # -- commands to one node ----------------------------------------------------------------

    async def on_node(self, node: str, words: list[str], timeout: float) -> int:
        if not words:
            raise ClusterUsage("supervisectl --node NODE COMMAND [NAMES…]")
        verb, names = words[0], words[1:]
        if verb not in ("status", *ACTIONS):
            raise ClusterUsage(f"--node supports status, {', '.join(ACTIONS)}; not {verb!r}")
        if await self.known_node(node) is None:
            return 1
        if verb == "status":
            rows = await admin.processes(self.conn, self.keys, node)
            if self.as_json:
                self.emit(json.dumps(rows, indent=2))
            for row in [] if self.as_json else rows:
                pid = f"pid {row['pid']}" if row["pid"] else ""
                self.emit(f"{row['namespec']:<32} {row['state']:<10} {pid}")
            return 0
        body: dict[str, Any] = {"action": "clearlog" if verb == "clear" else verb, "names": names}
        if verb == "signal":
            if len(names) < 2:
                raise ClusterUsage("--node NODE signal SIGNAL NAMES…")
            body.update(signal=names[0], names=names[1:])
        if not body["names"]:
            raise ClusterUsage(f"{verb} needs process names (group:* for a group)")
        try:
            answer = await admin.send(
                self.conn, self.blocking, lambda c: c.disconnect(), self.keys, node,
                "action", body, getpass.getuser(), timeout, via="supervisectl",
            )  # fmt: skip
        except admin.NodeSilent as problem:
            self.emit(f"ERROR: {problem}")
            return 1
        if "error" in answer:
            self.emit(f"ERROR: {answer['error']}")
            return 1
        status = 0
        past = {
            "start": "started",
            "stop": "stopped",
            "restart": "restarted",
            "signal": "signalled",
        }
        for result in answer["results"]:
            if result["ok"]:
                self.emit(f"{node}: {result['name']}: {past.get(verb, 'cleared')}")
            else:
                self.emit(f"{node}: {result['name']}: ERROR ({result['error']})")
                status = 1
        return status


def unreachable(info: admin.NodeInfo) -> str:
    """How a dead node is described: since when, by its last heartbeat."""
    since = datetime.fromtimestamp(info.heartbeat_ms / 1000).strftime("%H:%M:%S")
    return f"UNREACHABLE since {since} (no heartbeat for {info.age:g} s)"


def run(
    config: ClusterConfig | None,
    redis: str | None,
    words: list[str],
    node: str | None,
    as_json: bool,
    out: IO[str] = sys.stdout,
) -> int:
    """Run one cluster command to completion; return its exit status."""
    if redis:
        address = redis_url(redis)
        prefix = config.prefix if config else "sv"
    elif config is not None:
        address, prefix = config.redis, config.prefix
    else:
        out.write("ERROR: no [cluster] section in the configuration; give --redis URL\n")
        return 2
    timeout = config.command_timeout if config else 10.0
    client = ClusterClient(address, prefix, out, as_json)
    outcome: list[int] = []

    async def work() -> None:
        try:
            await client.open()
        except Exception as problem:
            out.write(f"ERROR: cannot reach Redis at {address.describe()}: {problem}\n")
            outcome.append(1)
            return
        try:
            if node is not None:
                outcome.append(await client.on_node(node, words, timeout))
                return
            sub = words[1] if len(words) > 1 else ""
            handlers: dict[str, Callable[[list[str]], Coroutine[Any, Any, int]]] = {
                "push": client.push, "log": client.log, "diff": client.diff,
                "rollback": client.rollback, "nodes": client.nodes, "status": client.status,
                "plan": client.plan, "promote": client.promote, "abort": client.abort,
                "drain": client.drain, "undrain": client.undrain,
                "audit": client.audit,
            }  # fmt: skip
            if sub not in handlers:
                raise ClusterUsage(f"cluster {' | '.join(handlers)}")
            outcome.append(await handlers[sub](words[2:]))
            if sub in AUDITED:  # changes made from here that no node runs as a command
                result = "ok" if outcome[-1] == 0 else f"failed: exit status {outcome[-1]}"
                await client.record(f"cluster {sub}", words[2:], result)
        except ClusterUsage as problem:
            out.write(f"Error: usage: supervisectl {problem}\n")
            outcome.append(2)
        except SystemExit as leave:  # argparse's own usage errors
            outcome.append(int(leave.code or 0))
        finally:
            client.conn.disconnect()

    try:
        task.react(lambda reactor: ensureDeferred(work()))
    except SystemExit:
        pass
    return outcome[0] if outcome else 1
