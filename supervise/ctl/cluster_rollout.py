"""``supervisectl cluster plan``, ``push --rolling``, ``promote``, ``abort``, ``drain``.

The rollout itself is driven by the nodes (supervise/cluster/rollout_driver.py); the
client claims it, stores the revision, and with ``--wait`` follows it to its end.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import task

from supervise.cluster_store import admin, fleet
from supervise.cluster_store.placement import Candidate, copies_on
from supervise.cluster_store.plan import NodePlan, plan_node
from supervise.cluster_store.rollout import ACTIVE, NodeStep, Rollout
from supervise.cluster_store.schema import Keys

WAIT_POLL = 0.5


async def plans(conn: Any, keys: Keys, sections: Mapping[str, str]) -> tuple[int, list[NodePlan]]:
    """The head revision, and what moving each registered node to ``sections`` would do."""
    number = await admin.head(conn, keys)
    current = await admin.revision(conn, keys, number) if number else None
    old = current.sections if current is not None else {}
    view = await fleet.candidates(conn, keys)
    return number, [_plan(node, view, old, sections) for node in sorted(view, key=_name)]


def _name(candidate: Candidate) -> str:
    return candidate.name


def _plan(
    node: Candidate, view: list[Candidate], old: Mapping[str, str], new: Mapping[str, str]
) -> NodePlan:
    return plan_node(
        node.name,
        node.labels,
        (old, copies_on(node.name, old, view)),
        (new, copies_on(node.name, new, view)),
    )


def rolling_options(args: list[str]) -> argparse.Namespace:
    """``cluster push``'s options, the rolling ones included."""
    parser = argparse.ArgumentParser(prog="supervisectl cluster push")
    parser.add_argument("files", nargs="+")
    parser.add_argument("-m", "--message", default="")
    parser.add_argument("--sign-key", help="file holding the HMAC key nodes check")
    parser.add_argument("--rolling", action="store_true", help="move nodes a few at a time")
    parser.add_argument("--canary", type=int, default=0, metavar="N")
    parser.add_argument("--max-parallel", type=int, default=1, metavar="K")
    parser.add_argument("--min-healthy", type=float, default=10.0, metavar="SECS")
    parser.add_argument("--deadline", type=float, default=300.0, metavar="SECS")
    parser.add_argument("--auto-revert", action="store_true")
    parser.add_argument("--wait", action="store_true", help="follow the rollout to its end")
    options = parser.parse_args(args)
    rolling_only = options.canary or options.auto_revert or options.wait
    if rolling_only and not options.rolling:
        parser.error("--canary, --auto-revert and --wait go with --rolling")
    if options.canary < 0 or options.max_parallel < 1:
        parser.error("--canary must be 0 or more and --max-parallel 1 or more")
    if options.min_healthy < 0 or options.deadline <= 0:
        parser.error("--min-healthy must be 0 or more and --deadline above 0")
    return options


class RolloutCommands:
    """The rollout and placement subcommands of one ``supervisectl cluster`` run."""

    def __init__(self, conn: Any, keys: Keys, emit: Callable[[str], None], as_json: bool) -> None:
        self.conn = conn
        self.keys = keys
        self.emit = emit
        self.as_json = as_json

    async def plan(self, sections: Mapping[str, str]) -> int:
        number, found = await plans(self.conn, self.keys, sections)
        if self.as_json:
            self.emit(json.dumps({"head": number, "nodes": [p.as_dict() for p in found]}, indent=2))
            return 0
        self.emit(f"from revision {number}:" if number else "from nothing pushed yet:")
        for plan in found:
            self.emit("  " + plan.describe())
        if not found:
            self.emit("  no node has registered yet")
        return 0

    async def rolling_push(
        self, sections: Mapping[str, str], options: argparse.Namespace, key: bytes | None
    ) -> int:
        base, found = await plans(self.conn, self.keys, sections)
        rollout = Rollout(
            revision=0,
            base=base,
            order=[p.node for p in found if not p.empty],
            changes={p.node: p.watched for p in found if not p.empty},
            canary=options.canary,
            max_parallel=options.max_parallel,
            min_healthy=options.min_healthy,
            deadline=options.deadline,
            auto_revert=options.auto_revert,
            state="opening",
            moved=[p.node for p in found if p.empty],
            started=await admin.redis_time_ms(self.conn),
        )
        rollout.steps = {n: NodeStep() for n in rollout.order}
        try:
            await fleet.open_rollout(self.conn, self.keys, rollout)
        except Exception as problem:
            self.emit(f"ERROR: cannot start a rollout: {problem}")
            return 1
        rollout.revision = await admin.push(self.conn, self.keys, sections, options.message, key)
        rollout.state = "rolling" if rollout.order else "done"
        await fleet.save_rollout(self.conn, self.keys, rollout, 10000)
        for plan in found:
            await self.conn.execute_command(
                "XADD", self.keys.commands(plan.node), "MAXLEN", "~", 1000, "*",
                "op", "check", "body", "{}", "user", "cluster push",
            )  # fmt: skip
        self.emit(
            f"revision {rollout.revision}: {len(sections)} sections pushed, rolling out to "
            f"{', '.join(rollout.order) or 'no node (nothing changes)'}"
        )
        return await self.follow() if options.wait else 0

    async def follow(self) -> int:
        """Print the rollout's progress until it ends or waits for promotion."""
        from twisted.internet import reactor

        said = ""
        while True:
            rollout = await fleet.load_rollout(self.conn, self.keys)
            if rollout is None:
                return 1
            line = rollout.summary()
            if line != said:
                self.emit(line)
                said = line
            if rollout.state not in ("opening", "rolling"):
                return 0 if rollout.state in ("done", "canary") else 1
            await task.deferLater(reactor, WAIT_POLL, lambda: None)

    async def ask(self, what: str) -> int:
        try:
            rollout = await fleet.ask(self.conn, self.keys, what)
        except ValueError as problem:
            self.emit(f"ERROR: {problem}")
            return 1
        self.emit(f"rollout of revision {rollout.revision}: {what} requested")
        return 0

    async def drain(self, node: str, on: bool) -> int:
        known = {c.name for c in await fleet.candidates(self.conn, self.keys)}
        if node not in known:
            self.emit(f"ERROR: no node named {node!r} has registered")
            return 1
        await self.conn.execute_command("SADD" if on else "SREM", self.keys.drained, node)
        self.emit(
            f"{node}: drained (its count = copies move to other nodes)"
            if on
            else f"{node}: undrained (it takes count = copies again)"
        )
        return 0

    async def describe(self) -> dict[str, Any] | None:
        """The current or last rollout for ``cluster status``; None when there never was one."""
        rollout = await fleet.load_rollout(self.conn, self.keys)
        return rollout.as_dict() | {"summary": rollout.summary()} if rollout else None

    async def status_lines(self) -> list[str]:
        """The rollout's lines at the top of ``cluster status``."""
        rollout = await fleet.load_rollout(self.conn, self.keys)
        if rollout is None:
            return []
        lines = [rollout.summary()]
        if rollout.state in ACTIVE:
            for node in rollout.order:
                step = rollout.step(node)
                note = f" ({step.note})" if step.note else ""
                lines.append(f"  {node:<16} {step.phase}{note}")
        return lines
