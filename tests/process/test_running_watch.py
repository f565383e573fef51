"""Layer 2: what watches a RUNNING process, on a fake clock: health checks, the sd_notify
watchdog, and watch mode's search for a successor."""

from __future__ import annotations

import signal

import pytest

from supervise.config.model import ProcessExtras
from supervise.events.types import HealthFailed, HealthRecovered, ProcessAdopted, WatchdogExpired
from supervise.states import ProcessState
from supervise.testing import Harness

S = ProcessState
CHECK = "tcp:127.0.0.1:9000"


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def healthy_program(harness, retries=3):
    extras = ProcessExtras(healthcheck=CHECK, healthcheck_interval=10, healthcheck_retries=retries)
    program = harness.add("api", extras=extras, startsecs=0)
    program.start()
    return program, harness.checks[CHECK]


def test_health_checked_every_interval_while_running(harness):
    """A RUNNING program is probed every healthcheck_interval; passing checks change nothing."""
    _, check = healthy_program(harness)
    harness.clock.advance(9.9)
    assert check.attempts == []
    harness.clock.advance(0.1)
    check.answer(True)
    harness.clock.advance(10)
    check.answer(True)
    assert len(check.attempts) == 2
    assert harness.states("api") == [S.STARTING, S.RUNNING]


def test_failed_health_checks_in_a_row_restart_the_program(harness):
    """healthcheck_retries failures in a row: SUPERVISE_HEALTH_FAILED, then a restart."""
    program, check = healthy_program(harness, retries=2)
    first = harness.spawner.last
    for _ in range(2):
        harness.clock.advance(10)
        check.answer(False)
    failed = [e for e in harness.events if isinstance(e, HealthFailed)]
    assert [(e.check, e.failures) for e in failed] == [(CHECK, 2)]
    assert first.signals == [(signal.SIGTERM, False)]
    assert harness.states("api") == [
        S.STARTING, S.RUNNING, S.STOPPING, S.STOPPED, S.STARTING, S.RUNNING,
    ]  # fmt: skip
    assert harness.spawner.last is not first
    assert program.snapshot().health_failures == 0


def test_a_pass_after_a_failure_is_a_recovery(harness):
    """One failure then a pass: SUPERVISE_HEALTH_RECOVERED, no restart."""
    program, check = healthy_program(harness)
    harness.clock.advance(10)
    check.answer(False)
    assert program.snapshot().health_failures == 1
    harness.clock.advance(10)
    check.answer(True)
    assert [type(e) for e in harness.events if isinstance(e, HealthRecovered)] == [HealthRecovered]
    assert program.snapshot().health_failures == 0
    assert harness.states("api")[-1] is S.RUNNING


def test_stop_cancels_a_pending_health_check(harness):
    """Stopping while a probe is pending cancels it; its late answer changes nothing."""
    program, check = healthy_program(harness)
    harness.clock.advance(10)
    program.stop()
    assert check.cancelled == 1
    assert harness.states("api")[-1] is S.STOPPED
    assert harness.clock.getDelayedCalls() == []


def test_no_restart_for_health_while_the_daemon_stops(harness):
    """A health restart during shutdown stops the program and does not start it again."""
    _, check = healthy_program(harness, retries=1)
    harness.restarts_allowed = False
    harness.clock.advance(10)
    check.answer(False)
    assert harness.states("api")[-1] is S.STOPPED


def test_watchdog_pings_keep_it_running_and_silence_restarts_it(harness):
    """WATCHDOG=1 within watchdog_sec keeps the program; silence for watchdog_sec restarts it."""
    extras = ProcessExtras(ready="notify", watchdog_sec=3)
    harness.add("svc", extras=extras).start()
    channel = harness.notify.last
    assert harness.spawner.last.spec.env["WATCHDOG_USEC"] == "3000000"
    channel.send("READY=1")
    for _ in range(3):
        harness.clock.advance(2.5)
        channel.send("WATCHDOG=1")
    assert harness.states("svc") == [S.STARTING, S.RUNNING]
    harness.clock.advance(3)
    assert [e.seconds for e in harness.events if isinstance(e, WatchdogExpired)] == [3]
    assert harness.states("svc")[2:] == [S.STOPPING, S.STOPPED, S.STARTING]


def watched(harness, **extras):
    harness.table.processes[7000] = "/opt/app/bin/app --serve"
    extras.setdefault("absent_grace", 5)
    app = harness.add("app", extras=ProcessExtras(watch="match", match="app --serve", **extras))
    app.start()
    return app


def test_watched_process_replaced_within_grace_is_followed(harness):
    """A watched process that exits and is replaced within absent_grace is taken over; the
    program stays RUNNING with no state change."""
    app = watched(harness)
    del harness.table.processes[7000]
    harness.spawner.last.exit(0)
    harness.clock.advance(1)
    harness.table.processes[7001] = "/opt/app/bin/app --serve"
    harness.clock.advance(0.25)
    assert harness.states("app") == [S.STARTING, S.RUNNING]
    assert app.snapshot().pid == 7001
    adopted = [(e.old_pid, e.new_pid) for e in harness.events if isinstance(e, ProcessAdopted)]
    assert adopted == [(0, 7000), (7000, 7001)]
    assert harness.spawner.last.pid == 7001


def test_watched_process_without_successor_exits_after_grace(harness):
    """No successor within absent_grace: the exit counts (EXITED, then the policy)."""
    watched(harness)
    del harness.table.processes[7000]
    harness.spawner.last.exit(0)
    harness.clock.advance(4.9)
    assert harness.states("app") == [S.STARTING, S.RUNNING]
    harness.clock.advance(0.1)
    assert harness.states("app") == [S.STARTING, S.RUNNING, S.EXITED]
    assert harness.clock.getDelayedCalls() == []


def test_stop_during_the_successor_search_ends_it(harness):
    """Stopping a watched program while its successor is searched for stops at once."""
    app = watched(harness)
    del harness.table.processes[7000]
    harness.spawner.last.exit(0)
    app.stop()
    assert harness.states("app")[-2:] == [S.STOPPING, S.STOPPED]
    assert harness.clock.getDelayedCalls() == []


def test_watch_pidfile_follows_a_new_pid(harness):
    """watch = pidfile: a change of the pidfile naming a new live pid is followed."""
    harness.table.processes[7000] = "daemon"
    harness.table.pidfiles["/run/d.pid"] = (7000, 0.0)
    app = harness.add("app", extras=ProcessExtras(watch="pidfile", pidfile="/run/d.pid"))
    app.start()
    del harness.table.processes[7000]
    harness.spawner.last.exit(0)
    harness.table.processes[7002] = "daemon"
    harness.table.pidfiles["/run/d.pid"] = (7002, harness.clock.seconds())
    harness.files.changed("/run/d.pid")
    assert app.snapshot().pid == 7002
    assert harness.states("app") == [S.STARTING, S.RUNNING]
