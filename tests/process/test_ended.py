"""Layer 2: a process that ends for good tells its host how (critical, exit_when_done)."""

from __future__ import annotations

import signal

import pytest
from attrs import evolve

from supervise.config.model import ProcessExtras
from supervise.config.values import AutoRestart
from supervise.process.ended import ProcessEnd, shell_status
from supervise.states import ProcessState
from supervise.testing import Harness

S = ProcessState


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


@pytest.fixture
def ends(harness):
    heard: list[ProcessEnd] = []
    harness.host = evolve(harness.host, ended=heard.append)
    return heard


def test_exit_not_restarted_is_an_end_with_its_code(harness, ends):
    """autorestart=false: an exit is the end, with the program's exit code."""
    harness.add("job", startsecs=0, autorestart=AutoRestart.NEVER).start()
    harness.spawner.last.exit(3)
    assert [(e.namespec, e.state, e.status, e.expected, e.why) for e in ends] == [
        ("job", S.EXITED, 3, False, "exit status 3")
    ]


def test_expected_exit_under_unexpected_policy_is_an_expected_end(harness, ends):
    """autorestart=unexpected and an exit code in exitcodes: ended as expected, status 0."""
    harness.add("batch", startsecs=0).start()
    harness.spawner.last.exit(0)
    assert [(e.status, e.expected) for e in ends] == [(0, True)]


def test_exit_that_is_restarted_is_no_end(harness, ends):
    """An exit the policy restarts is not an end."""
    harness.add("web", startsecs=0, autorestart=AutoRestart.ALWAYS).start()
    harness.spawner.last.exit(0)
    harness.spawner.last.exit(1)
    assert ends == []
    assert harness.states("web")[-1] is S.RUNNING


def test_death_by_signal_is_128_plus_the_signal(harness, ends):
    """A program killed by a signal ends with 128+N, as a shell reports it."""
    harness.add("job", startsecs=0, autorestart=AutoRestart.NEVER).start()
    harness.spawner.last.kill(signal.SIGKILL)
    assert [e.status for e in ends] == [128 + signal.SIGKILL]
    assert ends[0].why == "terminated by SIGKILL"


def test_fatal_ends_with_the_last_start_status(harness, ends):
    """Too many failed starts: FATAL, ending with the last start's exit code."""
    harness.add("web", startsecs=5, startretries=1).start()
    harness.spawner.last.exit(4)
    assert ends == []
    harness.clock.advance(1)
    harness.spawner.last.exit(5)
    assert harness.states("web")[-1] is S.FATAL
    assert [(e.state, e.status, e.expected) for e in ends] == [(S.FATAL, 5, False)]
    assert "Exited too quickly" in ends[0].why


def test_fatal_after_a_spawn_error_ends_with_1(harness, ends):
    """A command that cannot be spawned ends FATAL with status 1."""
    harness.add("ghost", command="/nonexistent/bin", startretries=0).start()
    assert [(e.state, e.status) for e in ends] == [(S.FATAL, 1)]
    assert "can't find command" in ends[0].why


def test_fatal_after_quick_exits_0_is_still_a_failure(harness, ends):
    """A program that keeps exiting 0 too quickly is FATAL with status 1, not 0."""
    harness.add("quick", startsecs=5, startretries=0).start()
    harness.spawner.last.exit(0)
    assert [e.status for e in ends] == [1]


def test_critical_flag_travels_with_the_end(harness, ends):
    """The end says whether the program is critical."""
    extras = ProcessExtras(critical=True)
    harness.add("db", startsecs=0, autorestart=AutoRestart.NEVER, extras=extras).start()
    harness.spawner.last.exit(0)
    assert [e.critical for e in ends] == [True]


def test_stop_asked_for_is_no_end(harness, ends):
    """A program stopped on request has not ended on its own."""
    job = harness.add("job", startsecs=0)
    job.start()
    job.stop()
    harness.spawner.last.exit(0)
    assert harness.states("job")[-1] is S.STOPPED
    assert ends == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [(None, 1), (-1, 1), (0, 0), (7 << 8, 7), (signal.SIGTERM, 128 + signal.SIGTERM)],
)
def test_shell_status(raw, status):
    """Raw wait statuses as a shell reports them."""
    assert shell_status(raw) == status
