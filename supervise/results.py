"""What the control API answers besides snapshots: what a name designates, the outcome
of a command on each process of a group, and a wait that ran out of time.

Layer 0 values: edges read them, and ``supervise.control`` makes them.
"""

from __future__ import annotations

from attrs import frozen

from supervise.errors import SuperviseError
from supervise.snapshot import ProcessSnapshot


@frozen
class Target:
    """The processes a supervisord name designates (SUPERVISOR.md §6.2).

    ``name`` and ``group:name`` designate one process; ``group:*`` and ``group:`` the
    whole group (``whole_group``), whose processes come in start order.
    """

    group: str
    namespecs: tuple[str, ...]
    whole_group: bool = False


@frozen
class ProcessResult:
    """The outcome of a command on one process of a group or ``all`` call."""

    name: str
    group: str
    error: SuperviseError | None = None


@frozen
class ScaleResult:
    """A program scaled: ``count`` processes now, ``previous`` before, ``declared`` in
    its configuration."""

    group: str
    count: int
    previous: int
    declared: int


class WaitTimedOut(Exception):
    """A wait (``ISupervisorControl.when``) ended at its timeout.

    :ivar missing: the namespecs that had not reached the condition.
    :ivar snapshots: every waited-for process as it was at the timeout.
    """

    def __init__(self, missing: tuple[str, ...], snapshots: tuple[ProcessSnapshot, ...]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing
        self.snapshots = snapshots
