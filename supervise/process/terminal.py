"""Entering EXITED and STOPPED: the exit is recorded and the autorestart policy applied."""

from __future__ import annotations

from twisted.logger import Logger

from supervise.config.values import AutoRestart
from supervise.process.ended import shell_status
from supervise.process.inputs import MachineCore, ProcessInputs
from supervise.process.status import decode_wait_status
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")


def enter_exited(c: ProcessInputs, s: MachineCore, status: int) -> None:
    """Enter EXITED; restart per ``autorestart`` while the daemon is running."""
    pid = s.run.pid if s.run is not None else 0
    code, why = decode_wait_status(status)
    expected = code in s.config.exitcodes
    s.exitstatus, s.exit_text = code, why
    s.tries = 0
    s.reaped()
    if expected:
        log.info("exited: {name} ({why}; expected)", name=s.name, why=why, program=s.namespec)
    else:
        s.spawnerr = f"Bad exit code {code}"
        log.warn("exited: {name} ({why}; not expected)", name=s.name, why=why, program=s.namespec)
    s.enter(ProcessState.EXITED, pid=pid, expected=expected)
    policy = s.config.autorestart
    restart = policy is AutoRestart.ALWAYS or (policy is AutoRestart.UNEXPECTED and not expected)
    if restart:
        if s.may_restart():
            c.restart_after_exit()
    else:
        s.ended(ProcessState.EXITED, shell_status(status), expected, why)


def enter_stopped(s: MachineCore, status: int) -> None:
    """Enter STOPPED after a requested stop."""
    pid = s.run.pid if s.run is not None else 0
    code, why = decode_wait_status(status)
    s.exitstatus, s.exit_text = code, why
    s.tries = 0
    s.reaped()
    if code in s.config.exitcodes:
        log.info("stopped: {name} ({why})", name=s.name, why=why, program=s.namespec)
    else:
        log.warn("stopped: {name} ({why})", name=s.name, why=why, program=s.namespec)
    s.enter(ProcessState.STOPPED, pid=pid)
