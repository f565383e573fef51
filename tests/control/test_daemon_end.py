"""critical programs and exit_when_done on a fake clock: which end ends the daemon, and
with which status (the supervisor machine's ``end`` input, SUPERVISE_DAEMON_EXITING)."""

from __future__ import annotations

from supervise.events.types import DaemonExiting, SupervisorStopping
from supervise.states import ProcessState, SupervisorState
from tests.control.conftest import Core


def exits(core: Core) -> list[tuple[str, int, str]]:
    """The daemon-exit events so far: (process, status, reason)."""
    return [
        (e.process, e.status, e.reason) for e in core.harness.events if isinstance(e, DaemonExiting)
    ]


CRITICAL = """
[program:web]
command = /bin/sleep 100
startsecs = 0
priority = 10

[program:db]
command = /bin/sleep 100
startsecs = 0
autorestart = false
critical = true
priority = 1
"""


def test_critical_exit_ends_the_daemon_with_its_status(core: Core) -> None:
    """A critical program that exits for good ends the daemon with its exit code."""
    core.start(CRITICAL)
    core.child("db").exit(3)
    assert exits(core) == [("db", 3, "critical program db exit status 3")]
    assert core.supervisor.state is SupervisorState.SHUTDOWN
    assert sum(isinstance(e, SupervisorStopping) for e in core.harness.events) == 1
    # The shutdown that follows stops the others; nothing restarts meanwhile.
    spawned = len(core.harness.spawner.children)
    core.supervisor.shutdown()
    core.harness.clock.advance(0)
    assert core.state("web") is ProcessState.STOPPED
    assert len(core.harness.spawner.children) == spawned


def test_critical_fatal_ends_the_daemon_with_1_for_a_spawn_error(core: Core) -> None:
    """A critical program that cannot be spawned ends the daemon with status 1."""
    core.start(
        """
        [program:db]
        command = /nonexistent/db
        startretries = 0
        critical = true
        """
    )
    assert core.state("db") is ProcessState.FATAL
    assert [(p, s) for p, s, _ in exits(core)] == [("db", 1)]
    assert "entered FATAL: can't find command" in exits(core)[0][2]


def test_a_critical_program_restarted_by_its_policy_ends_nothing(core: Core) -> None:
    """autorestart restarts a critical program as usual: no end, no exit."""
    core.start(CRITICAL.replace("autorestart = false", "autorestart = true"))
    core.child("db").exit(1)
    assert exits(core) == []
    assert core.state("db") is ProcessState.RUNNING


def test_a_critical_program_stopped_by_hand_ends_nothing(core: Core) -> None:
    """Stopping a critical program on request does not end the daemon."""
    control = core.start(CRITICAL)
    control.stop("db")
    core.harness.clock.advance(0)
    assert core.state("db") is ProcessState.STOPPED
    assert exits(core) == []
    assert core.supervisor.state is SupervisorState.RUNNING


def test_without_the_options_an_end_changes_nothing(core: Core) -> None:
    """A config using neither option: every program may end, the daemon runs on."""
    core.start(CRITICAL.replace("critical = true", ""))
    core.child("db").exit(3)
    core.child("web").kill(9)
    core.harness.clock.advance(1)
    assert exits(core) == []
    assert core.supervisor.state is SupervisorState.RUNNING


BATCH = """
[program:one]
command = /bin/true
startsecs = 0
autorestart = false

[program:two]
command = /bin/true
startsecs = 0
autorestart = false
"""


def test_exit_when_done_exits_0_when_every_program_ended_as_expected(core: Core) -> None:
    """Batch jobs: once the last one ends, the daemon exits 0."""
    core.start(BATCH, "exit_when_done = true")
    core.child("one").exit(0)
    core.harness.clock.advance(0)
    assert exits(core) == []
    core.child("two").exit(0)
    core.harness.clock.advance(0)
    assert exits(core) == [("two", 0, "every program has ended as expected")]


def test_exit_when_done_exits_with_the_first_unexpected_status(core: Core) -> None:
    """The first unexpected status is the daemon's, whatever ended after it."""
    core.start(BATCH, "exit_when_done = true")
    core.child("two").exit(5)
    core.child("one").exit(6)
    core.harness.clock.advance(0)
    assert [(p, s) for p, s, _ in exits(core)] == [("two", 5)]
    assert "two first ended unexpectedly (exit status 5)" in exits(core)[0][2]


def test_exit_when_done_waits_for_a_program_that_still_runs(core: Core) -> None:
    """A long-running program keeps the daemon up; event listeners never count."""
    extra = """
[program:web]
command = /bin/sleep 100
startsecs = 0

[eventlistener:audit]
command = /bin/cat
events = PROCESS_STATE
"""
    core.start(BATCH + extra, "exit_when_done = true")
    core.child("one").exit(0)
    core.child("two").exit(0)
    core.harness.clock.advance(0)
    assert exits(core) == []
    core.child("web").exit(0)
    core.harness.clock.advance(0)
    assert [(p, s) for p, s, _ in exits(core)] == [("web", 0)]


def test_no_end_is_heard_during_a_reload(core: Core) -> None:
    """While the daemon reloads, programs stop without ending it."""
    core.start(CRITICAL)
    core.supervisor.machine.restart()
    core.supervisor.machine.end("db", "db", 3, "too late")
    assert exits(core) == []
    assert core.supervisor.state is SupervisorState.RESTARTING


def test_a_scheduled_program_never_ends_the_daemon(core: Core) -> None:
    """A schedule = program runs again at its next tick: its runs end nothing, and it
    keeps an exit_when_done daemon up, critical or not."""
    nightly = """
[program:nightly]
command = /bin/true
schedule = 0 3 * * *
critical = true
"""
    control = core.start(BATCH + nightly, "exit_when_done = true")
    core.child("one").exit(0)
    core.child("two").exit(0)
    core.harness.clock.advance(0)
    assert exits(core) == []
    control.start("nightly")
    core.harness.clock.advance(0)
    core.child("nightly").exit(1)
    core.harness.clock.advance(0)
    assert exits(core) == []
    assert core.supervisor.state is SupervisorState.RUNNING
