"""What every service of one daemon shares: how it was started and what it runs now."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from supervise.audit import AuditTrail
from supervise.config.model import ConfigModel
from supervise.daemon.handoff import SavedState
from supervise.options import DaemonOptions


@define(eq=False)
class Runtime:
    """The daemon's shared facts.

    :ivar model: the configuration running now (replaced by a reload).
    :ivar handoff: what the copy before a re-exec passed on, or None on a fresh start.
    :ivar stopping: set once a shutdown or re-exec has begun.
    :ivar audit: the trail every door records its actions in.
    """

    options: DaemonOptions
    model: ConfigModel
    reactor: Any
    handoff: SavedState | None = None
    stopping: bool = False
    messages: list[str] = field(factory=list)
    audit: AuditTrail = field(factory=AuditTrail)

    @property
    def state_path(self) -> str:
        """The state file: beside the pidfile."""
        return f"{self.model.supervisord.pidfile}.state"
