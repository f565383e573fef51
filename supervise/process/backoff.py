"""BACKOFF's data: the one retry planned after a failed start (SUPERVISOR.md §3.3)."""

from __future__ import annotations

from attrs import define
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.process.inputs import MachineCore, ProcessInputs, cancel_call
from supervise.process.status import decode_wait_status
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")


@define(eq=False)
class Retry:
    """The planned retry (None when the start is given up) after a start that failed
    with ``status`` (a raw wait status; None for a spawn error)."""

    call: IDelayedCall | None
    status: int | None = None

    def cancel(self) -> None:
        """Leaving BACKOFF: forget the retry."""
        cancel_call(self.call)
        self.call = None


def backoff_delay(s: MachineCore) -> float:
    """Seconds before retry number ``s.tries``: supervisord's 1, 2, 3 … or exponential."""
    extras = s.config.extras
    if extras.backoff_initial is None:
        return float(s.tries)
    delay: float = extras.backoff_initial * 2.0 ** min(s.tries - 1, 60)
    return min(delay, extras.backoff_max) if extras.backoff_max is not None else delay


def backing_off(c: ProcessInputs, s: MachineCore, spawnerr: str, status: int | None) -> Retry:
    """Enter BACKOFF after a failed start; plan the retry, or give up (FATAL)."""
    if status is not None:
        _, why = decode_wait_status(status)
        s.exit_text = why
        log.warn("exited: {name} ({why}; not expected)", name=s.name, why=why, program=s.namespec)
        s.reaped()
    elif spawnerr:
        log.info("spawnerr: {message}", message=spawnerr, program=s.namespec)
    s.spawnerr = spawnerr
    s.tries += 1
    s.enter(ProcessState.BACKOFF, tries=s.tries)
    retries = s.config.startretries
    if retries != -1 and s.tries > retries:
        c.give_up()
        return Retry(None, status)
    return Retry(s.host.clock.callLater(backoff_delay(s), c.backoff_elapsed), status)


__all__ = ["Retry", "backing_off", "backoff_delay"]
