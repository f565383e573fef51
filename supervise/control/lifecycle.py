"""Starting and stopping processes, and waiting for their states: supervisord's checks
and errors, ``depends_on`` brought up first, one result per process for groups.

Waits are ``StateWaiters.when`` (fed by the bus's ``PROCESS_STATE_*`` events, fired on a
later reactor turn): ``start(wait=True)`` fires at RUNNING and fails with supervisord's
fault on BACKOFF exhaustion, FATAL or a spawn error (SUPERVISOR.md §6.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import define
from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from supervise.control.lookup import ProcessLookup
from supervise.errors import (
    AbnormalTermination,
    AlreadyStarted,
    Disabled,
    Failed,
    NoFile,
    NotExecutable,
    NotRunning,
    SpawnError,
    SpawnFailed,
    SuperviseError,
)
from supervise.process.program import Program
from supervise.results import ProcessResult
from supervise.snapshot import ProcessSnapshot
from supervise.states import RUNNING_STATES, STOPPED_STATES, ProcessState
from supervise.supervisor import Supervisor
from supervise.waiting import StateWaiters

log = Logger(namespace="supervise.control")  # the namespace its messages always had

__all__ = ["ProcessLifecycle"]


@define(eq=False)
class ProcessLifecycle:
    """Start and stop processes, one, a group or all, and wait for their states."""

    supervisor: Supervisor
    processes: ProcessLookup
    waiters: StateWaiters

    # -- waiting -------------------------------------------------------------------------

    def when(
        self,
        namespecs: Sequence[str],
        predicate: Callable[[ProcessSnapshot], bool],
        timeout: float | None = None,
    ) -> Deferred[list[ProcessSnapshot]]:
        """Fire with the snapshots once every process satisfies ``predicate``."""
        programs = [self.processes.program(n) for n in namespecs]
        return self.waiters.when(
            [(p.namespec, (p.group, p.name)) for p in programs], predicate, timeout
        )

    # -- start / stop ------------------------------------------------------------------

    def start(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Start one process; fire True when RUNNING (or at once when not waiting)."""
        return self._start(self.processes.program(namespec), namespec, wait)

    def _start(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
        """Start ``program``, with supervisord's checks and wait rules.

        The command is checked first (supervisord's order); whether the process may start
        is its machine's answer (AlreadyStarted, Failed for UNKNOWN), named as asked.
        """
        try:
            program.check_command()
        except SpawnError as error:
            raise (NoFile if error.kind == "NO_FILE" else NotExecutable)(error.message) from None
        pending = [
            d for d in self.supervisor.dependencies(program) if d.state is not ProcessState.RUNNING
        ]
        if (
            pending
            and program.state not in RUNNING_STATES
            and program.state is not ProcessState.UNKNOWN
        ):
            # Dependencies first; the machine still decides when its turn comes.
            return Deferred.fromCoroutine(self._start_after(program, label, wait, pending))
        try:
            program.start()
        except AlreadyStarted:
            raise AlreadyStarted(label) from None
        except Disabled:
            raise
        except Failed:
            raise Failed(f"{label} is in an unknown process state") from None
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
        return self._stop(self.processes.program(namespec), namespec, wait)

    def _stop(self, program: Program, label: str, wait: bool) -> Deferred[bool]:
        """Stop ``program``; NotRunning (its machine's answer) unless it is starting,
        running or backing off."""
        try:
            program.stop()
        except NotRunning:
            raise NotRunning(label) from None
        if not wait or program.state in STOPPED_STATES:
            return succeed(True)
        log.info("waiting for {name} to stop", name=program.name, program=program.namespec)
        return self.when([program.namespec], lambda s: s.state in STOPPED_STATES).addCallback(
            lambda _: True
        )

    def start_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process of a group."""
        group = self.processes.group(name)
        return self._each(
            [p for p in group.ordered() if p.state not in RUNNING_STATES and not p.disabled],
            lambda p: self._start(p, p.namespec, wait),
        )

    def start_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process, group by group."""
        return self._each(
            [
                p
                for p in self.processes.all_programs()
                if p.state not in RUNNING_STATES and not p.disabled
            ],
            lambda p: self._start(p, p.namespec, wait),
        )

    def stop_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process of a group (in start order, as supervisord does)."""
        group = self.processes.group(name)
        return self._each(
            [p for p in group.ordered() if p.state in RUNNING_STATES],
            lambda p: self._stop(p, p.namespec, wait),
        )

    def stop_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process (in start order, as supervisord's API does)."""
        return self._each(
            [p for p in self.processes.all_programs() if p.state in RUNNING_STATES],
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
