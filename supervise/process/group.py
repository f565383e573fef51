"""A process group: its processes in priority order, started and stopped together."""

from __future__ import annotations

from attrs import define
from twisted.internet.defer import Deferred, succeed

from supervise.config.model import GroupConfig
from supervise.process.program import Program
from supervise.states import STOPPED_STATES, ProcessState


@define(eq=False)
class ProcessGroup:
    """Processes of one group, ordered by (priority, name)."""

    config: GroupConfig
    processes: dict[str, Program]

    @property
    def name(self) -> str:
        """The group name."""
        return self.config.name

    def ordered(self) -> list[Program]:
        """Processes in start order."""
        return sorted(self.processes.values(), key=lambda p: (p.config.priority, p.name))

    def autostart(self) -> None:
        """Start every ``autostart`` process that was never started (SUPERVISOR.md §3.2)."""
        for program in self.ordered():
            if (
                program.config.autostart
                and program.state is ProcessState.STOPPED
                and not program.start_time
            ):
                program.start()

    def all_stopped(self) -> bool:
        """True when every process is in a stopped state."""
        return all(p.state in STOPPED_STATES for p in self.processes.values())

    def stop_all(self) -> Deferred[None]:
        """Stop every process at once (BACKOFF becomes FATAL); fire when all are stopped."""
        for program in reversed(self.ordered()):
            if program.state in (ProcessState.RUNNING, ProcessState.STARTING):
                program.stop()
            elif program.state is ProcessState.BACKOFF:
                program.give_up()
        return self.when_stopped()

    def when_stopped(self) -> Deferred[None]:
        """Fire once every process is in a stopped state."""
        if self.all_stopped():
            return succeed(None)
        done: Deferred[None] = Deferred()

        def check(_: ProcessState) -> bool:
            if done.called:
                return True
            if self.all_stopped():
                done.callback(None)
                return True
            return False

        for program in self.processes.values():
            program.watch(check)
        return done
