"""A rolling push as a pure state machine: which nodes move next, and when it halts.

A rollout moves the nodes that a new revision changes from the last good revision
(``base``) to the new one (``revision``), at most ``max_parallel`` at a time, the first
``canary`` of them alone and then waiting for ``cluster promote``. A node is done when
it runs the revision and every program the revision changes on it has been RUNNING
(which includes its ``ready =`` probe) without a failing health check for
``min_healthy`` seconds. A FATAL, a failing check, a refusal, or a node not done within
``deadline`` seconds of being moved halts the rollout; with ``auto_revert`` the driver
then pushes the base's sections again as a new revision (nodes only move forward).

Times are milliseconds of Redis's clock, so any node can take over the driving.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import asdict, define, field, fields_dict, frozen

# While a rollout is in one of these states, a node not yet moved stays on the base.
# "opening": the pushing client has claimed the rollout and is storing the revision.
ACTIVE = ("opening", "rolling", "canary", "halted")
# Terminal states: nothing left to drive.
FINISHED = ("done", "reverted", "aborted", "superseded")


@define
class NodeStep:
    """One node's progress: waiting, moving, healthy (since), done or failed."""

    phase: str = "waiting"
    moved_at: int = 0
    healthy_since: int = 0
    note: str = ""


@define
class Rollout:
    """A rolling push's whole state, as kept in Redis (``{sv}:rollout``)."""

    revision: int
    base: int
    order: list[str]
    changes: dict[str, list[str]]
    canary: int = 0
    max_parallel: int = 1
    min_healthy: float = 10.0
    deadline: float = 300.0
    auto_revert: bool = False
    state: str = "rolling"
    reason: str = ""
    promoted: bool = False
    moved: list[str] = field(factory=list)
    steps: dict[str, NodeStep] = field(factory=dict)
    started: int = 0
    finished: int = 0
    revert: int = 0
    driver: str = ""
    author: str = ""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rollout:
        values = dict(data)
        values["steps"] = {k: NodeStep(**v) for k, v in dict(values.get("steps", {})).items()}
        known = fields_dict(cls)
        return cls(**{k: v for k, v in values.items() if k in known})

    def summary(self) -> str:
        """One line: the state, the nodes done of all, and the reason of a halt."""
        done = sum(1 for n in self.order if self.step(n).phase == "done")
        text = (
            f"rollout of revision {self.revision} (from {self.base}): {self.state}, "
            f"{done} of {len(self.order)} nodes done"
        )
        if self.state == "canary":
            text += "; canary healthy: `cluster promote` to continue, `cluster abort` to revert"
        if self.reason:
            text += f"; {self.reason}"
        if self.revert:
            text += f"; reverted by revision {self.revert}"
        return text

    def step(self, node: str) -> NodeStep:
        return self.steps.setdefault(node, NodeStep())


@frozen
class NodeSeen:
    """What Redis says of a node at one tick."""

    reachable: bool
    applied: int
    refused: str = ""
    rows: Sequence[Mapping[str, Any]] = ()


@frozen
class Decision:
    """What the driver must do after a tick: tell nodes to move, or push the revert."""

    move: tuple[str, ...] = ()
    revert: bool = False
    changed: bool = False


def target_revision(head: int, rollout: Rollout | None, node: str) -> int:
    """The revision ``node`` should run: the head, or the base while it waits its turn."""
    if rollout is None or not rollout.active or node in rollout.moved:
        return head
    if rollout.revision == head or (rollout.state == "opening" and head > rollout.base):
        return rollout.base
    return head


def judge(rollout: Rollout, node: str, seen: NodeSeen | None) -> tuple[str, str]:
    """``("healthy"|"pending"|"failed", why)`` for a node that was told to move."""
    if seen is None or not seen.reachable:
        return "pending", f"{node} is unreachable"
    number = rollout.revision
    if seen.applied != number:
        if seen.refused and f"revision {number}" in seen.refused:
            return "failed", f"{node} refused revision {number}: {seen.refused}"
        return "pending", f"{node} has not applied revision {number} yet"
    watched = set(rollout.changes.get(node, []))
    found = {str(r["group"]) for r in seen.rows if r["group"] in watched}
    for row in seen.rows:
        if row["group"] not in watched:
            continue
        if row["state"] == "FATAL":
            return "failed", f"{node}: {row['namespec']} is FATAL"
        if row.get("health") == "failing" or row.get("health_failed"):
            return "failed", f"{node}: {row['namespec']}'s health check is failing"
        if row.get("restarts"):
            return "failed", f"{node}: {row['namespec']} exited and was restarted"
    for row in seen.rows:
        if row["group"] in watched and row["state"] != "RUNNING":
            return "pending", f"{node}: {row['namespec']} is {row['state']}"
    if found != watched:
        return "pending", f"{node}: {', '.join(sorted(watched - found))} not started yet"
    return "healthy", ""


def decide(
    rollout: Rollout, seen: Mapping[str, NodeSeen], now: int, asked: Iterable[str] = ()
) -> Decision:
    """Advance ``rollout`` (in place) by one tick of the driver."""
    changed = False
    for ask in asked:
        if ask == "abort" and rollout.active:
            _halt(rollout, now, "aborted by `cluster abort`", state="aborted")
            return Decision(revert=True, changed=True)
        if ask == "promote" and rollout.state == "canary":
            rollout.state, rollout.promoted, changed = "rolling", True, True
    if rollout.state != "rolling":
        return Decision(changed=changed)
    for node in rollout.order:
        step = rollout.step(node)
        if step.phase not in ("moving", "healthy"):
            continue
        verdict, why = judge(rollout, node, seen.get(node))
        if verdict == "failed":
            step.phase, step.note = "failed", why
            _halt(rollout, now, f"halted: {why}")
            return Decision(revert=rollout.auto_revert, changed=True)
        if verdict == "healthy":
            if step.phase == "moving":
                step.phase, step.healthy_since, step.note, changed = "healthy", now, "", True
            elif now - step.healthy_since >= rollout.min_healthy * 1000:
                step.phase, changed = "done", True
            continue
        if step.phase == "healthy" or step.note != why:
            step.phase, step.note, changed = "moving", why, True
        if now - step.moved_at >= rollout.deadline * 1000:
            step.phase = "failed"
            _halt(
                rollout,
                now,
                f"halted: {node} not healthy within the deadline of {rollout.deadline:g} s ({why})",
            )
            return Decision(revert=rollout.auto_revert, changed=True)
    return _advance(rollout, now, changed)


def _advance(rollout: Rollout, now: int, changed: bool) -> Decision:
    allowed = (
        rollout.order if rollout.promoted or not rollout.canary else rollout.order[: rollout.canary]
    )
    phases = [rollout.step(n).phase for n in allowed]
    if all(p == "done" for p in phases):
        if len(allowed) == len(rollout.order):
            rollout.state, rollout.finished = "done", now
        else:
            rollout.state = "canary"
        return Decision(changed=True)
    busy = sum(1 for p in phases if p in ("moving", "healthy"))
    move: list[str] = []
    for node in allowed:
        if busy + len(move) >= rollout.max_parallel:
            break
        step = rollout.step(node)
        if step.phase == "waiting":
            step.phase, step.moved_at = "moving", now
            rollout.moved.append(node)
            move.append(node)
    return Decision(move=tuple(move), changed=changed or bool(move))


def _halt(rollout: Rollout, now: int, reason: str, state: str = "halted") -> None:
    rollout.state, rollout.reason, rollout.finished = state, reason, now
