"""SupervisorControl: the one command API every edge (XML-RPC, console, cluster) uses.

Names are supervisord's namespecs (``name``, ``group:name``, ``group:*``). Waiting is
by Deferred on the process's own state changes, never by polling (SUPERVISOR.md §6.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import define, frozen
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger

from supervise.config.diff import ConfigDiff, diff
from supervise.config.model import ConfigModel
from supervise.errors import (
    AbnormalTermination,
    AlreadyAdded,
    AlreadyStarted,
    BadName,
    CantReread,
    Failed,
    NoFile,
    NotExecutable,
    NotRunning,
    SpawnError,
    SpawnFailed,
    StillRunning,
    SuperviseError,
)
from supervise.process.group import ProcessGroup
from supervise.process.program import Program
from supervise.states import RUNNING_STATES, SIGNALLABLE_STATES, STOPPED_STATES, ProcessState
from supervise.supervisor import Supervisor

log = Logger()


@frozen
class ProcessResult:
    """The outcome of a command on one process of a group or ``all`` call."""

    name: str
    group: str
    error: SuperviseError | None = None


def split_namespec(namespec: str) -> tuple[str, str | None]:
    """``g:p`` → (g, p); ``g:*`` or ``g:`` → (g, None); ``name`` → (name, name)."""
    group, sep, process = namespec.partition(":")
    if not sep:
        return namespec, namespec
    if process in ("*", ""):
        return group, None
    return group, process


@define(eq=False)
class SupervisorControl:
    """Commands on a Supervisor, with supervisord's rules and errors.

    :ivar reread_model: reads the configuration again (raises ConfigError).
    """

    supervisor: Supervisor
    reread_model: Callable[[], ConfigModel]
    pending: ConfigModel | None = None

    # -- lookups --------------------------------------------------------------------

    def group(self, name: str) -> ProcessGroup:
        """The active group ``name`` (BadName otherwise)."""
        try:
            return self.supervisor.groups[name]
        except KeyError:
            raise BadName(name) from None

    def process(self, namespec: str) -> Program:
        """The process a namespec names; a group form is BadName."""
        group_name, process_name = split_namespec(namespec)
        group = self.supervisor.groups.get(group_name)
        if group is None or process_name is None or process_name not in group.processes:
            raise BadName(namespec)
        return group.processes[process_name]

    def targets(self, namespec: str) -> tuple[ProcessGroup, list[Program]] | Program:
        """Either one process, or a group and its processes for ``group:*``."""
        group_name, process_name = split_namespec(namespec)
        if process_name is None:
            group = self.group(group_name)
            return group, group.ordered()
        return self.process(namespec)

    def all_processes(self) -> list[Program]:
        """Every process, in start order."""
        return [p for g in self.supervisor.ordered_groups() for p in g.ordered()]

    def sorted_processes(self) -> list[Program]:
        """Every process sorted by group then process name (getAllProcessInfo order)."""
        return sorted(self.all_processes(), key=lambda p: (p.group, p.name))

    # -- start / stop ------------------------------------------------------------------

    def start(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Start one process; fire True when RUNNING (or at once when not waiting)."""
        program = self.process(namespec)
        return self.start_process(program, namespec, wait)

    def start_process(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
        """Start ``program``, with supervisord's checks and wait rules."""
        if program.state is ProcessState.UNKNOWN:
            raise Failed(f"{label} is in an unknown process state")
        try:
            program.check_command()
        except SpawnError as error:
            raise (NoFile if error.kind == "NO_FILE" else NotExecutable)(error.message) from None
        if program.state in RUNNING_STATES:
            raise AlreadyStarted(label)
        pending = [
            d for d in self.supervisor.dependencies(program) if d.state is not ProcessState.RUNNING
        ]
        if pending:
            return Deferred.fromCoroutine(self._start_after(program, label, wait, pending))
        program.start()
        if program.state in (ProcessState.BACKOFF, ProcessState.FATAL) and program.spawnerr:
            raise SpawnFailed(label)
        if not wait or program.state is ProcessState.RUNNING:
            return succeed(True)
        done: Deferred[bool] = Deferred()

        def watch(state: ProcessState) -> bool:
            if state is ProcessState.RUNNING:
                self._later(done.callback, True)
            elif state in (ProcessState.BACKOFF, ProcessState.FATAL) and program.spawnerr:
                self._later(done.errback, SpawnFailed(label))
            elif state not in (ProcessState.STARTING, ProcessState.RUNNING):
                self._later(done.errback, AbnormalTermination(label))
            else:
                return False
            return True

        program.watch(watch)
        return done

    def _later(self, fire: Callable[[Any], object], value: object) -> None:
        """Fire a waiter on the next reactor turn: its callbacks (a multicall's next
        command, say) then never run inside a process machine's transition."""
        self.supervisor.clock.callLater(0, fire, value)

    async def _start_after(
        self, program: Program, label: str, wait: bool, pending: list[Program]
    ) -> bool:
        """``start x`` brings up what x needs first, each to RUNNING, then x."""
        for dependency in pending:
            if dependency.state in (ProcessState.STARTING, ProcessState.BACKOFF):
                await self._until_running(dependency)
            elif dependency.state is not ProcessState.RUNNING:
                await self.start_process(dependency, dependency.namespec, True)
        return await self.start_process(program, label, wait)

    def _until_running(self, program: Program) -> Deferred[bool]:
        done: Deferred[bool] = Deferred()

        def watch(state: ProcessState) -> bool:
            if state is ProcessState.RUNNING:
                self._later(done.callback, True)
            elif state not in (ProcessState.STARTING, ProcessState.BACKOFF):
                self._later(done.errback, AbnormalTermination(program.namespec))
            else:
                return False
            return True

        program.watch(watch)
        return done

    def stop(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Stop one process; fire True once it is stopped (or at once)."""
        return self.stop_process(self.process(namespec), namespec, wait)

    def stop_process(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
        """Stop ``program``; NotRunning unless it is starting, running or backing off."""
        if program.state not in RUNNING_STATES:
            raise NotRunning(label)
        program.stop()
        if not wait or program.state in STOPPED_STATES:
            return succeed(True)
        log.info("waiting for {name} to stop", name=program.name, program=program.namespec)
        done: Deferred[bool] = Deferred()

        def watch(state: ProcessState) -> bool:
            if state in STOPPED_STATES:
                self._later(done.callback, True)
                return True
            return False

        program.watch(watch)
        return done

    def start_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process of a group."""
        group = self.group(name)
        return self._each(
            [p for p in group.ordered() if p.state not in RUNNING_STATES],
            lambda p: self.start_process(p, p.namespec, wait),
        )

    def start_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process, group by group."""
        return self._each(
            [p for p in self.all_processes() if p.state not in RUNNING_STATES],
            lambda p: self.start_process(p, p.namespec, wait),
        )

    def stop_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process of a group (in start order, as supervisord does)."""
        group = self.group(name)
        return self._each(
            [p for p in group.ordered() if p.state in RUNNING_STATES],
            lambda p: self.stop_process(p, p.namespec, wait),
        )

    def stop_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process (in start order, as supervisord's API does)."""
        return self._each(
            [p for p in self.all_processes() if p.state in RUNNING_STATES],
            lambda p: self.stop_process(p, p.namespec, wait),
        )

    def _each(
        self, programs: Sequence[Program], action: Callable[[Program], Deferred[bool]]
    ) -> Deferred[list[ProcessResult]]:
        results: list[ProcessResult] = []
        waits: list[Deferred[None]] = []
        for program in programs:
            try:
                pending = action(program)
            except SuperviseError as error:
                results.append(ProcessResult(program.name, program.group, error))
                continue

            def ok(_: bool, program: Program = program) -> None:
                results.append(ProcessResult(program.name, program.group))

            def failed(failure: object, program: Program = program) -> None:
                error = getattr(failure, "value", None)
                if not isinstance(error, SuperviseError):
                    error = Failed(str(error))
                results.append(ProcessResult(program.name, program.group, error))

            waits.append(pending.addCallbacks(ok, failed))
        # Each wait appends its result as it finishes: supervisord's completion order.
        return DeferredList(waits).addCallback(lambda _: results)

    # -- signals and stdin --------------------------------------------------------------

    def signal(self, namespec: str, sig: int) -> None:
        """Signal one process (NotRunning unless it is signallable)."""
        program = self.process(namespec)
        if program.state not in SIGNALLABLE_STATES:
            raise NotRunning(namespec)
        program.signal(sig)

    def signal_many(
        self, programs: Sequence[Program], sig: int | SuperviseError
    ) -> list[ProcessResult]:
        """Signal each signallable process; a bad signal is each one's error, as in supervisord."""
        results = []
        for program in programs:
            if program.state not in SIGNALLABLE_STATES:
                continue
            if isinstance(sig, SuperviseError):
                results.append(ProcessResult(program.name, program.group, sig))
                continue
            try:
                program.signal(sig)
            except SuperviseError as error:
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return results

    def send_stdin(self, namespec: str, data: bytes) -> None:
        """Write to a running process's stdin."""
        program = self.process(namespec)
        if program.state not in SIGNALLABLE_STATES:
            raise NotRunning(namespec)
        program.write_stdin(data)

    # -- configuration ----------------------------------------------------------------

    def reread(self) -> ConfigDiff:
        """Read the configuration again and say what changed (CantReread on error)."""
        try:
            model = self.reread_model()
        except ValueError as error:
            raise CantReread(str(error)) from None
        self.pending = model
        active = {name: group.config for name, group in self.supervisor.groups.items()}
        return diff(active, model)

    def _latest(self) -> ConfigModel:
        return self.pending if self.pending is not None else self.supervisor.model

    def add_group(self, name: str) -> None:
        """Add a group from the last-read configuration."""
        if name in self.supervisor.groups:
            raise AlreadyAdded(name)
        config = self._latest().group(name)
        if config is None:
            raise BadName(name)
        self.supervisor.add_group(config)

    def remove_group(self, name: str) -> None:
        """Remove a group whose processes are all stopped."""
        group = self.group(name)
        if not group.all_stopped():
            raise StillRunning(name)
        self.supervisor.remove_group(name)

    async def update(self, model: ConfigModel, only: set[str] | None = None) -> ConfigDiff:
        """Apply ``model`` as supervisorctl's ``update`` would: removed groups stopped and
        dropped, changed ones restarted, added ones started, the rest never touched.

        :param only: act on these group names alone (a cluster revision's groups).
        """
        active = {name: group.config for name, group in self.supervisor.groups.items()}
        changes = diff(active, model)
        if only is not None:
            changes = ConfigDiff(
                tuple(g for g in changes.added if g.name in only),
                tuple(g for g in changes.changed if g.name in only),
                tuple(n for n in changes.removed if n in only),
            )
        for name in [*changes.removed, *(g.name for g in changes.changed)]:
            group = self.supervisor.groups.get(name)
            if group is not None:
                await group.stop_all()
                self.supervisor.remove_group(name)
        for config in [*changes.changed, *changes.added]:
            self.supervisor.add_group(config)
        self.supervisor.model = model
        self.pending = None
        return changes
