"""The fleet as placement and rollouts read it from Redis, and the rollout's record.

A rollout lives in ``{sv}:rollout`` (a hash: ``state`` for the scripts, ``record`` the
whole JSON); ``cluster promote``/``abort`` append to ``{sv}:rollout:asks``; the node
driving it holds ``{sv}:rollout:driver`` with a lease (docs/cluster.md, "Rolling pushes").
"""

from __future__ import annotations

import json

from supervise.cluster_store import admin
from supervise.cluster_store.admin import Commands
from supervise.cluster_store.placement import Candidate
from supervise.cluster_store.rollout import Rollout
from supervise.cluster_store.schema import Keys

# Claim the rollout for a push. KEYS: head, rollout, asks. ARGV: expected head, record.
OPEN_SCRIPT = """
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
if head ~= tonumber(ARGV[1]) then
  return redis.error_reply('the head moved to revision ' .. head .. ' meanwhile: push again')
end
local state = redis.call('HGET', KEYS[2], 'state')
if state == 'opening' or state == 'rolling' or state == 'canary' or state == 'halted' then
  return redis.error_reply('a rollout is still ' .. state ..
    ': `cluster promote` or `cluster abort` it first')
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[2], 'state', 'opening', 'record', ARGV[2])
return 1
"""

# Hold the driver's lease, or take it when free. KEYS: driver. ARGV: node, lease ms.
LEAD_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


async def candidates(conn: Commands, keys: Keys) -> list[Candidate]:
    """Every registered node with its labels, heartbeat age and drain flag."""
    drained = {str(n) for n in await conn.execute_command("SMEMBERS", keys.drained) or []}
    found = []
    for info in await admin.nodes(conn, keys):
        labels = tuple(x for x in info.fields.get("labels", "").split(",") if x)
        found.append(Candidate(info.name, labels, info.age, info.name in drained))
    return found


async def load_rollout(conn: Commands, keys: Keys) -> Rollout | None:
    """The current (or last) rollout, None when there never was one."""
    record = await conn.execute_command("HGET", keys.rollout, "record")
    if not record:
        return None
    return Rollout.from_dict(json.loads(record))


async def open_rollout(conn: Commands, keys: Keys, rollout: Rollout) -> None:
    """Claim the rollout (a reply error says why not: the head moved, or one is active)."""
    body = json.dumps(rollout.as_dict())
    await conn.execute_command(
        "EVAL", OPEN_SCRIPT, 3, keys.head, keys.rollout, keys.rollout_asks, rollout.base, body
    )


async def save_rollout(conn: Commands, keys: Keys, rollout: Rollout, events_maxlen: int) -> None:
    """Store the rollout's state and tell consoles."""
    body = json.dumps(rollout.as_dict())
    await conn.execute_command("HSET", keys.rollout, "state", rollout.state, "record", body)
    await conn.execute_command(
        "XADD", keys.events, "MAXLEN", "~", events_maxlen, "*",
        "node", rollout.driver or "-", "kind", "rollout", "body", body,
    )  # fmt: skip


async def ask(conn: Commands, keys: Keys, what: str) -> Rollout:
    """Queue ``promote`` or ``abort`` for the driver; ValueError when nothing to act on."""
    rollout = await load_rollout(conn, keys)
    if rollout is None or not rollout.active:
        raise ValueError("no rollout is in progress")
    if what == "promote" and rollout.state != "canary":
        raise ValueError(
            f"the rollout of revision {rollout.revision} waits for no promotion "
            f"(it is {rollout.state})"
        )
    await conn.execute_command("RPUSH", keys.rollout_asks, what)
    return rollout


async def take_asks(conn: Commands, keys: Keys) -> list[str]:
    """The queued asks, removed from the queue."""
    asks = await conn.execute_command("LPOP", keys.rollout_asks, 10)
    return [str(a) for a in asks or []]


async def lead(conn: Commands, keys: Keys, node: str, lease_ms: int) -> bool:
    """True when ``node`` drives the rollout (its lease renewed)."""
    return bool(
        await conn.execute_command("EVAL", LEAD_SCRIPT, 1, keys.rollout_driver, node, lease_ms)
    )
