"""Layer 2: a program taking over what the previous daemon left (a re-exec, a SIGKILL),
on a fake clock: every state kept, exits during the hand-off applied."""

from __future__ import annotations

import pytest

from supervise.config.values import AutoRestart
from supervise.process.saved import SavedProcess
from supervise.states import ProcessState
from supervise.testing import Harness

S = ProcessState


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def saved(state, pid=0, **fields):
    base = dict(
        namespec="job", state=state, pid=pid, ticks=pid * 100 if pid else None,
        start_time=100.0, stop_time=200.0, spawns=4, exitstatus=0, stdout=None, stderr=None,
    )  # fmt: skip
    base.update(fields)
    return SavedProcess(**base)


def test_fatal_keeps_its_error_and_publishes_nothing(harness):
    """A FATAL program stays FATAL with its spawn error, with no event."""
    job = harness.add("job")
    job.restore(saved("FATAL", spawnerr="Exited too quickly (process log may have details)"), True)
    snap = job.snapshot()
    assert (snap.state, snap.spawns) == (S.FATAL, 4)
    assert snap.spawnerr == "Exited too quickly (process log may have details)"
    assert harness.states("job") == []


def test_exited_keeps_its_status_and_times(harness):
    """An EXITED program stays EXITED with its exit status and times."""
    job = harness.add("job")
    job.restore(saved("EXITED", exitstatus=3, spawnerr="Bad exit code 3"), True)
    snap = job.snapshot()
    assert (snap.state, snap.exitstatus, snap.start, snap.stop) == (S.EXITED, 3, 100.0, 200.0)
    assert snap.spawnerr == "Bad exit code 3"


def test_backoff_keeps_its_count_and_retries(harness):
    """A BACKOFF program keeps its retry count and retries after its delay."""
    job = harness.add("job", startretries=5)
    job.restore(
        saved("BACKOFF", tries=2, spawnerr="Exited too quickly (process log may have details)"),
        True,
    )
    assert job.snapshot().tries == 2
    assert job.snapshot().state is S.BACKOFF
    harness.clock.advance(2)
    assert harness.states("job")[-1] is S.STARTING
    assert harness.state_events("job")[-1].tries == 2


def test_running_survivor_is_adopted_and_its_exit_applies_the_policy(harness):
    """A live process is RUNNING again with its pid and start time; its later exit is
    handled like any other (restarted per autorestart)."""
    harness.table.processes[4242] = "worker"
    job = harness.add("job", startsecs=0)
    assert job.restore(saved("RUNNING", pid=4242), False) is True
    snap = job.snapshot()
    assert (snap.state, snap.pid, snap.start) == (S.RUNNING, 4242, 100.0)
    harness.spawner.last.exit(1)
    assert harness.states("job")[-3:] == [S.EXITED, S.STARTING, S.RUNNING]


def test_exit_during_the_handoff_is_applied_after_it(harness):
    """A re-exec'd daemon adopts its own child even if it exited meanwhile (a zombie):
    the exit is reaped and the policy applies."""
    job = harness.add("job", startsecs=0)
    assert job.restore(saved("RUNNING", pid=4343), True) is True  # not in the table: a zombie
    harness.spawner.last.exit(2)
    assert harness.states("job")[-3:] == [S.EXITED, S.STARTING, S.RUNNING]
    assert job.exitstatus in (0, 2)


def test_process_dead_while_no_daemon_ran_is_restarted(harness):
    """After a daemon's SIGKILL, a program that died meanwhile is restarted by its policy."""
    job = harness.add("job", startsecs=0)
    job.restore(saved("RUNNING", pid=4444), False)
    assert harness.states("job") == [S.STARTING, S.RUNNING]
    assert job.snapshot().pid == harness.spawner.last.pid


def test_dead_program_without_restart_policy_stays_exited_unless_autostart(harness):
    """autorestart=false and autostart=false: a program found dead stays EXITED, status unknown."""
    job = harness.add("job", autorestart=AutoRestart.NEVER, autostart=False)
    job.restore(saved("RUNNING", pid=4545), False)
    snap = job.snapshot()
    assert (snap.state, snap.exitstatus) == (S.EXITED, -1)
    assert snap.stop == harness.clock.seconds()
