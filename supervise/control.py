"""SupervisorControl: the one door into the core (``ISupervisorControl``).

Every edge — XML-RPC, the console, the cluster agent, plugins — reads processes as
snapshots and acts on them here, with supervisord's rules and errors. Names are
supervisord's namespecs (``name``, ``group:name``, ``group:*``) and are resolved in one
place (``resolve``). Waiting is one primitive (``when``), fed by the bus's
``PROCESS_STATE_*`` events and fired on a later reactor turn, never by polling and never
inside a transition (SUPERVISOR.md §6.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import define, field
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from supervise.config.diff import ConfigDiff, diff
from supervise.config.model import ConfigModel, GroupConfig, ProcessConfig
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
from supervise.interfaces import IEventBus, ISupervisorControl
from supervise.logs.channel import OutputChannel
from supervise.logs.reading import last_bytes, read_log_file, tail_log_file
from supervise.process.group import ProcessGroup
from supervise.process.program import Program
from supervise.results import ProcessResult, Target
from supervise.snapshot import ProcessSnapshot
from supervise.states import (
    RUNNING_STATES,
    SIGNALLABLE_STATES,
    STOPPED_STATES,
    ProcessState,
    SupervisorState,
)
from supervise.supervisor import Supervisor
from supervise.waiting import StateWaiters

log = Logger()

__all__ = ["ProcessResult", "SupervisorControl", "split_namespec"]

CHANNELS = ("stdout", "stderr")


def split_namespec(namespec: str) -> tuple[str, str | None]:
    """``g:p`` → (g, p); ``g:*`` or ``g:`` → (g, None); ``name`` → (name, name)."""
    group, sep, process = namespec.partition(":")
    if not sep:
        return namespec, namespec
    if process in ("*", ""):
        return group, None
    return group, process


@implementer(ISupervisorControl)
@define(eq=False)
class SupervisorControl:
    """Commands on a Supervisor, with supervisord's rules and errors.

    :ivar reread_model: reads the configuration again (raises ValueError/ConfigError).
    :ivar pending: the configuration last read by ``reread``, until ``update`` applies it.
    """

    supervisor: Supervisor
    reread_model: Callable[[], ConfigModel]
    pending: ConfigModel | None = None
    _waiters: StateWaiters = field(init=False)

    def __attrs_post_init__(self) -> None:
        self._waiters = self.supervisor.waiters

    @property
    def bus(self) -> IEventBus:
        """The bus every lifecycle event travels on."""
        return self.supervisor.bus

    # -- names -----------------------------------------------------------------------

    def resolve(self, name: str) -> Target:
        """What ``name`` designates (BadName with the name as given otherwise)."""
        group_name, process_name = split_namespec(name)
        group = self.supervisor.groups.get(group_name)
        if group is None:
            raise BadName(name)
        if process_name is None:
            return Target(group_name, tuple(p.namespec for p in group.ordered()), True)
        program = group.processes.get(process_name)
        if program is None:
            raise BadName(name)
        return Target(group_name, (program.namespec,))

    def _group(self, name: str) -> ProcessGroup:
        try:
            return self.supervisor.groups[name]
        except KeyError:
            raise BadName(name) from None

    def _program(self, namespec: str) -> Program:
        """The process a namespec names; a group form is BadName."""
        group_name, process_name = split_namespec(namespec)
        group = self.supervisor.groups.get(group_name)
        if group is None or process_name is None or process_name not in group.processes:
            raise BadName(namespec)
        return group.processes[process_name]

    def _all_programs(self) -> list[Program]:
        return [p for g in self.supervisor.ordered_groups() for p in g.ordered()]

    def sorted_processes(self) -> list[Program]:
        """Every live process by group then name: for plugins written before
        ``snapshots()``, which they should use instead."""
        return sorted(self._all_programs(), key=lambda p: (p.group, p.name))

    # -- reading -----------------------------------------------------------------------

    def supervisor_state(self) -> SupervisorState:
        """The daemon's own state."""
        return self.supervisor.state

    def snapshot(self, namespec: str) -> ProcessSnapshot:
        """One process as it is now."""
        return self._program(namespec).snapshot()

    def snapshots(self) -> list[ProcessSnapshot]:
        """Every process, by group then process name."""
        return [p.snapshot() for p in self.sorted_processes()]

    def process_config(self, namespec: str) -> ProcessConfig:
        """The configuration a process runs with."""
        return self._program(namespec).config

    def group_config(self, name: str) -> GroupConfig:
        """The configuration of an active group."""
        return self._group(name).config

    def group_names(self) -> list[str]:
        """Active groups in start order."""
        return [g.name for g in self.supervisor.ordered_groups()]

    def active_config(self) -> ConfigModel:
        """The configuration the daemon runs."""
        return self.supervisor.model

    def latest_config(self) -> ConfigModel:
        """The configuration last read (or the running one)."""
        return self.pending if self.pending is not None else self.supervisor.model

    # -- waiting -------------------------------------------------------------------------

    def when(
        self,
        namespecs: Sequence[str],
        predicate: Callable[[ProcessSnapshot], bool],
        timeout: float | None = None,
    ) -> Deferred[list[ProcessSnapshot]]:
        """Fire with the snapshots once every process satisfies ``predicate``."""
        programs = [self._program(n) for n in namespecs]
        return self._waiters.when(
            [(p.namespec, (p.group, p.name)) for p in programs], predicate, timeout
        )

    def _lookup(self, key: tuple[str, str]) -> ProcessSnapshot | None:
        group = self.supervisor.groups.get(key[0])
        program = group.processes.get(key[1]) if group is not None else None
        return program.snapshot() if program is not None else None

    # -- start / stop ------------------------------------------------------------------

    def start(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Start one process; fire True when RUNNING (or at once when not waiting)."""
        return self._start(self._program(namespec), namespec, wait)

    def _start(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
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

        def outcome(snapshots: list[ProcessSnapshot]) -> bool:
            (process,) = snapshots
            if process.state is ProcessState.RUNNING:
                return True
            if process.state in (ProcessState.BACKOFF, ProcessState.FATAL) and process.spawnerr:
                raise SpawnFailed(label)
            raise AbnormalTermination(label)

        return self.when(
            [program.namespec], lambda s: s.state is not ProcessState.STARTING
        ).addCallback(outcome)

    async def _start_after(
        self, program: Program, label: str, wait: bool, pending: list[Program]
    ) -> bool:
        """``start x`` brings up what x needs first, each to RUNNING, then x."""
        for dependency in pending:
            if dependency.state in (ProcessState.STARTING, ProcessState.BACKOFF):
                (reached,) = await self.when(
                    [dependency.namespec],
                    lambda s: s.state not in (ProcessState.STARTING, ProcessState.BACKOFF),
                )
                if reached.state is not ProcessState.RUNNING:
                    raise AbnormalTermination(dependency.namespec)
            elif dependency.state is not ProcessState.RUNNING:
                await self._start(dependency, dependency.namespec, True)
        return await self._start(program, label, wait)

    def stop(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Stop one process; fire True once it is stopped (or at once)."""
        return self._stop(self._program(namespec), namespec, wait)

    def _stop(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
        """Stop ``program``; NotRunning unless it is starting, running or backing off."""
        if program.state not in RUNNING_STATES:
            raise NotRunning(label)
        program.stop()
        if not wait or program.state in STOPPED_STATES:
            return succeed(True)
        log.info("waiting for {name} to stop", name=program.name, program=program.namespec)
        return self.when([program.namespec], lambda s: s.state in STOPPED_STATES).addCallback(
            lambda _: True
        )

    def start_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process of a group."""
        group = self._group(name)
        return self._each(
            [p for p in group.ordered() if p.state not in RUNNING_STATES],
            lambda p: self._start(p, p.namespec, wait),
        )

    def start_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process, group by group."""
        return self._each(
            [p for p in self._all_programs() if p.state not in RUNNING_STATES],
            lambda p: self._start(p, p.namespec, wait),
        )

    def stop_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process of a group (in start order, as supervisord does)."""
        group = self._group(name)
        return self._each(
            [p for p in group.ordered() if p.state in RUNNING_STATES],
            lambda p: self._stop(p, p.namespec, wait),
        )

    def stop_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process (in start order, as supervisord's API does)."""
        return self._each(
            [p for p in self._all_programs() if p.state in RUNNING_STATES],
            lambda p: self._stop(p, p.namespec, wait),
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

            def failed(failure: Failure, program: Program = program) -> None:
                error = failure.value
                if not isinstance(error, SuperviseError):
                    error = Failed(str(error))
                results.append(ProcessResult(program.name, program.group, error))

            waits.append(pending.addCallbacks(ok, failed))
        # Each wait appends its result as it finishes: supervisord's completion order.
        return DeferredList(waits).addCallback(lambda _: results)

    # -- signals and stdin --------------------------------------------------------------

    def signal(self, namespec: str, sig: int) -> None:
        """Signal one process (NotRunning unless it is signallable)."""
        program = self._program(namespec)
        if program.state not in SIGNALLABLE_STATES:
            raise NotRunning(namespec)
        program.signal(sig)

    def signal_group(self, name: str, sig: int) -> list[ProcessResult]:
        """Signal every signallable process of a group."""
        return self._signal_each(self._group(name).ordered(), sig)

    def signal_all(self, sig: int) -> list[ProcessResult]:
        """Signal every signallable process."""
        return self._signal_each(self._all_programs(), sig)

    @staticmethod
    def _signal_each(programs: Sequence[Program], sig: int) -> list[ProcessResult]:
        results = []
        for program in programs:
            if program.state not in SIGNALLABLE_STATES:
                continue
            try:
                program.signal(sig)
            except SuperviseError as error:
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return results

    def send_stdin(self, namespec: str, data: bytes) -> None:
        """Write to a running process's stdin (NoFile when its stdin is closed)."""
        program = self._program(namespec)
        if program.state not in SIGNALLABLE_STATES:
            raise NotRunning(namespec)
        try:
            program.write_stdin(data)
        except OSError:
            raise NoFile(namespec) from None

    # -- process logs --------------------------------------------------------------------

    def _channel(self, namespec: str, channel: str) -> tuple[Program, OutputChannel]:
        program = self._program(namespec)
        if channel not in CHANNELS:
            raise BadName(f"{namespec} has no channel {channel!r}")
        return program, program.stdout if channel == "stdout" else program.stderr

    def _logged(self, namespec: str, channel: str) -> OutputChannel:
        program, output = self._channel(namespec, channel)
        if program.external:
            raise NoFile(f"{namespec} was not started by supervise: it has no log")
        return output

    def read_log(self, namespec: str, channel: str, offset: int, length: int) -> bytes:
        """A slice of a process's log, as readProcessStdoutLog reads it."""
        return read_log_file(self._logged(namespec, channel).path, offset, length)

    def tail_log(
        self, namespec: str, channel: str, offset: int, length: int
    ) -> tuple[bytes, int, bool]:
        """The end of a process's log, as tailProcessStdoutLog answers."""
        return tail_log_file(self._logged(namespec, channel).path, offset, length)

    def follow_log(
        self,
        namespec: str,
        channel: str,
        follower: Callable[[bytes], None],
        backlog: int = 1024,
    ) -> Callable[[], None]:
        """The last ``backlog`` bytes now, then every new byte; returns the unfollow."""
        _, output = self._channel(namespec, channel)
        if output.path is None:
            raise NoFile(f"{namespec} has no {channel} log file")
        follower(last_bytes(output.path, backlog))
        output.followers.append(follower)

        def unfollow() -> None:
            if follower in output.followers:
                output.followers.remove(follower)

        return unfollow

    def clear_log(self, namespec: str) -> None:
        """Empty both log files of one process (Failed on an OS error)."""
        program = self._program(namespec)
        try:
            program.stdout.clear()
            program.stderr.clear()
        except OSError:
            raise Failed(namespec) from None

    def clear_all_logs(self) -> list[ProcessResult]:
        """Empty the logs of every process; one result each."""
        results = []
        for program in self._all_programs():
            try:
                self.clear_log(program.namespec)
            except Failed as error:
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return results

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

    def add_group(self, name: str) -> None:
        """Add a group from the last-read configuration."""
        if name in self.supervisor.groups:
            raise AlreadyAdded(name)
        config = self.latest_config().group(name)
        if config is None:
            raise BadName(name)
        self.supervisor.add_group(config)

    def remove_group(self, name: str) -> None:
        """Remove a group whose processes are all stopped."""
        group = self._group(name)
        if not group.all_stopped():
            raise StillRunning(name)
        self.supervisor.remove_group(name)

    def update(self, model: ConfigModel, only: set[str] | None = None) -> Deferred[ConfigDiff]:
        """Apply ``model`` as supervisorctl's ``update`` would."""
        return Deferred.fromCoroutine(self._update(model, only))

    async def _update(self, model: ConfigModel, only: set[str] | None) -> ConfigDiff:
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
                await group.stop_all(self.supervisor.waiters)
                self.supervisor.remove_group(name)
        for config in [*changes.changed, *changes.added]:
            self.supervisor.add_group(config)
        self.supervisor.model = model
        self.pending = None
        return changes
