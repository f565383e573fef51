"""The audit trail: who did what, from where, through which door, on which node, and how
it ended — one record per action, whatever the door (console, XML-RPC, supervisectl,
cluster).

Each record is one line of the main log (``audit: …``), kept in a short in-memory ring
(``supervise.getAuditTrail``, ``supervisectl audit``) and handed to sinks (the cluster
agent adds one that appends to a capped Redis stream). Reads are not recorded; an
action costs one log line and a small dict, nothing while nobody acts.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from attrs import asdict, frozen
from twisted.logger import Logger

log = Logger(namespace="supervise.audit")

#: How many records a daemon keeps in memory for ``supervisectl audit``.
KEPT = 1000


@frozen
class AuditRecord:
    """One action.

    :ivar who: the authenticated user, ``uid N (name)`` over a unix socket, or ``anonymous``.
    :ivar where: the peer (``127.0.0.1:53122``, ``unix socket /run/…``, ``host via Redis``).
    :ivar door: ``console``, ``xml-rpc``, ``supervisectl``, ``cluster console`` …
    :ivar result: ``ok``, ``refused: why`` or ``failed: what``.
    """

    time: float
    node: str
    who: str
    where: str
    door: str
    action: str
    targets: tuple[str, ...]
    result: str

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["targets"] = list(self.targets)
        return found

    def line(self) -> str:
        """The main log's words for it."""
        targets = " ".join(self.targets) or "-"
        return (
            f"audit: {self.who} from {self.where} via {self.door}: {self.action} {targets} "
            f"on {self.node}: {self.result}"
        )


def summary(results: Iterable[dict[str, Any]]) -> str:
    """``ok``, or ``failed: name: error; …`` from per-process results."""
    failed = [f"{r.get('name')}: {r.get('error')}" for r in results if not r.get("ok")]
    return "ok" if not failed else "failed: " + "; ".join(failed)


class AuditTrail:
    """Records actions: the main log, a ring of recent ones, and any sinks."""

    def __init__(
        self, node: str | None = None, clock: Callable[[], float] = time.time, kept: int = KEPT
    ) -> None:
        self.node = node or socket.gethostname()
        self.clock = clock
        self.recent: deque[AuditRecord] = deque(maxlen=kept)
        self.sinks: list[Callable[[AuditRecord], None]] = []

    def record(
        self,
        who: str,
        where: str,
        door: str,
        action: str,
        targets: Iterable[str],
        result: str,
        node: str | None = None,
    ) -> AuditRecord:
        """Record one action (``node``: where it ran, this node by default)."""
        entry = AuditRecord(
            time=self.clock(),
            node=node or self.node,
            who=who or "anonymous",
            where=where or "unknown",
            door=door,
            action=action,
            targets=tuple(str(t) for t in targets),
            result=result,
        )
        self.recent.append(entry)
        log.info("{line}", line=entry.line())
        for sink in list(self.sinks):
            try:
                sink(entry)
            except Exception:
                log.failure("audit: a sink failed")
        return entry

    def entries(self, count: int = 100) -> list[dict[str, Any]]:
        """The newest ``count`` records, oldest first."""
        kept = list(self.recent)[-count:] if count > 0 else []
        return [entry.as_dict() for entry in kept]
