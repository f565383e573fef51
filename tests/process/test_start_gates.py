"""Layer 2: the gates of STARTING on a fake clock: readiness probes, sd_notify, pidfile
daemons (forking or in the foreground) and watch mode's search before a spawn."""

from __future__ import annotations

import signal

import pytest

from supervise.config.model import ProcessExtras
from supervise.events.types import ProcessAdopted
from supervise.states import ProcessState
from supervise.testing import Harness

S = ProcessState
PIDFILE = "/run/fake/daemon.pid"


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def test_probe_retried_every_interval_until_ready(harness):
    """A failing readiness probe is tried again every ready_interval; RUNNING when it passes."""
    extras = ProcessExtras(ready="tcp:127.0.0.1:8080", ready_timeout=10, ready_interval=2)
    harness.add("web", extras=extras).start()
    check = harness.checks["tcp:127.0.0.1:8080"]
    check.answer(False)
    assert len(check.attempts) == 1
    harness.clock.advance(1.9)
    assert len(check.attempts) == 1
    harness.clock.advance(0.1)
    assert len(check.attempts) == 2
    assert harness.states("web") == [S.STARTING]
    check.answer(True)
    assert harness.states("web") == [S.STARTING, S.RUNNING]
    assert harness.clock.getDelayedCalls() == []


def test_probe_deadline_stops_the_child_and_backs_off_with_the_reason(harness):
    """No success within ready_timeout: the pending probe is cancelled, the child stopped,
    and BACKOFF says why."""
    extras = ProcessExtras(ready="http://127.0.0.1/health", ready_timeout=5, ready_interval=1)
    web = harness.add("web", extras=extras, startretries=3)
    web.start()
    child = harness.spawner.last
    harness.clock.advance(5)
    check = harness.checks["http://127.0.0.1/health"]
    assert check.cancelled == 1
    assert child.signals == [(signal.SIGTERM, False)]
    assert harness.states("web") == [S.STARTING, S.BACKOFF]
    assert web.spawnerr == "not ready after 5s (http://127.0.0.1/health)"


def test_not_ready_child_ignoring_sigterm_is_killed_after_stopwaitsecs(harness):
    """A never-ready child that ignores its stop signal gets SIGKILL after stopwaitsecs."""
    harness.spawner.dies_on_signal = False
    extras = ProcessExtras(ready="command:false", ready_timeout=2)
    harness.add("web", extras=extras, stopwaitsecs=4).start()
    child = harness.spawner.last
    harness.clock.advance(2)
    harness.clock.advance(3.9)
    assert child.alive
    harness.clock.advance(0.1)
    assert child.signals == [(signal.SIGTERM, False), (signal.SIGKILL, False)]
    assert harness.states("web")[-1] is S.BACKOFF


def test_notify_ready_makes_it_running_and_status_is_kept(harness):
    """READY=1 on the program's NOTIFY_SOCKET makes it RUNNING; STATUS= reaches the snapshot."""
    web = harness.add("web", extras=ProcessExtras(ready="notify", ready_timeout=30))
    web.start()
    channel = harness.notify.last
    assert harness.spawner.last.spec.env["NOTIFY_SOCKET"] == channel.address
    channel.send("STATUS=warming caches")
    assert web.snapshot().notify_status == "warming caches"
    assert harness.states("web") == [S.STARTING]
    channel.send("READY=1")
    assert harness.states("web") == [S.STARTING, S.RUNNING]
    channel.send("READY=1")  # a second READY=1 changes nothing
    assert harness.states("web") == [S.STARTING, S.RUNNING]


def test_notify_timeout_backs_off(harness):
    """No READY=1 within ready_timeout: the child is stopped and the start counts as failed."""
    web = harness.add("web", extras=ProcessExtras(ready="notify", ready_timeout=8))
    web.start()
    harness.clock.advance(8)
    assert harness.states("web") == [S.STARTING, S.BACKOFF]
    assert web.spawnerr == "no READY=1 within 8s"
    assert harness.notify.last.closed


def test_forking_daemon_is_found_in_its_pidfile(harness):
    """The launcher exits 0; the pid its pidfile names is watched and RUNNING after startsecs."""
    web = harness.add("web", extras=ProcessExtras(pidfile=PIDFILE), startsecs=2)
    web.start()
    launcher = harness.spawner.last
    launcher.exit(0)
    assert web.snapshot().pid == 0 and harness.states("web") == [S.STARTING]
    harness.table.processes[5000] = "/usr/sbin/daemon"
    harness.table.pidfiles[PIDFILE] = (5000, harness.clock.seconds())
    harness.files.changed(PIDFILE)
    harness.clock.advance(2)
    assert harness.states("web") == [S.STARTING, S.RUNNING]
    assert web.snapshot().pid == 5000
    web.stop()
    assert harness.spawner.last.signals == [(signal.SIGTERM, False)]
    assert harness.states("web")[-1] is S.STOPPED


def test_stale_pidfile_is_not_taken(harness):
    """A pidfile written before the launch names an old process: it is not adopted."""
    web = harness.add("web", extras=ProcessExtras(pidfile=PIDFILE, ready_timeout=10))
    harness.clock.advance(100)
    harness.table.processes[4000] = "/usr/sbin/daemon"
    harness.table.pidfiles[PIDFILE] = (4000, 50.0)
    web.start()
    harness.spawner.last.exit(0)
    harness.files.changed(PIDFILE)
    harness.clock.advance(10)
    assert harness.states("web") == [S.STARTING, S.BACKOFF]
    assert web.spawnerr == f"pidfile {PIDFILE} named no new live process within 10s"


def test_foreground_program_writing_its_own_pid_is_running(harness):
    """A pidfile program that stays in the foreground and writes its own pid is RUNNING
    with that pid, without waiting for an exit that never comes."""
    web = harness.add("web", extras=ProcessExtras(pidfile=PIDFILE), startsecs=1)
    web.start()
    launcher = harness.spawner.last
    harness.table.processes[launcher.pid] = "nginx -g 'daemon off;'"
    harness.table.pidfiles[PIDFILE] = (launcher.pid, harness.clock.seconds())
    harness.files.changed(PIDFILE)
    harness.clock.advance(1)
    assert harness.states("web") == [S.STARTING, S.RUNNING]
    assert web.snapshot().pid == launcher.pid
    assert harness.files.watchers[PIDFILE] == []


def test_launcher_failing_is_an_early_exit(harness):
    """A launcher exiting non-zero is an ordinary early exit: BACKOFF, then a retry."""
    harness.add("web", extras=ProcessExtras(pidfile=PIDFILE)).start()
    harness.spawner.last.exit(1)
    assert harness.states("web") == [S.STARTING, S.BACKOFF]
    harness.clock.advance(1)
    assert harness.states("web")[-1] is S.STARTING
    assert len(harness.spawner.children) == 2


def test_watched_program_already_running_is_adopted_not_spawned(harness):
    """watch = match: a matching process already running is taken over; nothing is spawned."""
    harness.table.processes[7000] = "/opt/app/bin/app --serve"
    app = harness.add("app", extras=ProcessExtras(watch="match", match="app --serve"))
    app.start()
    assert harness.states("app") == [S.STARTING, S.RUNNING]
    assert app.snapshot().pid == 7000 and app.snapshot().adopted
    assert app.spawns == 0
    adopted = [e for e in harness.events if isinstance(e, ProcessAdopted)]
    assert [(e.old_pid, e.new_pid) for e in adopted] == [(0, 7000)]
