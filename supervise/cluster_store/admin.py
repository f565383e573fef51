"""Reading and changing the cluster from outside a node: pushes, history, nodes, commands.

Used by ``supervisectl cluster …``, ``supervisectl --node N …`` and the cluster console.
``conn`` is anything with txredisapi's ``execute_command`` (a RedisLink's ``execute`` is
wrapped to look the same by :class:`LinkCommands`).
"""

from __future__ import annotations

import difflib
import getpass
import json
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from attrs import frozen

from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.schema import (
    HEAD_FLOOR_SCRIPT,
    PUSH_SCRIPT,
    REVISIONS_KEPT,
    TIME_SCRIPT,
    Keys,
    Revision,
    digest,
    pairs,
    sign,
)


class Commands(Protocol):
    """What admin functions need of a connection."""

    def execute_command(self, *args: object) -> Awaitable[Any]: ...


class LinkCommands:
    """A RedisLink seen as a connection."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def execute_command(self, *args: object) -> Awaitable[Any]:
        return self.link.execute(*args)


class NodeSilent(Exception):
    """A node did not answer a command in time."""


@frozen
class NodeInfo:
    """A node as the cluster sees it, its liveness judged now by Redis's clock."""

    name: str
    heartbeat_ms: int
    age: float
    reachable: bool
    fields: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "heartbeat": self.heartbeat_ms / 1000,
            "age": round(self.age, 1),
            "reachable": self.reachable,
            **node_fields(self.fields),
        }


def node_fields(fields: Mapping[str, str]) -> dict[str, Any]:
    """What a node's hash (``sv:node:<name>``) says of it, typed."""
    return {
        "host": fields.get("host", ""),
        "labels": [x for x in fields.get("labels", "").split(",") if x],
        "version": fields.get("version", ""),
        "pid": int(fields.get("pid", "0") or 0),
        "applied": int(fields.get("applied", "0") or 0),
        "refused": fields.get("refused", ""),
        "unreachable_after": float(fields.get("unreachable_after", "10") or 10),
    }


async def redis_time_ms(conn: Commands) -> int:
    """Now, by Redis's clock."""
    return int(await conn.execute_command("EVAL", TIME_SCRIPT, 0))


async def head(conn: Commands, keys: Keys) -> int:
    """The current revision number (0: nothing pushed yet)."""
    return int(await conn.execute_command("GET", keys.head) or 0)


async def revision(conn: Commands, keys: Keys, number: int) -> Revision | None:
    """Revision ``number``, or None if it does not exist (any more)."""
    values = pairs(await conn.execute_command("HGETALL", keys.revision(number)))
    return Revision.from_hash(number, values) if values else None


async def push(
    conn: Commands,
    keys: Keys,
    sections: Mapping[str, str],
    message: str = "",
    signing_key: bytes | None = None,
    author: str | None = None,
) -> int:
    """Store ``sections`` as a new revision, atomically; return its number."""
    draft = Revision(
        number=0,
        sections=dict(sections),
        author=author or getpass.getuser(),
        message=message,
        time=time.time(),
        signature=sign(signing_key, sections) if signing_key else "",
        digest=digest(sections),
    )
    await conn.execute_command(
        "EVAL", HEAD_FLOOR_SCRIPT, 1, keys.head, await highest_run(conn, keys)
    )
    number = int(
        await conn.execute_command(
            "EVAL", PUSH_SCRIPT, 2, keys.head, keys.revlog,
            keys.revision_base, REVISIONS_KEPT, draft.author, message, draft.digest,
            *draft.fields(),
        )
    )  # fmt: skip
    try:
        # Wait for one replica where there is one, so a failover does not lose the push.
        role = await conn.execute_command("ROLE")
        if role and len(role) > 2 and role[2]:
            await conn.execute_command("WAIT", 1, 2000)
    except Exception:
        pass
    return number


async def highest_run(conn: Commands, keys: Keys) -> int:
    """The highest revision any registered node reports running (0: none)."""
    found = [node_fields(n.fields)["applied"] for n in await nodes(conn, keys)]
    return max(found, default=0)


async def history(conn: Commands, keys: Keys, count: int = 20) -> list[dict[str, Any]]:
    """The latest pushes, newest first."""
    entries = await conn.execute_command("XREVRANGE", keys.revlog, "+", "-", "COUNT", count)
    found = []
    for entry_id, flat in entries or []:
        fields = pairs(flat)
        found.append(
            {
                "revision": int(fields.get("rev", "0")),
                "author": fields.get("author", ""),
                "message": fields.get("message", ""),
                "digest": fields.get("digest", "")[:12],
                "time": int(str(entry_id).split("-")[0]) / 1000,
            }
        )
    return found


def diff(old: Revision | None, new: Revision) -> str:
    """A unified diff of two revisions' sections."""
    before = "".join(old.sections[k] + "\n" for k in sorted(old.sections)) if old else ""
    after = "".join(new.sections[k] + "\n" for k in sorted(new.sections))
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"revision {old.number if old else 0}",
            f"revision {new.number}",
        )
    )


async def nodes(conn: Commands, keys: Keys) -> list[NodeInfo]:
    """Every node that ever registered, its liveness judged by Redis's clock now."""
    now = await redis_time_ms(conn)
    flat = await conn.execute_command("ZRANGE", keys.nodes, 0, -1, "WITHSCORES")
    found = []
    for name, score in pairs(flat).items():
        fields = pairs(await conn.execute_command("HGETALL", keys.node(name)))
        bound = node_fields(fields)["unreachable_after"]
        age = max(0.0, (now - float(score)) / 1000)
        found.append(NodeInfo(name, int(float(score)), age, age <= bound, fields))
    return found


async def processes(conn: Commands, keys: Keys, node: str) -> list[dict[str, Any]]:
    """A node's state hash: its processes as it last published them."""
    rows = [
        json.loads(v)
        for v in pairs(await conn.execute_command("HGETALL", keys.state(node))).values()
    ]
    return sorted(rows, key=lambda r: (r["group"], r["name"]))


async def send(
    conn: Commands,
    blocking: Callable[[], Awaitable[Any]],
    release: Callable[[Any], None],
    keys: Keys,
    node: str,
    op: str,
    body: Mapping[str, Any],
    user: str,
    timeout: float,
    via: str = "cluster",
    origin: str | None = None,
) -> dict[str, Any]:
    """Send a command to ``node`` and wait for its answer (NodeSilent after ``timeout``).

    :param blocking: opens a connection for the wait (BLPOP blocks it).
    :param via: the door it came through (``supervisectl``, ``cluster console``), and
        ``origin`` where from (this host by default), for the node's audit trail.
    """
    command_id = uuid.uuid4().hex
    deadline = await redis_time_ms(conn) + int(timeout * 1000)
    waiter = await blocking()
    try:
        await conn.execute_command(
            "XADD", keys.commands(node), "MAXLEN", "~", 1000, "*",
            "id", command_id, "op", op, "body", json.dumps(body), "user", user,
            "deadline", deadline, "via", via, "from", origin or socket.gethostname(),
        )  # fmt: skip
        reply = await waiter.execute_command("BLPOP", keys.result(command_id), timeout)
    finally:
        release(waiter)
    if not reply:
        raise NodeSilent(f"node {node} did not answer within {timeout:g} s")
    answer: dict[str, Any] = json.loads(reply[1])
    return answer
