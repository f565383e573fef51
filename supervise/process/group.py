"""A process group: its processes in priority order, started and stopped together."""

from __future__ import annotations

from attrs import define
from twisted.internet.defer import Deferred

from supervise.config.model import GroupConfig
from supervise.errors import NotRunning
from supervise.process.program import Program
from supervise.states import STOPPED_STATES, ProcessState
from supervise.waiting import StateWaiters


@define(eq=False)
class ProcessGroup:
    """Processes of one group, ordered by (priority, name).

    :ivar config: the group as it runs (a live scale changes its processes).
    :ivar declared: the group as the configuration says (what ``update`` compares).
    """

    config: GroupConfig
    processes: dict[str, Program]
    _declared: GroupConfig | None = None

    def __attrs_post_init__(self) -> None:
        self.resized()

    @property
    def declared(self) -> GroupConfig:
        """The group as the configuration says."""
        return self._declared if self._declared is not None else self.config

    def resized(self) -> None:
        """Tell each process the group's size now and as configured."""
        sizes = (len(self.config.processes), len(self.declared.processes))
        for program in self.processes.values():
            program.numprocs = sizes

    @property
    def name(self) -> str:
        """The group name."""
        return self.config.name

    def ordered(self) -> list[Program]:
        """Processes in start order."""
        # supervisord sorts by priority only, stably: equal priorities keep config order.
        index = {process.name: n for n, process in enumerate(self.config.processes)}
        return sorted(
            self.processes.values(), key=lambda p: (p.config.priority, index.get(p.name, 0))
        )

    def autostart_candidates(self) -> list[Program]:
        """``autostart`` processes never started yet, in start order (SUPERVISOR.md §3.2)."""
        return [
            p
            for p in self.ordered()
            if p.config.autostart
            and not p.disabled
            and p.state is ProcessState.STOPPED
            and not p.start_time
        ]

    def all_stopped(self) -> bool:
        """True when every process is in a stopped state."""
        return all(p.state in STOPPED_STATES for p in self.processes.values())

    def stop_all(self, waiters: StateWaiters) -> Deferred[None]:
        """Stop every process at once (BACKOFF becomes FATAL); fire when all are stopped."""
        return stop_and_wait(list(reversed(self.ordered())), waiters)


def stop_and_wait(programs: list[Program], waiters: StateWaiters) -> Deferred[None]:
    """Stop ``programs`` at once (BACKOFF becomes FATAL); fire when all are stopped."""
    for program in programs:
        try:
            program.stop()
        except NotRunning:
            program.give_up()
    done = waiters.when(
        [(p.namespec, (p.group, p.name)) for p in programs],
        lambda snapshot: snapshot.state in STOPPED_STATES,
    )
    return done.addCallback(lambda _: None)
