"""A Program across the daemon's own restarts: what the state file records of it, and
taking over what a previous daemon left (a re-exec's hand-off, or a SIGKILL's survivors).

Every state comes back as it was: RUNNING with its pid and times (adopted, with its pipes
when they came along), BACKOFF with its retry count, FATAL and EXITED with their spawn
error and status, STOPPED. A process that ended while no daemon watched it is EXITED and
started again by its policy.
"""

from __future__ import annotations

from typing import Protocol

from twisted.logger import Logger

from supervise.config.model import ProcessConfig
from supervise.config.values import AutoRestart
from supervise.process.host import ProcessHost
from supervise.process.inputs import ChildRun, ProcessInputs
from supervise.process.output import ProgramOutput
from supervise.process.saved import SavedProcess
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")

#: States a previous daemon may have left a live process in.
LIVE_STATES = frozenset({"RUNNING", "STARTING", "STOPPING", "UNKNOWN"})


class Restorable(Protocol):
    """What restoring needs of a Program."""

    config: ProcessConfig
    host: ProcessHost
    machine: ProcessInputs
    logs: ProgramOutput
    state: ProcessState
    run: ChildRun | None
    spawns: int
    tries: int
    exitstatus: int
    spawnerr: str
    start_time: float
    stop_time: float

    @property
    def namespec(self) -> str:
        """``group:name``."""

    def owns(self, pid: int) -> bool:
        """True if ``pid`` is some program's child already."""

    def may_restart(self) -> bool:
        """True while automatic starts are allowed."""

    def adopt(self, pid: int, external: bool, fds: dict[str, int] | None = None) -> ChildRun:
        """Watch ``pid`` as the program's process."""


def restore(program: Restorable, saved: SavedProcess, handed_over: bool) -> bool:
    """Take over what a previous daemon left: its live process, else its state.

    Returns True when a running process was adopted. With ``handed_over`` (a re-exec)
    its pipes come along and it is still our child, so an exit during the hand-off is
    reaped and applied now.
    """
    program.logs.reuse(saved.stdout, saved.stderr)
    program.spawns = saved.spawns
    program.exitstatus = saved.exitstatus
    program.stop_time = saved.stop_time
    program.start_time = saved.start_time
    program.spawnerr = saved.spawnerr
    machine = program.machine
    if saved.state in LIVE_STATES and saved.pid > 0 and not program.owns(saved.pid):
        if handed_over or saved.same_process(program.host.table.start_ticks(saved.pid)):
            try:
                program.logs.open()
            except OSError:
                pass  # its log cannot be written: it runs on, its output is lost
            try:
                program.adopt(saved.pid, external=False, fds=saved.fds)
            except OSError:
                pass
            else:
                machine.adopted(True)
                return True
        _died_unwatched(program, saved)
        return False
    if saved.state == "EXITED":
        machine.restore_exited()
    elif saved.state == "FATAL":
        machine.restore_fatal()
    elif saved.state == "BACKOFF":
        program.tries = max(0, saved.tries - 1)
        machine.restore_backoff(saved.spawnerr, None)
    return False


def _died_unwatched(program: Restorable, saved: SavedProcess) -> None:
    """The process ended while no daemon watched it: EXITED, exit status unknown, then
    its policy (or autostart) starts it again."""
    log.warn(
        "{name} (pid {pid}) ended while no daemon was watching it",
        name=program.namespec,
        pid=saved.pid,
        program=program.namespec,
    )
    program.exitstatus = -1
    program.stop_time = program.host.wall_clock()
    program.machine.restore_exited()
    config = program.config
    if (config.autorestart is not AutoRestart.NEVER or config.autostart) and program.may_restart():
        program.machine.restart_after_exit()


def record(program: Restorable, ticks: int | None, with_fds: bool) -> SavedProcess:
    """The program for the state file: ``ticks`` its pid's start time; ``with_fds`` its
    pipes too (a re-exec passes them on)."""
    fds = None
    run = program.run
    if with_fds and run is not None:
        handoff = getattr(run.child, "handoff_fds", None)
        fds = handoff() if handoff is not None else None
    return SavedProcess(
        namespec=program.namespec,
        state=program.state.name,
        pid=run.pid if run is not None else 0,
        ticks=ticks,
        start_time=program.start_time,
        stop_time=program.stop_time,
        spawns=program.spawns,
        exitstatus=program.exitstatus,
        stdout=program.logs.stdout.path,
        stderr=program.logs.stderr.path,
        fds=fds,
        tries=program.tries,
        spawnerr=program.spawnerr,
    )
