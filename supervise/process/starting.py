"""STARTING's data: the child being started and the one gate it must pass to be RUNNING.

The gate is ``startsecs`` (supervisord's), a readiness probe retried until
``ready_timeout``, sd_notify's ``READY=1``, or, for a ``pidfile =`` program, the pid its
pidfile names: a daemon found after its launcher exited 0, or the launcher itself when
it stays in the foreground and writes its own pid.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from attrs import define
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.events.types import ProcessAdopted
from supervise.process.inputs import ChildRun, MachineCore, ProcessInputs, cancel_call
from supervise.process.status import TOO_QUICK
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")


@define(eq=False)
class StartAttempt:
    """One start: its deadline, its probe, its pidfile watch; all cancelled on leaving.

    :ivar launcher: the pid of a ``pidfile`` program's launcher while it runs.
    :ivar failure: why the start is being abandoned (a readiness check gave up).
    """

    machine: ProcessInputs
    core: MachineCore
    deadline: IDelayedCall | None = None
    next_probe: IDelayedCall | None = None
    probing: Deferred[bool] | None = None
    waiting: Deferred[None] | None = None
    stop_watching: Callable[[], None] | None = None
    launcher: int = 0
    failure: str = ""

    def begin(self) -> None:
        """Enter STARTING: find a watched process, or spawn, then arm the gate."""
        s, c = self.core, self.machine
        s.start_time = s.host.wall_clock()
        s.spawns += 1
        s.spawnerr = ""
        s.enter(ProcessState.STARTING, tries=s.tries)
        extras = s.config.extras
        if extras.watch is not None and self._found_running():
            s.spawns -= 1  # nothing was spawned: it was found running
            c.started()
            return
        run = s.spawn(c)
        if run is None:
            return
        if extras.pidfile is not None:
            self._await_pidfile(run)
        elif extras.ready == "notify":
            timeout = extras.ready_timeout
            self.deadline = s.host.clock.callLater(
                timeout, c.not_ready, f"no READY=1 within {timeout:g}s"
            )
        elif s.readiness is not None:
            self._probe_until_ready(run)
        else:
            self._arm_startsecs()

    def _found_running(self) -> bool:
        s = self.core
        pid = s.find_watched()
        if pid is None:
            return False
        try:
            run = s.adopt(pid, external=True)
        except ProcessLookupError:
            return False
        log.info(
            "adopted: {name!r} with pid {pid}, started outside supervise",
            name=s.name,
            pid=run.pid,
            program=s.namespec,
        )
        s.host.bus.publish(ProcessAdopted(s.group, s.name, 0, run.pid))
        return True

    def _arm_startsecs(self) -> None:
        """RUNNING now with startsecs=0, else when startsecs have passed."""
        s, c = self.core, self.machine
        if s.config.startsecs <= 0:
            c.started()
        else:
            self.deadline = s.host.clock.callLater(s.config.startsecs, c.started)

    # -- readiness probes ---------------------------------------------------------------

    def _probe_until_ready(self, run: ChildRun) -> None:
        s = self.core
        assert s.readiness is not None
        timeout = s.config.extras.ready_timeout
        why = f"not ready after {timeout:g}s ({s.readiness.description})"
        self.deadline = s.host.clock.callLater(timeout, self._not_ready, why)
        self._probe(run)

    def _probe(self, run: ChildRun) -> None:
        s = self.core
        assert s.readiness is not None and self.deadline is not None
        self.next_probe = None
        extras = s.config.extras
        remaining = self.deadline.getTime() - s.host.clock.seconds()
        probing = s.readiness.check(
            run.env, max(0.0, min(remaining, max(extras.ready_interval, 1.0)))
        )
        self.probing = probing

        def judged(ready: bool) -> None:
            if self.probing is not probing:
                return  # cancelled: the state was left
            self.probing = None
            if ready is True:
                self.machine.started()
            else:
                self.next_probe = s.host.clock.callLater(extras.ready_interval, self._probe, run)

        probing.addCallback(judged)

    def _not_ready(self, why: str) -> None:
        self.deadline = None
        self._cancel_probe()
        self.machine.not_ready(why)

    def _cancel_probe(self) -> None:
        cancel_call(self.next_probe)
        self.next_probe = None
        if self.probing is not None:
            probing, self.probing = self.probing, None
            probing.cancel()

    # -- pidfile programs -----------------------------------------------------------------

    def _await_pidfile(self, run: ChildRun) -> None:
        """Watch the pidfile while the launcher runs (startsecs counts from adoption)."""
        s = self.core
        self.launcher = run.pid
        pidfile = s.config.extras.pidfile
        assert pidfile is not None
        self.stop_watching = s.host.files.watch(pidfile, self._pidfile_changed)
        self._pidfile_changed()

    def _pidfile_changed(self) -> None:
        s = self.core
        pidfile = s.config.extras.pidfile
        assert pidfile is not None
        pid = s.host.table.pidfile_pid(pidfile, s.start_time)
        if pid is None:
            return
        if self.launcher and pid == self.launcher:
            # The command stays in the foreground and wrote its own pid.
            self.launcher = 0
            self._found_daemon(pid, ", in the foreground")
            return
        if self.launcher or s.owns(pid):
            return  # the launcher is still at work, or that pid is someone else's child
        try:
            s.adopt(pid, external=False)
        except ProcessLookupError:
            return
        cancel_call(self.deadline)
        self.deadline = None
        self._found_daemon(pid, "")

    def _found_daemon(self, pid: int, how: str) -> None:
        """The pidfile named the program's process: startsecs count from now."""
        s = self.core
        self._stop_watching()
        log.info(
            "daemonized: {name!r} has pid {pid} (from {pidfile}){how}",
            name=s.name,
            pid=pid,
            pidfile=s.config.extras.pidfile,
            how=how,
            program=s.namespec,
        )
        self._arm_startsecs()

    def _launcher_done(self) -> None:
        """The launcher exited 0: its daemon must appear in the pidfile in time."""
        s = self.core
        self.launcher = 0
        s.run = None
        timeout = s.config.extras.ready_timeout
        message = f"pidfile {s.config.extras.pidfile} named no new live process within {timeout:g}s"
        self.deadline = s.host.clock.callLater(timeout, self._pidfile_missing, message)
        self._pidfile_changed()

    def _pidfile_missing(self, message: str) -> None:
        self.deadline = None
        self._stop_watching()
        self.machine.start_failed(message, None)

    def _stop_watching(self) -> None:
        if self.stop_watching is not None:
            stop, self.stop_watching = self.stop_watching, None
            stop()

    # -- inputs ---------------------------------------------------------------------------

    def child_exited(self, status: int) -> None:
        """The main process ended before the start succeeded (or its launcher did)."""
        s, c = self.core, self.machine
        if self.launcher and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            self._launcher_done()
            return
        self.launcher = 0
        self._cancel_timers()
        pid = s.run.pid if s.run is not None else 0
        s.tree.signal_rest(pid, signal.SIGKILL)
        self.waiting = s.tree.when_empty(pid)
        self.waiting.addCallback(lambda _: c.start_failed(self.failure or TOO_QUICK, status))
        self.waiting.addErrback(lambda failure: failure.trap(CancelledError))

    def abandon(self, why: str) -> None:
        """Stop a child that never became ready; SIGKILL after stopwaitsecs."""
        s, c = self.core, self.machine
        self._cancel_timers()
        self.failure = why
        s.spawnerr = why
        log.warn("not ready: {name} ({why}); stopping it", name=s.name, why=why, program=s.namespec)
        self.deadline = s.host.clock.callLater(s.config.stopwaitsecs, self._kill)
        s.signal_child(c, s.config.stopsignal, s.config.stopasgroup)

    def _kill(self) -> None:
        self.deadline = None
        s = self.core
        s.signal_child(self.machine, signal.SIGKILL, s.config.killasgroup)

    def _cancel_timers(self) -> None:
        cancel_call(self.deadline)
        self.deadline = None
        self._cancel_probe()
        self._stop_watching()

    def cancel(self) -> None:
        """Leaving STARTING: cancel its deadline, probe, pidfile watch and tree wait."""
        self._cancel_timers()
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            waiting.cancel()


def starting(c: ProcessInputs, s: MachineCore) -> StartAttempt:
    """STARTING's factory: a new attempt, begun at once."""
    attempt = StartAttempt(c, s)
    attempt.begin()
    return attempt
