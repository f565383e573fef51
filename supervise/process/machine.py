"""The process state machine: supervisord's lifecycle (SUPERVISOR.md §3) on Automat.

States are supervisord's; every change of state goes through ``MachineCore.enter``,
which records it and publishes exactly one event. Timers (startsecs, backoff,
stopwaitsecs) are deadlines owned by a state: made on entering it, cancelled on leaving.
No OS calls here: outputs call the injected core.
"""

from __future__ import annotations

from typing import Protocol

from automat import TypeMachineBuilder, pep614

from supervise.errors import AlreadyStarted, Failed, NotRunning
from supervise.states import ProcessState


class ProcessInputs(Protocol):
    """Everything that can happen to a process; each is one machine input."""

    def start(self) -> None:
        """Someone asked the process to start."""

    def stop(self) -> None:
        """Someone asked the process to stop."""

    def spawn_failed(self) -> None:
        """The spawn failed before the child existed (spawnerr is set)."""

    def exited(self, status: int) -> None:
        """The child was reaped with this raw wait status."""

    def startsecs_elapsed(self) -> None:
        """The child stayed up for ``startsecs``."""

    def backoff_elapsed(self) -> None:
        """The BACKOFF delay passed; time to retry."""

    def give_up(self) -> None:
        """Stop retrying: too many retries, or a shutdown while backing off."""

    def stop_timeout(self) -> None:
        """``stopwaitsecs`` passed while STOPPING."""

    def restart_after_exit(self) -> None:
        """The autorestart policy asks for a new start after EXITED."""

    def kill_failed(self) -> None:
        """Signalling the child failed in an unexpected way."""

    def not_ready(self) -> None:
        """The readiness check gave up: the start failed though the child still runs."""

    def adopted(self) -> None:
        """A running process was taken over (re-exec, or a survivor of a dead daemon)."""


class MachineCore(Protocol):
    """What the machine's outputs need from the process that owns it."""

    @property
    def namespec(self) -> str:
        """The process's ``group:name``."""

    def enter(self, state: ProcessState, **fields: object) -> None:
        """Record ``state`` and publish its event with ``fields``."""

    def begin_start(self, machine: ProcessInputs, fresh: bool) -> None:
        """Enter STARTING and spawn; ``fresh`` resets the retry count."""

    def promote(self) -> None:
        """Enter RUNNING after a successful start."""

    def back_off(self, machine: ProcessInputs, status: int | None) -> None:
        """Enter BACKOFF (after an early exit or a spawn failure) and plan the retry."""

    def fatal(self) -> None:
        """Enter FATAL."""

    def exited_running(self, machine: ProcessInputs, status: int) -> None:
        """Enter EXITED and apply the autorestart policy."""

    def begin_stop(self, machine: ProcessInputs) -> None:
        """Enter STOPPING: send the stop signal and arm the SIGKILL deadline."""

    def stopped_backoff(self) -> None:
        """Enter STOPPED from BACKOFF: nothing to signal."""

    def stopped(self, status: int) -> None:
        """Enter STOPPED after the child of a stop request was reaped."""

    def escalate(self, machine: ProcessInputs) -> None:
        """Send SIGKILL after ``stopwaitsecs``."""

    def unknown(self) -> None:
        """Enter UNKNOWN after a signal could not be delivered."""

    def abandon_start(self, machine: ProcessInputs) -> None:
        """Stop a child that never became ready; its exit then means BACKOFF."""

    def resume(self) -> None:
        """Enter RUNNING with a child taken over, not spawned."""

    def cancel_timer(self) -> None:
        """Cancel the current state's deadline, if any."""


builder = TypeMachineBuilder(ProcessInputs, MachineCore)  # type: ignore[type-abstract]
Stopped = builder.state("STOPPED")
Starting = builder.state("STARTING")
Running = builder.state("RUNNING")
Backoff = builder.state("BACKOFF")
Stopping = builder.state("STOPPING")
Exited = builder.state("EXITED")
Fatal = builder.state("FATAL")
Unknown = builder.state("UNKNOWN")


@pep614(Stopped.upon(ProcessInputs.start).to(Starting))
@pep614(Exited.upon(ProcessInputs.start).to(Starting))
@pep614(Fatal.upon(ProcessInputs.start).to(Starting))
def start_fresh(c: ProcessInputs, s: MachineCore) -> None:
    s.begin_start(c, fresh=True)


@pep614(Exited.upon(ProcessInputs.restart_after_exit).to(Starting))
def auto_restart(c: ProcessInputs, s: MachineCore) -> None:
    s.begin_start(c, fresh=False)


@pep614(Backoff.upon(ProcessInputs.backoff_elapsed).to(Starting))
def retry(c: ProcessInputs, s: MachineCore) -> None:
    s.begin_start(c, fresh=False)


@pep614(Starting.upon(ProcessInputs.start).loop())
@pep614(Running.upon(ProcessInputs.start).loop())
@pep614(Backoff.upon(ProcessInputs.start).loop())
@pep614(Stopping.upon(ProcessInputs.start).loop())
def already_started(c: ProcessInputs, s: MachineCore) -> None:
    raise AlreadyStarted(s.namespec)


@pep614(Unknown.upon(ProcessInputs.start).loop())
def start_unknown(c: ProcessInputs, s: MachineCore) -> None:
    raise Failed(f"{s.namespec} is in an unknown process state")


@pep614(Stopped.upon(ProcessInputs.stop).loop())
@pep614(Exited.upon(ProcessInputs.stop).loop())
@pep614(Fatal.upon(ProcessInputs.stop).loop())
@pep614(Stopping.upon(ProcessInputs.stop).loop())
@pep614(Unknown.upon(ProcessInputs.stop).loop())
def not_running(c: ProcessInputs, s: MachineCore) -> None:
    raise NotRunning(s.namespec)


@pep614(Starting.upon(ProcessInputs.startsecs_elapsed).to(Running))
def became_running(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.promote()


@pep614(Starting.upon(ProcessInputs.spawn_failed).to(Backoff))
def spawn_failed(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.back_off(c, None)


@pep614(Starting.upon(ProcessInputs.exited).to(Backoff))
def exited_too_quickly(c: ProcessInputs, s: MachineCore, status: int) -> None:
    s.cancel_timer()
    s.back_off(c, status)


@pep614(Backoff.upon(ProcessInputs.give_up).to(Fatal))
def gave_up(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.fatal()


@pep614(Running.upon(ProcessInputs.exited).to(Exited))
@pep614(Unknown.upon(ProcessInputs.exited).to(Exited))
def exited_while_running(c: ProcessInputs, s: MachineCore, status: int) -> None:
    s.cancel_timer()
    s.exited_running(c, status)


@pep614(Starting.upon(ProcessInputs.stop).to(Stopping))
@pep614(Running.upon(ProcessInputs.stop).to(Stopping))
def stop_running(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.begin_stop(c)


@pep614(Backoff.upon(ProcessInputs.stop).to(Stopped))
def stop_backoff(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.stopped_backoff()


@pep614(Stopping.upon(ProcessInputs.exited).to(Stopped))
def stopped(c: ProcessInputs, s: MachineCore, status: int) -> None:
    s.cancel_timer()
    s.stopped(status)


@pep614(Stopping.upon(ProcessInputs.stop_timeout).loop())
def escalate(c: ProcessInputs, s: MachineCore) -> None:
    s.escalate(c)


@pep614(Starting.upon(ProcessInputs.kill_failed).to(Unknown))
@pep614(Running.upon(ProcessInputs.kill_failed).to(Unknown))
@pep614(Stopping.upon(ProcessInputs.kill_failed).to(Unknown))
def kill_failed(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.unknown()


@pep614(Starting.upon(ProcessInputs.not_ready).loop())
def not_ready(c: ProcessInputs, s: MachineCore) -> None:
    s.cancel_timer()
    s.abandon_start(c)


@pep614(Stopped.upon(ProcessInputs.adopted).to(Running))
def adopted(c: ProcessInputs, s: MachineCore) -> None:
    s.resume()


ProcessMachine = builder.build()
