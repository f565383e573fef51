"""The process state machine: supervisord's lifecycle (SUPERVISOR.md §3) on Automat.

Built the way Twisted's ``application/_client_service.py`` is: a state that owns
something carries it as its data, made by the state's factory on entry
(``StartAttempt``, ``RunningWatch``, ``Retry``, ``StopAttempt``), and every transition
out of it cancels exactly that data's timers and checks. The machine is the only
authority on state: an input a state does not take is a declared transition that
raises supervisord's error or ignores it, never a guard in a caller. No OS calls
here: the outputs use the core (``Program``) and its collaborators.
"""

from __future__ import annotations

from automat import TypeMachineBuilder, pep614
from twisted.logger import Logger

from supervise.errors import AlreadyStarted, Failed, NotRunning, ProcessGone
from supervise.process.backoff import Retry, backing_off
from supervise.process.ended import fatal_status
from supervise.process.inputs import MachineCore, ProcessInputs
from supervise.process.running import RunningWatch, running
from supervise.process.starting import StartAttempt, starting
from supervise.process.stopping import StopAttempt, stopping
from supervise.process.terminal import enter_exited, enter_stopped
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")

builder = TypeMachineBuilder(ProcessInputs, MachineCore)  # type: ignore[type-abstract]
Stopped = builder.state("STOPPED")
Starting = builder.state("STARTING", starting)
Running = builder.state("RUNNING", running)
Backoff = builder.state("BACKOFF", backing_off)
Stopping = builder.state("STOPPING", stopping)
Exited = builder.state("EXITED")
Fatal = builder.state("FATAL")
Unknown = builder.state("UNKNOWN")

# -- starting -------------------------------------------------------------------------


@pep614(Stopped.upon(ProcessInputs.start).to(Starting))  # type: ignore[arg-type]  # one output for states with different data
@pep614(Exited.upon(ProcessInputs.start).to(Starting))  # type: ignore[arg-type]  # one output for states with different data
@pep614(Fatal.upon(ProcessInputs.start).to(Starting))  # type: ignore[arg-type]  # one output for states with different data
@pep614(Exited.upon(ProcessInputs.restart_after_exit).to(Starting))
def start(c: ProcessInputs, s: MachineCore) -> None:
    """STARTING's factory spawned the child."""


@pep614(Backoff.upon(ProcessInputs.backoff_elapsed).to(Starting))
def retry(c: ProcessInputs, s: MachineCore, retry: Retry) -> None:
    retry.cancel()


@pep614(Starting.upon(ProcessInputs.start).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Running.upon(ProcessInputs.start).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Backoff.upon(ProcessInputs.start).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Stopping.upon(ProcessInputs.start).loop())
def already_started(c: ProcessInputs, s: MachineCore, data: object) -> None:
    raise AlreadyStarted(s.namespec)


@pep614(Unknown.upon(ProcessInputs.start).loop())
def start_unknown(c: ProcessInputs, s: MachineCore) -> None:
    raise Failed(f"{s.namespec} is in an unknown process state")


@pep614(Starting.upon(ProcessInputs.started).to(Running))
def became_running(
    c: ProcessInputs, s: MachineCore, attempt: StartAttempt, restored: bool = False
) -> None:
    attempt.cancel()


@pep614(Starting.upon(ProcessInputs.not_ready).loop())
def not_ready(c: ProcessInputs, s: MachineCore, attempt: StartAttempt, why: str) -> None:
    attempt.abandon(why)


@pep614(Starting.upon(ProcessInputs.child_exited).loop())
def exited_while_starting(
    c: ProcessInputs, s: MachineCore, attempt: StartAttempt, status: int
) -> None:
    attempt.child_exited(status)


@pep614(Starting.upon(ProcessInputs.start_failed).to(Backoff))
def start_failed(
    c: ProcessInputs, s: MachineCore, attempt: StartAttempt, spawnerr: str, status: int | None
) -> None:
    attempt.cancel()


@pep614(Stopped.upon(ProcessInputs.restore_backoff).to(Backoff))
def restored_backoff(c: ProcessInputs, s: MachineCore, spawnerr: str, status: int | None) -> None:
    """BACKOFF's factory planned the retry."""


@pep614(Backoff.upon(ProcessInputs.give_up).to(Fatal))
def gave_up(c: ProcessInputs, s: MachineCore, retry: Retry) -> None:
    retry.cancel()
    s.tries = 0
    log.info(
        "gave up: {name} entered FATAL state, too many start retries too quickly",
        name=s.name,
        program=s.namespec,
    )
    s.enter(ProcessState.FATAL)
    why = f"entered FATAL: {s.spawnerr}" if s.spawnerr else "entered FATAL"
    s.ended(ProcessState.FATAL, fatal_status(retry.status), False, why)


# -- running ----------------------------------------------------------------------------


@pep614(Stopped.upon(ProcessInputs.adopted).to(Running))
def adopted(c: ProcessInputs, s: MachineCore, restored: bool = False) -> None:
    """RUNNING's factory took the process over."""


@pep614(Running.upon(ProcessInputs.started).loop())
def ready_again(
    c: ProcessInputs, s: MachineCore, watch: RunningWatch, restored: bool = False
) -> None:
    """A second READY=1 changes nothing."""


@pep614(Running.upon(ProcessInputs.watchdog_ping).loop())
def watchdog_ping(c: ProcessInputs, s: MachineCore, watch: RunningWatch) -> None:
    watch.watchdog_ping()


@pep614(Starting.upon(ProcessInputs.watchdog_ping).loop())
def early_ping(c: ProcessInputs, s: MachineCore, attempt: StartAttempt) -> None:
    """The watchdog runs from RUNNING on."""


@pep614(Running.upon(ProcessInputs.child_exited).loop())
def exited_while_running(
    c: ProcessInputs, s: MachineCore, watch: RunningWatch, status: int
) -> None:
    watch.child_exited(status)


@pep614(Running.upon(ProcessInputs.exited).to(Exited))
def exited(c: ProcessInputs, s: MachineCore, watch: RunningWatch, status: int) -> None:
    watch.cancel()
    enter_exited(c, s, status)


@pep614(Unknown.upon(ProcessInputs.exited).to(Exited))
def exited_unknown(c: ProcessInputs, s: MachineCore, status: int) -> None:
    enter_exited(c, s, status)


@pep614(Unknown.upon(ProcessInputs.child_exited).loop())
def reaped_unknown(c: ProcessInputs, s: MachineCore, status: int) -> None:
    s.tree.when_empty(s.run.pid if s.run else 0).addCallback(lambda _: c.exited(status))


@pep614(Stopped.upon(ProcessInputs.restore_exited).to(Exited))
def restored_exited(c: ProcessInputs, s: MachineCore) -> None:
    """EXITED as the previous daemon left it (no event: nothing happened)."""
    s.recall(ProcessState.EXITED)


@pep614(Stopped.upon(ProcessInputs.restore_fatal).to(Fatal))
def restored_fatal(c: ProcessInputs, s: MachineCore) -> None:
    """FATAL as the previous daemon left it (no event: nothing happened)."""
    s.recall(ProcessState.FATAL)


# -- stopping ----------------------------------------------------------------------------


@pep614(Starting.upon(ProcessInputs.stop).to(Stopping))
def stop_starting(
    c: ProcessInputs, s: MachineCore, attempt: StartAttempt, restart: bool = False
) -> None:
    attempt.cancel()


@pep614(Running.upon(ProcessInputs.stop).to(Stopping))
def stop_running(
    c: ProcessInputs, s: MachineCore, watch: RunningWatch, restart: bool = False
) -> None:
    watch.cancel()


@pep614(Backoff.upon(ProcessInputs.stop).to(Stopped))
def stop_backoff(c: ProcessInputs, s: MachineCore, retry: Retry, restart: bool = False) -> None:
    retry.cancel()
    s.tries = 0
    s.enter(ProcessState.STOPPED, pid=0)


@pep614(Stopped.upon(ProcessInputs.stop).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Exited.upon(ProcessInputs.stop).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Fatal.upon(ProcessInputs.stop).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Unknown.upon(ProcessInputs.stop).loop())
def not_running(c: ProcessInputs, s: MachineCore, restart: bool = False) -> None:
    raise NotRunning(s.namespec)


@pep614(Stopping.upon(ProcessInputs.stop).loop())
def stopping_already(
    c: ProcessInputs, s: MachineCore, stop: StopAttempt, restart: bool = False
) -> None:
    raise NotRunning(s.namespec)


@pep614(Stopping.upon(ProcessInputs.stop_timeout).loop())
def escalate(c: ProcessInputs, s: MachineCore, stop: StopAttempt) -> None:
    stop.escalate()


@pep614(Stopping.upon(ProcessInputs.child_exited).loop())
def exited_while_stopping(c: ProcessInputs, s: MachineCore, stop: StopAttempt, status: int) -> None:
    stop.child_exited(status)


@pep614(Stopping.upon(ProcessInputs.exited).to(Stopped))
def stopped(c: ProcessInputs, s: MachineCore, stop: StopAttempt, status: int) -> None:
    stop.cancel()
    enter_stopped(s, status)
    if stop.restart and s.may_restart():
        c.start()


@pep614(Starting.upon(ProcessInputs.kill_failed).to(Unknown))  # type: ignore[arg-type]  # one output for states with different data
@pep614(Running.upon(ProcessInputs.kill_failed).to(Unknown))  # type: ignore[arg-type]  # one output for states with different data
@pep614(Stopping.upon(ProcessInputs.kill_failed).to(Unknown))
def kill_failed(
    c: ProcessInputs, s: MachineCore, data: StartAttempt | RunningWatch | StopAttempt
) -> None:
    data.cancel()
    s.enter(ProcessState.UNKNOWN)


# -- signals and stdin ----------------------------------------------------------------------


@pep614(Starting.upon(ProcessInputs.send_signal).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Running.upon(ProcessInputs.send_signal).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Stopping.upon(ProcessInputs.send_signal).loop())
def send_signal(c: ProcessInputs, s: MachineCore, data: object, sig: int) -> None:
    if s.run is None:
        raise NotRunning(s.namespec)
    try:
        s.run.child.signal(sig)
    except ProcessGone:
        pass


@pep614(Stopped.upon(ProcessInputs.send_signal).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Exited.upon(ProcessInputs.send_signal).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Fatal.upon(ProcessInputs.send_signal).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Unknown.upon(ProcessInputs.send_signal).loop())
def cannot_signal(c: ProcessInputs, s: MachineCore, sig: int) -> None:
    raise NotRunning(s.namespec)


@pep614(Backoff.upon(ProcessInputs.send_signal).loop())
def cannot_signal_backoff(c: ProcessInputs, s: MachineCore, retry: Retry, sig: int) -> None:
    raise NotRunning(s.namespec)


@pep614(Starting.upon(ProcessInputs.write_stdin).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Running.upon(ProcessInputs.write_stdin).loop())
def write_stdin(c: ProcessInputs, s: MachineCore, data: object, chunk: bytes) -> None:
    if s.run is None:
        raise NotRunning(s.namespec)
    s.run.child.write_stdin(chunk)


@pep614(Stopped.upon(ProcessInputs.write_stdin).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Exited.upon(ProcessInputs.write_stdin).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Fatal.upon(ProcessInputs.write_stdin).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Unknown.upon(ProcessInputs.write_stdin).loop())
def cannot_write(c: ProcessInputs, s: MachineCore, chunk: bytes) -> None:
    raise NotRunning(s.namespec)


@pep614(Backoff.upon(ProcessInputs.write_stdin).loop())  # type: ignore[arg-type]  # one output for states with different data
@pep614(Stopping.upon(ProcessInputs.write_stdin).loop())
def cannot_write_now(c: ProcessInputs, s: MachineCore, data: object, chunk: bytes) -> None:
    raise NotRunning(s.namespec)


# -- inputs a state ignores ----------------------------------------------------------------

for _state in (Stopped, Exited, Fatal, Unknown):
    _state.upon(ProcessInputs.watchdog_ping).loop().returns(None)
    _state.upon(ProcessInputs.give_up).loop().returns(None)
for _data_state in (Starting, Running, Stopping):
    _data_state.upon(ProcessInputs.give_up, nodata=True).loop().returns(None)
Stopping.upon(ProcessInputs.watchdog_ping, nodata=True).loop().returns(None)
Backoff.upon(ProcessInputs.watchdog_ping, nodata=True).loop().returns(None)
Stopping.upon(ProcessInputs.started, nodata=True).loop().returns(None)
for _state in (Stopped, Exited, Fatal):
    # A late exit of a process already given up on (never expected; never fatal).
    _state.upon(ProcessInputs.child_exited).loop().returns(None)
Backoff.upon(ProcessInputs.child_exited, nodata=True).loop().returns(None)

ProcessMachine = builder.build()
