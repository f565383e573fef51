"""The cluster's audit stream (``sv:audit``): every node's and console's actions, capped.

Written by each node (what it ran) and by a console (what it refused, or could not
deliver); read by ``supervisectl cluster audit`` and the cluster page's admins.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from supervise.audit import AuditRecord
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.schema import AUDIT_MAXLEN, Keys, pairs


def xadd(keys: Keys, record: AuditRecord) -> list[object]:
    """The command appending one record to the capped stream (``MAXLEN ~``)."""
    body = json.dumps(record.as_dict(), separators=(",", ":"))
    return ["XADD", keys.audit, "MAXLEN", "~", AUDIT_MAXLEN, "*", "node", record.node, "body", body]


async def append_audit(conn: Any, keys: Keys, record: AuditRecord) -> None:
    """Append one record through a plain connection (``supervisectl cluster push``)."""
    await conn.execute_command(*xadd(keys, record))


def redis_sink(link: RedisLink, keys: Keys) -> Callable[[AuditRecord], None]:
    """A sink appending each record to the stream while Redis answers (the main log
    keeps every record whatever Redis does)."""

    def append(record: AuditRecord) -> None:
        if not link.up:
            return
        link.execute(*xadd(keys, record)).addErrback(lambda failure: None)

    return append


async def read_audit(conn: Any, keys: Keys, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` records of the whole cluster, oldest first."""
    entries = await conn.execute_command("XREVRANGE", keys.audit, "+", "-", "COUNT", count)
    found = []
    for _entry_id, flat in reversed(entries or []):
        try:
            record = json.loads(pairs(flat).get("body", "{}"))
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found
