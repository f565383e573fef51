"""RUNNING's data: what watches a running process until it leaves RUNNING.

Health checks (``healthcheck``, every ``healthcheck_interval``), the sd_notify watchdog
(``watchdog_sec``), and, for a ``watch =`` program whose process ended, the search for
its successor (a deploy restarts it itself) for at most ``absent_grace`` seconds.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from attrs import define
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.events.types import HealthFailed, HealthRecovered, ProcessAdopted, WatchdogExpired
from supervise.process.inputs import MachineCore, ProcessInputs, cancel_call
from supervise.states import ProcessState

log = Logger(namespace="supervise.process.program")

#: Seconds between two scans of the process table for a ``watch = match`` successor.
SCAN_INTERVAL = 0.25


@define(eq=False)
class RunningWatch:
    """Health checks, the watchdog and a successor search; all cancelled on leaving."""

    machine: ProcessInputs
    core: MachineCore
    next_check: IDelayedCall | None = None
    checking: Deferred[bool] | None = None
    watchdog: IDelayedCall | None = None
    waiting: Deferred[None] | None = None
    search: SuccessorSearch | None = None

    def begin(self, restored: bool) -> None:
        """Enter RUNNING; start the watchdog and the health checks."""
        s = self.core
        run = s.run
        pid = run.pid if run is not None else 0
        if restored:
            log.info(
                "adopted: {name!r} with pid {pid}, running since {since}",
                name=s.name,
                pid=pid,
                since=int(s.start_time),
                program=s.namespec,
            )
        else:
            s.tries = 0
            ready = s.config.extras.ready
            if ready is not None:
                log.info(
                    "success: {name} entered RUNNING state, it is ready ({ready})",
                    name=s.name,
                    ready=ready,
                    program=s.namespec,
                )
            else:
                log.info(
                    "success: {name} entered RUNNING state, process has stayed up for > than "
                    "{startsecs} seconds (startsecs)",
                    name=s.name,
                    startsecs=s.config.startsecs,
                    program=s.namespec,
                )
        s.enter(ProcessState.RUNNING, pid=pid)
        self._start_monitors()

    def _start_monitors(self) -> None:
        s = self.core
        if s.config.extras.watchdog_sec is not None and s.run is not None and s.run.notify:
            self.watchdog_ping()
        if s.health is not None:
            self.next_check = s.host.clock.callLater(
                s.config.extras.healthcheck_interval, self._check
            )

    # -- watchdog ---------------------------------------------------------------------------

    def watchdog_ping(self) -> None:
        """WATCHDOG=1: the program is alive; push the deadline back."""
        seconds = self.core.config.extras.watchdog_sec
        if seconds is None:
            return
        cancel_call(self.watchdog)
        self.watchdog = self.core.host.clock.callLater(seconds, self._watchdog_expired, seconds)

    def _watchdog_expired(self, seconds: float) -> None:
        self.watchdog = None
        s = self.core
        log.warn(
            "watchdog: {name} sent no WATCHDOG=1 for {s}s",
            name=s.name,
            s=seconds,
            program=s.namespec,
        )
        s.host.bus.publish(WatchdogExpired(s.group, s.name, seconds))
        self._restart_unhealthy()

    # -- health checks -----------------------------------------------------------------------

    def _check(self) -> None:
        s = self.core
        assert s.health is not None
        self.next_check = None
        env = dict(s.host.context.environ)
        checking = s.health.check(env, s.config.extras.healthcheck_timeout)
        self.checking = checking
        checking.addCallback(self._judged, checking)

    def _judged(self, healthy: bool, checking: Deferred[bool]) -> None:
        if self.checking is not checking:
            return  # cancelled: the state was left
        s = self.core
        assert s.health is not None
        self.checking = None
        extras = s.config.extras
        check = s.health.description
        if healthy is True:
            if s.health_failures:
                s.host.bus.publish(HealthRecovered(s.group, s.name, check))
                log.info("healthy again: {name}", name=s.name, program=s.namespec)
            s.health_failures = 0
        else:
            s.health_failures += 1
            log.warn(
                "health check failed: {name} ({check}), {n} of {retries}",
                name=s.name,
                check=check,
                n=s.health_failures,
                retries=extras.healthcheck_retries,
                program=s.namespec,
            )
            if s.health_failures >= extras.healthcheck_retries:
                s.host.bus.publish(HealthFailed(s.group, s.name, check, s.health_failures))
                s.health_failures = 0
                self._restart_unhealthy()
                return
        self.next_check = s.host.clock.callLater(extras.healthcheck_interval, self._check)

    def _restart_unhealthy(self) -> None:
        s = self.core
        log.warn("unhealthy: {name} is restarted", name=s.name, program=s.namespec)
        self.machine.stop(restart=True)

    # -- the end of the process -----------------------------------------------------------------

    def child_exited(self, status: int) -> None:
        """The process ended: a watched program looks for its successor first."""
        s, c = self.core, self.machine
        self._cancel_monitors()
        if s.config.extras.watch is not None:
            self.search = SuccessorSearch.start(self, status)
            return
        pid = s.run.pid if s.run is not None else 0
        s.tree.signal_rest(pid, signal.SIGKILL)
        self.waiting = s.tree.when_empty(pid)
        self.waiting.addCallback(lambda _: c.exited(status))
        self.waiting.addErrback(lambda failure: failure.trap(CancelledError))

    def successor_found(self, pid: int) -> None:
        """A watched program's process was replaced by ``pid``: take it over."""
        s = self.core
        self.search = None
        old = s.run.pid if s.run is not None else 0
        run = s.adopt(pid, external=True)
        log.info(
            "adopted: {name!r} with pid {pid}, started outside supervise",
            name=s.name,
            pid=run.pid,
            program=s.namespec,
        )
        s.host.bus.publish(ProcessAdopted(s.group, s.name, old, run.pid))
        self._start_monitors()

    def successor_absent(self, status: int) -> None:
        """No successor within ``absent_grace``: the exit counts."""
        s = self.core
        self.search = None
        log.info(
            "no successor of {name} (pid {pid}) within {grace:g}s",
            name=s.name,
            pid=s.run.pid if s.run is not None else 0,
            grace=s.config.extras.absent_grace,
            program=s.namespec,
        )
        self.machine.exited(status)

    def _cancel_monitors(self) -> None:
        cancel_call(self.next_check)
        cancel_call(self.watchdog)
        self.next_check = self.watchdog = None
        if self.checking is not None:
            checking, self.checking = self.checking, None
            checking.cancel()

    def cancel(self) -> None:
        """Leaving RUNNING: cancel checks, watchdog, successor search and tree wait."""
        self._cancel_monitors()
        if self.search is not None:
            search, self.search = self.search, None
            search.stop()
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            waiting.cancel()


@define(eq=False)
class SuccessorSearch:
    """Looks for a watched program's next process until found or ``absent_grace`` passes:
    on each change of its pidfile (``watch = pidfile``), or by bounded scans (``match``)."""

    watch: RunningWatch
    status: int
    deadline: IDelayedCall | None = None
    scan: IDelayedCall | None = None
    stop_watching: Callable[[], None] | None = None

    @classmethod
    def start(cls, watch: RunningWatch, status: int) -> SuccessorSearch:
        """Look now, then until found or the grace ends."""
        s = watch.core
        extras = s.config.extras
        search = cls(watch, status)
        search.deadline = s.host.clock.callLater(extras.absent_grace, search._give_up)
        if extras.watch == "pidfile" and extras.pidfile is not None:
            search.stop_watching = s.host.files.watch(extras.pidfile, search._look)
        search.scan = s.host.clock.callLater(0, search._rescan)
        return search

    def _look(self) -> None:
        if self.deadline is None:
            return
        s = self.watch.core
        pid = s.find_watched()
        if pid is not None:
            self.stop()
            try:
                self.watch.successor_found(pid)
                return
            except ProcessLookupError:
                self.watch.search = SuccessorSearch.start(self.watch, self.status)
                return
        if self.stop_watching is None:
            self.scan = s.host.clock.callLater(SCAN_INTERVAL, self._rescan)

    def _rescan(self) -> None:
        self.scan = None
        self._look()

    def _give_up(self) -> None:
        self.deadline = None
        self.stop()
        self.watch.successor_absent(self.status)

    def stop(self) -> None:
        """Stop searching (no callback)."""
        cancel_call(self.deadline)
        cancel_call(self.scan)
        self.deadline = self.scan = None
        if self.stop_watching is not None:
            stop, self.stop_watching = self.stop_watching, None
            stop()


def running(c: ProcessInputs, s: MachineCore, restored: bool = False) -> RunningWatch:
    """RUNNING's factory: record the state and start watching."""
    watch = RunningWatch(c, s)
    watch.begin(restored)
    return watch


__all__ = ["SCAN_INTERVAL", "RunningWatch", "SuccessorSearch", "running"]
