"""Run-time choices through the door: disable and enable processes, scale a program.

Both outlive a reload and a re-exec (``process/choices.py`` keeps them; the state file
and the handoff carry them).
"""

from __future__ import annotations

from attrs import define, evolve
from twisted.internet.defer import Deferred

from supervise.config.model import GroupKind
from supervise.control.lookup import ProcessLookup
from supervise.errors import BadArguments, NotScalable, ShuttingDown
from supervise.events.types import ProcessDisabled, ProcessEnabled
from supervise.process.choices import MAX_PROCESSES
from supervise.process.group import stop_and_wait
from supervise.process.program import Program
from supervise.results import ScaleResult
from supervise.states import STOPPED_STATES, SupervisorState
from supervise.supervisor import Supervisor

__all__ = ["RuntimeControls"]


@define(eq=False)
class RuntimeControls:
    """Disable, enable and scale."""

    supervisor: Supervisor
    processes: ProcessLookup

    def _programs(self, name: str) -> list[Program]:
        return [self.processes.program(n) for n in self.processes.resolve(name).namespecs]

    def disable(self, name: str) -> Deferred[list[str]]:
        """Disable the processes ``name`` designates and stop them; fire with their
        namespecs once every one is stopped."""
        programs = self._programs(name)
        supervisor = self.supervisor
        for program in programs:
            supervisor.choices.disabled.add(program.namespec)
            if not program.disabled:
                program.disabled = True
                supervisor.bus.publish(ProcessDisabled(program.group, program.name))
        running = [p for p in programs if p.state not in STOPPED_STATES]
        return stop_and_wait(running, supervisor.waiters).addCallback(
            lambda _: [p.namespec for p in programs]
        )

    def enable(self, name: str) -> list[str]:
        """Enable the processes ``name`` designates again (none is started)."""
        programs = self._programs(name)
        supervisor = self.supervisor
        for program in programs:
            supervisor.choices.disabled.discard(program.namespec)
            if program.disabled:
                program.disabled = False
                supervisor.bus.publish(ProcessEnabled(program.group, program.name))
        return [p.namespec for p in programs]

    def scale(self, name: str, count: int) -> Deferred[ScaleResult]:
        """Run ``count`` processes of the program ``name``; fire once the processes it
        no longer has are stopped and removed."""
        group = self.processes.group(name)
        if self.supervisor.state is not SupervisorState.RUNNING:
            raise ShuttingDown()
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_PROCESSES:
            raise BadArguments(
                f"the number of processes must be 0 to {MAX_PROCESSES}, not {count!r}"
            )
        declared = group.declared
        if declared.kind is not GroupKind.PROGRAM or declared.expand is None:
            raise NotScalable(
                f"{name} is not a [program:x] section ([{declared.kind.value}:x] cannot be scaled)"
            )
        try:
            processes = declared.expand(count)
        except ValueError as problem:
            raise NotScalable(f"{name} cannot be scaled: {problem}") from None
        previous = len(group.config.processes)
        done = self.supervisor.resize(group, evolve(declared, processes=processes))
        return done.addCallback(
            lambda _: ScaleResult(name, count, previous, len(declared.processes))
        )
