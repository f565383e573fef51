"""The Supervisor: owns the groups, its own state, and applies configuration changes."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence

from attrs import define, evolve, field
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger, LogLevel

from supervise.config.model import ConfigModel, GroupConfig, GroupKind, ProcessConfig
from supervise.events.types import (
    DaemonExiting,
    GroupScaled,
    ProcessGroupAdded,
    ProcessGroupRemoved,
    SupervisorRunning,
    SupervisorStopping,
)
from supervise.interfaces import IEventBus, IProcessSpawner
from supervise.process.choices import RuntimeChoices
from supervise.process.daemon_end import DaemonEndRules
from supervise.process.group import ProcessGroup, stop_and_wait
from supervise.process.host import ProcessHost
from supervise.process.pool import ListenerPool, WireSerials
from supervise.process.program import Program
from supervise.process.saved import SavedProcess
from supervise.process.schedule import ProgramSchedule
from supervise.process.spec import SpawnContext
from supervise.snapshot import ProcessSnapshot
from supervise.states import STOPPED_STATES, ProcessState, SupervisorState
from supervise.supervisor_machine import SupervisorInputs, SupervisorMachine
from supervise.waiting import StateWaiters

log = Logger()

#: How long a listener pool may take, at shutdown, to deliver what it has buffered.
LISTENER_DRAIN_SECONDS = 5.0
#: How often a shutdown says which processes it still waits for (supervisord's 3 s).
SHUTDOWN_REPORT_SECONDS = 3.0


@define(eq=False)
class Supervisor:
    """Runs the groups of one configuration.

    :ivar fcgi_sockets: opens the shared socket of an fcgi group, giving its fd.
    """

    model: ConfigModel
    clock: IReactorTime
    wall_clock: Callable[[], float]
    spawner: IProcessSpawner
    bus: IEventBus
    context: SpawnContext
    #: Builds the programs' ProcessHost for a SpawnContext and the supervisor's
    #: ``may_restart`` (the assembly gives the real Linux one, tests a fake one).
    make_host: Callable[[SpawnContext, Callable[[], bool]], ProcessHost]
    fcgi_sockets: Callable[[GroupConfig], int | None] = lambda group: None
    state: SupervisorState = field(default=SupervisorState.RUNNING, init=False)
    groups: dict[str, ProcessGroup] = field(factory=dict)
    pools: dict[str, ListenerPool] = field(factory=dict)
    serials: WireSerials = field(factory=WireSerials)
    _stopping: Deferred[None] | None = None
    host: ProcessHost = field(init=False)
    machine: SupervisorInputs = field(init=False)
    #: Every wait on process states (dependencies, stops, edges' waits): one bus listener.
    waiters: StateWaiters = field(init=False)
    #: Disabled processes and scaled groups (kept across reload and re-exec).
    choices: RuntimeChoices = field(factory=RuntimeChoices)
    #: The timers of scheduled programs, by namespec.
    schedules: dict[str, ProgramSchedule] = field(factory=dict)
    #: When a process's end ends the daemon (critical, exit_when_done).
    end_rules: DaemonEndRules = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.machine = SupervisorMachine(self)
        self.end_rules = DaemonEndRules(
            self.model.supervisord.exit_when_done,
            self.clock,
            lambda: self.groups.values(),
            self.machine.end,
        )
        self.host = self._host_for(self.context)
        self.waiters = StateWaiters(self.bus, self.clock, self.lookup)

    def lookup(self, key: tuple[str, str]) -> ProcessSnapshot | None:
        """The snapshot of (group, process), None if there is no such process."""
        group = self.groups.get(key[0])
        program = group.processes.get(key[1]) if group is not None else None
        return program.snapshot() if program is not None else None

    def record(self, state: SupervisorState) -> None:
        """Record the state the machine entered."""
        self.state = state

    def announce_stopping(self) -> None:
        """SUPERVISOR_STATE_CHANGE_STOPPING."""
        self.bus.publish(SupervisorStopping())

    def announce_exit(self, group: str, name: str, status: int, why: str) -> None:
        """Say which program ends the daemon, and why."""
        level = LogLevel.warn if status else LogLevel.info
        log.emit(level, "exiting with status {status}: {why}", status=status, why=why)
        self.bus.publish(DaemonExiting(group, name, status, why))

    def _host_for(self, context: SpawnContext) -> ProcessHost:
        return evolve(self.make_host(context, self.may_restart), ended=self.end_rules.ended)

    def start(self, saved: Sequence[SavedProcess] = (), handed_over: bool = False) -> None:
        """Add every configured group, take over ``saved`` processes, announce RUNNING,
        then autostart what is neither taken over nor known to have run."""
        self.machine.start()
        added = [
            self.add_group(config, autostart=False)
            for config in sorted(self.model.groups, key=lambda g: (g.priority, g.name))
        ]
        self.restore(saved, handed_over)
        # supervisord's order: every PROCESS_GROUP_ADDED, then RUNNING, then the spawns.
        self.bus.publish(SupervisorRunning())
        for group in added:
            self.autostart(group)

    def restore(self, saved: Sequence[SavedProcess], handed_over: bool) -> None:
        """Adopt saved processes that still run; stop survivors no longer configured."""
        programs = {p.namespec: p for g in self.groups.values() for p in g.processes.values()}
        for entry in saved:
            program = programs.get(entry.namespec)
            if program is not None:
                program.restore(entry, handed_over)
            elif entry.same_process(self.host.table.start_ticks(entry.pid)):
                log.warn(
                    "{name} (pid {pid}) survived the previous daemon but is no longer configured: "
                    "stopping it",
                    name=entry.namespec,
                    pid=entry.pid,
                )
                self.host.table.signal(entry.pid, signal.SIGTERM)

    def all_programs(self) -> list[Program]:
        """Every process of every group."""
        return [p for g in self.ordered_groups() for p in g.ordered()]

    def may_restart(self) -> bool:
        """Automatic starts happen only while the daemon is RUNNING."""
        return self.state is SupervisorState.RUNNING

    def add_group(self, config: GroupConfig, autostart: bool = True) -> ProcessGroup:
        """Create a group's processes, announce it, and autostart it."""
        stdin_fd = self.fcgi_sockets(config) if config.fcgi_socket is not None else None
        live = self.choices.applied(config)
        processes = {p.name: self.make_program(p, stdin_fd) for p in live.processes}
        group = ProcessGroup(live, processes, config)
        self.groups[config.name] = group
        if config.kind is GroupKind.EVENTLISTENER:
            pool = ListenerPool(
                config, group.ordered(), self.bus, self.context.identifier, self.serials
            )
            pool.start()
            self.pools[config.name] = pool
        self.bus.publish(ProcessGroupAdded(config.name))
        if autostart:
            self.autostart(group)
        return group

    def make_program(self, config: ProcessConfig, stdin_fd: int | None) -> Program:
        """One process, disabled if it was, its schedule armed if it has one."""
        program = Program(config, self.host, stdin_fd=stdin_fd)
        program.disabled = program.namespec in self.choices.disabled
        if config.extras.schedule is not None:
            schedule = ProgramSchedule(
                program, self.clock, self.wall_clock, self.bus, self.start_after_dependencies
            )
            self.schedules[program.namespec] = schedule
            schedule.arm()
        return program

    def forget(self, program: Program) -> None:
        """A process leaves: no more scheduled starts."""
        schedule = self.schedules.pop(program.namespec, None)
        if schedule is not None:
            schedule.cancel()

    def resize(self, group: ProcessGroup, config: GroupConfig) -> Deferred[None]:
        """Run ``config``'s processes in ``group`` (a live scale): new ones are added and
        autostarted, the ones it no longer lists stopped (highest number first) and then
        removed; every other process is left as it is."""
        previous = len(group.config.processes)
        added = [
            self.make_program(p, None) for p in config.processes if p.name not in group.processes
        ]
        group.processes.update((p.name, p) for p in added)
        wanted = {p.name for p in config.processes}
        gone = sorted(
            (p for p in group.processes.values() if p.name not in wanted),
            key=lambda p: -p.config.process_num,
        )
        group.config = config
        group.resized()
        self.choices.record_scale(group.declared, len(config.processes))
        if self.state is SupervisorState.RUNNING:
            for program in added:
                if program.config.autostart and not program.disabled:
                    self.start_after_dependencies(program)

        def remove(_: None) -> None:
            still = {p.name for p in group.config.processes}
            for program in gone:
                if program.name not in still and group.processes.get(program.name) is program:
                    del group.processes[program.name]
                    self.forget(program)
                elif self._wanted_again(program):
                    self.start_after_dependencies(program)  # a later scale kept it
            group.resized()
            count = len(group.config.processes)
            self.bus.publish(
                GroupScaled(group.name, count, previous, len(group.declared.processes))
            )

        return stop_and_wait(gone, self.waiters).addCallback(remove)

    def _wanted_again(self, program: Program) -> bool:
        """A process a shrink stopped that a later scale wants again."""
        return (
            self.state is SupervisorState.RUNNING
            and program.config.autostart
            and not program.disabled
            and program.state in STOPPED_STATES
        )

    def autostart(self, group: ProcessGroup) -> None:
        """Start a group's autostart processes, each once its dependencies are RUNNING."""
        if self.state is not SupervisorState.RUNNING:
            return
        for program in group.autostart_candidates():
            self.start_after_dependencies(program)

    def resolve(self, name: str) -> list[Program]:
        """Processes a ``depends_on`` entry names: a group, a namespec or a process name."""
        if name in self.groups:
            return self.groups[name].ordered()
        found = []
        for group in self.groups.values():
            for program in group.processes.values():
                if name in (program.namespec, program.name):
                    found.append(program)
        return found

    def dependencies(self, program: Program) -> list[Program]:
        """What ``program`` depends on (itself excluded)."""
        found: list[Program] = []
        for name in program.config.extras.depends_on:
            found.extend(p for p in self.resolve(name) if p is not program and p not in found)
        return found

    def start_after_dependencies(self, program: Program) -> None:
        """Start ``program`` now, or as soon as every dependency is RUNNING."""
        dependencies = self.dependencies(program)
        waiting = [d for d in dependencies if d.state is not ProcessState.RUNNING]
        if not waiting:
            program.start()
            return
        log.info(
            "{name} waits for {dependencies} to be RUNNING",
            name=program.namespec,
            dependencies=", ".join(d.namespec for d in waiting),
            program=program.namespec,
        )

        def dependencies_running(_: object) -> None:
            if program.start_time or program.state is not ProcessState.STOPPED or program.disabled:
                return  # started meanwhile by someone else, or disabled
            if self.state is SupervisorState.RUNNING:
                program.start()

        self.waiters.when(
            [(d.namespec, (d.group, d.name)) for d in dependencies],
            lambda snapshot: snapshot.state is ProcessState.RUNNING,
        ).addCallback(dependencies_running)

    def remove_group(self, name: str) -> None:
        """Forget a fully stopped group and announce it."""
        for program in self.groups.pop(name).processes.values():
            self.forget(program)
        pool = self.pools.pop(name, None)
        if pool is not None:
            pool.stop()
        self.bus.publish(ProcessGroupRemoved(name))

    def ordered_groups(self) -> list[ProcessGroup]:
        """Groups in start order: (priority, name)."""
        return sorted(self.groups.values(), key=lambda g: (g.config.priority, g.name))

    async def stop_all(self) -> None:
        """Stop groups one at a time, highest priority number first (SUPERVISOR.md §3.8).

        With ``depends_on`` anywhere, processes stop in waves instead: each wave is every
        process nothing running depends on, so dependents always stop first.
        """
        programs = [p for g in reversed(self.ordered_groups()) for p in reversed(g.ordered())]
        if not any(p.config.extras.depends_on for p in programs):
            reported: float | None = None
            for group in reversed(self.ordered_groups()):
                pool = self.pools.get(group.name)
                if pool is not None:
                    # Listeners stop last: let them take what is buffered first (bounded).
                    await pool.drained(self.clock, LISTENER_DRAIN_SECONDS)
                now = self.clock.seconds()
                if reported is None or now >= reported + SHUTDOWN_REPORT_SECONDS:
                    # At most every 3 s, as supervisord (one line per group was a list of
                    # every process per group: quadratic in the number of programs).
                    names = [p.name for p in programs if p.state not in STOPPED_STATES]
                    if names:
                        log.info("waiting for {names} to die", names=", ".join(sorted(names)))
                        reported = now
                await group.stop_all(self.waiters)
            return
        dependents: dict[int, list[Program]] = {id(p): [] for p in programs}
        for program in programs:
            for dependency in self.dependencies(program):
                dependents.setdefault(id(dependency), []).append(program)
        while True:
            active = [p for p in programs if p.state not in STOPPED_STATES]
            if not active:
                return
            wave = [p for p in active if all(d.state in STOPPED_STATES for d in dependents[id(p)])]
            await stop_and_wait(wave or active, self.waiters)

    def shutdown(self) -> Deferred[None]:
        """Stop everything for exit; fire when every process is stopped."""
        if self._stopping is not None:
            return self._stopping
        self.machine.shut_down()
        for schedule in self.schedules.values():
            schedule.cancel()
        self._stopping = Deferred.fromCoroutine(self.stop_all())
        return self._stopping

    async def replace(self, model: ConfigModel, context: SpawnContext | None = None) -> None:
        """Reload: stop everything, drop every group, and start ``model`` from scratch."""
        self.machine.restart()
        await self.stop_all()
        for name in list(self.groups):
            self.remove_group(name)
        self.model = model
        self.end_rules.exit_when_done = model.supervisord.exit_when_done
        if context is not None:
            self.context = context
            self.host = self._host_for(context)
        self.start()
