"""STOPPING's data: the stop signal sent, the SIGKILL deadline, the tree waited for.

supervisord's stop (SUPERVISOR.md §3.5): ``stopsignal`` (to the process group with
``stopasgroup``), SIGKILL after ``stopwaitsecs`` (the group with ``killasgroup``). Beyond
it, the program's whole tree goes (ITreeKiller): what is left when the main process has
exited gets the stop signal, and SIGKILL at the same deadline; STOPPED only once none is
left.
"""

from __future__ import annotations

import signal

from attrs import define
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.process.inputs import MachineCore, ProcessInputs, cancel_call
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")


@define(eq=False)
class StopAttempt:
    """One stop: its SIGKILL deadline and its wait for the tree; cancelled on leaving.

    :ivar restart: start again once stopped (a failed health check or watchdog).
    """

    machine: ProcessInputs
    core: MachineCore
    restart: bool = False
    deadline: IDelayedCall | None = None
    waiting: Deferred[None] | None = None

    def begin(self) -> None:
        """Enter STOPPING: note the tree, send the stop signal, arm the deadline."""
        s, c = self.core, self.machine
        run = s.run
        s.enter(ProcessState.STOPPING, pid=run.pid if run is not None else 0)
        if run is None:
            # Between a pidfile launcher's exit and its daemon's adoption: nothing runs.
            c.exited(0)
            return
        s.tree.remember(run.pid)
        self.deadline = s.host.clock.callLater(s.config.stopwaitsecs, c.stop_timeout)
        if run.exit_status is not None:
            # Already reaped (a watched process whose successor was being looked for).
            c.child_exited(run.exit_status)
            return
        s.signal_child(c, s.config.stopsignal, s.config.stopasgroup)

    def child_exited(self, status: int) -> None:
        """The main process ended: what is left of its tree gets the stop signal too."""
        s, c = self.core, self.machine
        pid = s.run.pid if s.run is not None else 0
        s.tree.signal_rest(pid, s.config.stopsignal)
        self.waiting = s.tree.when_empty(pid)
        self.waiting.addCallback(lambda _: c.exited(status))
        self.waiting.addErrback(lambda failure: failure.trap(CancelledError))

    def escalate(self) -> None:
        """``stopwaitsecs`` passed: SIGKILL the process and everything left of its tree."""
        s, c = self.core, self.machine
        self.deadline = None
        pid = s.run.pid if s.run is not None else 0
        log.warn("killing {name!r} ({pid}) with SIGKILL", name=s.name, pid=pid, program=s.namespec)
        s.signal_child(c, signal.SIGKILL, s.config.killasgroup)
        s.tree.signal_rest(pid, signal.SIGKILL)

    def cancel(self) -> None:
        """Leaving STOPPING: cancel the deadline and the tree wait."""
        cancel_call(self.deadline)
        self.deadline = None
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            waiting.cancel()


def stopping(c: ProcessInputs, s: MachineCore, restart: bool = False) -> StopAttempt:
    """STOPPING's factory: a new stop, begun at once."""
    stop = StopAttempt(c, s, restart)
    stop.begin()
    return stop
