"""The commands a console (or ``supervisectl --node``) sends this node through Redis.

Each command is run once, in time or not at all (past its deadline, by Redis's clock,
it is dropped), answered in its result key, then acknowledged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.logger import Logger

from supervise.actions import BadAction, check, perform
from supervise.audit import AuditTrail, summary
from supervise.cluster.tails import TailForwarder
from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.schema import TIME_SCRIPT, Keys
from supervise.config.model import ClusterConfig
from supervise.interfaces import ISupervisorControl

log = Logger(namespace="supervise.cluster.agent")

RESULT_TTL = 120


class CommandRunner:
    """Run the commands read from this node's command stream and answer each."""

    def __init__(
        self,
        config: ClusterConfig,
        control: ISupervisorControl,
        link: RedisLink,
        keys: Keys,
        tails: TailForwarder,
        audit: AuditTrail | None = None,
    ) -> None:
        self.config = config
        self.audit = audit or AuditTrail(config.node)
        self.control = control
        self.link = link
        self.keys = keys
        self.tails = tails
        self.recheck: Callable[[], Awaitable[None]] | None = None  # "check your revision"

    async def run(self, entry_id: str, fields: dict[str, str]) -> None:
        """Run the command in stream entry ``entry_id`` unless late, answer it, acknowledge it."""
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
            self._record(fields, f"dropped: past its deadline by {now - deadline} ms")
            await self.link.execute("XACK", stream, node, entry_id)
            return
        answer = await self._execute(fields)
        if fields.get("op") == "action":
            self._record(fields, answer)
        if command_id:
            key = self.keys.result(command_id)
            await self.link.execute("RPUSH", key, json.dumps(answer))
            await self.link.execute("EXPIRE", key, RESULT_TTL)
        await self.link.execute("XACK", stream, node, entry_id)

    def _record(self, fields: dict[str, str], answer: dict[str, Any] | str) -> None:
        """The audit record of one command: who sent it, from where, through which door."""
        try:
            body = json.loads(fields.get("body", "{}"))
        except ValueError:
            body = {}
        names = body.get("names") if isinstance(body, dict) else None
        if isinstance(answer, str):
            result = answer
        elif "error" in answer:
            result = f"failed: {answer['error']}"
        else:
            result = summary(answer.get("results", []))
        self.audit.record(
            fields.get("user", "?"),
            f"{fields.get('from') or 'unknown host'} via Redis",
            fields.get("via") or "cluster",
            str(body.get("action", "?")) if isinstance(body, dict) else "?",
            names if isinstance(names, list) else [],
            result,
        )

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
            return {"results": await perform(self.control, action, names, sig)}
        if op == "tail":
            return self.tails.want(str(body.get("name", "")), str(body.get("channel", "stdout")))
        if op == "check" and self.recheck is not None:
            await self.recheck()
            return {"checked": True}
        if op == "ping":
            return {"pong": self.config.node}
        return {"error": f"unknown command {op!r}"}
