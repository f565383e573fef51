"""Readiness, health checks and the sd_notify watchdog of a Program."""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any

from attrs import evolve
from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger

from supervise.events.types import HealthFailed, HealthRecovered, WatchdogExpired
from supervise.process.machine import ProcessInputs
from supervise.process.parts import ProgramParts
from supervise.process.readiness import NotifySocket, probe, wait_ready
from supervise.process.spawner import SpawnSpec
from supervise.states import ProcessState

if TYPE_CHECKING:
    pass

log = Logger(namespace="supervise.process.program")


class HealthMixin(ProgramParts):
    """Program's readiness and health behaviour (see process/readiness.py)."""

    def _watchdog_ping(self) -> None:
        """WATCHDOG=1: the program is alive; push the deadline back."""
        seconds = self.config.extras.watchdog_sec
        if seconds is None or self.state is not ProcessState.RUNNING:
            return
        if self._watchdog is not None and self._watchdog.active():
            self._watchdog.cancel()
        self._watchdog = self.clock.callLater(seconds, self._watchdog_expired)

    def _watchdog_expired(self) -> None:
        self._watchdog = None
        seconds = self.config.extras.watchdog_sec or 0.0
        if self.state is not ProcessState.RUNNING:
            return
        log.warn(
            "watchdog: {name} sent no WATCHDOG=1 for {s}s",
            name=self.name,
            s=seconds,
            program=self.namespec,
        )
        self.bus.publish(WatchdogExpired(self.group, self.name, seconds))
        self._restart_unhealthy()

    def _check_readiness(self, machine: ProcessInputs, ready: str, spec: SpawnSpec) -> None:
        extras = self.config.extras
        checking = Deferred.fromCoroutine(
            wait_ready(
                ready, self.clock, extras.ready_timeout, extras.ready_interval, dict(spec.env)
            )
        )
        self._readiness = checking

        def passed(_: object) -> None:
            self._readiness = None
            if self.state is ProcessState.STARTING:
                machine.startsecs_elapsed()

        def failed(failure: Any) -> None:
            self._readiness = None
            if failure.check(CancelledError) is None and self.state is ProcessState.STARTING:
                self.spawnerr = str(failure.value)
                machine.not_ready()

        checking.addCallbacks(passed, failed)

    def _with_notify_socket(self, spec: SpawnSpec, machine: ProcessInputs) -> SpawnSpec:
        def on_ready() -> None:
            if self.state is ProcessState.STARTING:
                machine.startsecs_elapsed()

        name = f"supervise-{os.getpid()}-{self.namespec}-{self.spawns}"
        self.notify = NotifySocket(self.clock, name, on_ready, self._watchdog_ping)
        env = {**spec.env, "NOTIFY_SOCKET": self.notify.address}
        if self.config.extras.watchdog_sec is not None:
            env["WATCHDOG_USEC"] = str(int(self.config.extras.watchdog_sec * 1_000_000))
        return evolve(spec, env=env)

    def _health_probe(self) -> None:
        """One health check while RUNNING; enough failures in a row restart the program."""
        extras = self.config.extras
        check = extras.healthcheck
        assert check is not None
        self._timer = None
        checking = probe(check, self.clock, extras.healthcheck_timeout, dict(self.context.environ))
        self._readiness = checking  # cancelled with the state, like a readiness check

        def judged(healthy: bool) -> None:
            self._readiness = None
            if self.state is not ProcessState.RUNNING:
                return
            if healthy:
                if self.health_failures:
                    self.bus.publish(HealthRecovered(self.group, self.name, check))
                    log.info("healthy again: {name}", name=self.name, program=self.namespec)
                self.health_failures = 0
            else:
                self.health_failures += 1
                log.warn(
                    "health check failed: {name} ({check}), {n} of {retries}",
                    name=self.name,
                    check=check,
                    n=self.health_failures,
                    retries=extras.healthcheck_retries,
                    program=self.namespec,
                )
                if self.health_failures >= extras.healthcheck_retries:
                    self.bus.publish(
                        HealthFailed(self.group, self.name, check, self.health_failures)
                    )
                    self.health_failures = 0
                    self._restart_unhealthy()
                    return
            self._timer = self.clock.callLater(extras.healthcheck_interval, self._health_probe)

        checking.addCallback(judged)

    def _restart_unhealthy(self) -> None:
        if self.state is not ProcessState.RUNNING:
            return
        log.warn("unhealthy: {name} is restarted", name=self.name, program=self.namespec)

        def start_again(state: ProcessState) -> bool:
            if state in (ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL):
                if self.may_restart():
                    self.clock.callLater(0, self._start_if_stopped)
                return True
            return state is not ProcessState.STOPPING

        self.watch(start_again)
        self.machine.stop()

    def _start_if_stopped(self) -> None:
        if self.state in (ProcessState.STOPPED, ProcessState.EXITED):
            self.machine.start()

    def abandon_start(self, machine: ProcessInputs) -> None:
        """Stop a child that never became ready; SIGKILL after stopwaitsecs."""
        self.spawnerr = self.spawnerr or "not ready in time"
        log.warn(
            "not ready: {name} ({why}); stopping it",
            name=self.name,
            why=self.spawnerr,
            program=self.namespec,
        )
        self._timer = self.clock.callLater(self.config.stopwaitsecs, self._kill_unready, machine)
        self._send(machine, self.config.stopsignal, self.config.stopasgroup)

    def _kill_unready(self, machine: ProcessInputs) -> None:
        self._timer = None
        self._send(machine, signal.SIGKILL, self.config.killasgroup)
