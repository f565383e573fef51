"""Layer 2: the process lifecycle on a fake clock and a fake spawner."""

from __future__ import annotations

import signal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from supervise.config.values import AutoRestart
from supervise.errors import AlreadyStarted, NotRunning, SpawnError
from supervise.process.program import Program
from supervise.states import STOPPED_STATES, ProcessState
from supervise.testing import Harness

S = ProcessState


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def test_start_waits_startsecs_before_running(harness):
    """A process is STARTING until it has stayed up startsecs, then RUNNING."""
    web = harness.add("web", startsecs=5)
    web.start()
    harness.clock.advance(4.9)
    assert harness.states("web") == [S.STARTING]
    harness.clock.advance(0.2)
    assert harness.states("web") == [S.STARTING, S.RUNNING]
    assert harness.state_events("web")[-1].pid == harness.spawner.last.pid


def test_startsecs_zero_is_running_at_once(harness):
    """With startsecs=0 the process is RUNNING right after a successful spawn."""
    harness.add("now", startsecs=0).start()
    assert harness.states("now") == [S.STARTING, S.RUNNING]


def test_early_exit_backs_off_then_retries(harness):
    """A child dying before startsecs goes to BACKOFF, then STARTING after 1 s."""
    web = harness.add("web", startsecs=5, startretries=3)
    web.start()
    harness.clock.advance(2)
    harness.spawner.last.exit(1)
    assert harness.states("web") == [S.STARTING, S.BACKOFF]
    assert web.spawnerr == "Exited too quickly (process log may have details)"
    harness.clock.advance(0.99)
    assert harness.states("web")[-1] is S.BACKOFF
    harness.clock.advance(0.02)
    assert harness.states("web")[-1] is S.STARTING


def test_backoff_delays_grow_linearly_then_fatal(harness):
    """Retries wait 1, 2, 3 s; after startretries failures the process is FATAL."""
    web = harness.add("web", startsecs=5, startretries=3)
    web.start()
    waits = []
    for _ in range(3):
        harness.spawner.last.exit(1)
        before = harness.clock.seconds()
        while harness.states("web")[-1] is S.BACKOFF:
            harness.clock.advance(0.5)
        waits.append(harness.clock.seconds() - before)
    harness.spawner.last.exit(1)
    assert waits == [1.0, 2.0, 3.0]
    assert harness.states("web")[-2:] == [S.BACKOFF, S.FATAL]
    assert len(harness.spawner.children) == 4
    assert [e.tries for e in harness.state_events("web") if e.state is S.STARTING] == [0, 1, 2, 3]


def test_startretries_zero_is_one_attempt(harness):
    """startretries=0 means one attempt, then FATAL."""
    harness.add("once", startsecs=5, startretries=0).start()
    harness.spawner.last.exit(1)
    assert harness.states("once") == [S.STARTING, S.BACKOFF, S.FATAL]


def test_running_exit_expected_is_not_restarted(harness):
    """An exit code listed in exitcodes is EXITED expected and, by default, not restarted."""
    job = harness.add("job", startsecs=0, exitcodes=(0, 2))
    job.start()
    harness.spawner.last.exit(2)
    assert harness.states("job") == [S.STARTING, S.RUNNING, S.EXITED]
    assert harness.state_events("job")[-1].expected is True
    assert job.exitstatus == 2


def test_running_exit_unexpected_restarts_at_once(harness):
    """autorestart=unexpected restarts an unexpected exit with no delay."""
    job = harness.add("job", startsecs=0)
    job.start()
    harness.spawner.last.exit(3)
    assert harness.states("job") == [S.STARTING, S.RUNNING, S.EXITED, S.STARTING, S.RUNNING]
    assert job.spawnerr == ""
    assert harness.state_events("job")[2].expected is False


def test_autorestart_true_restarts_expected_exit(harness):
    """autorestart=true restarts even an expected exit."""
    harness.add("job", startsecs=0, autorestart=AutoRestart.ALWAYS).start()
    harness.spawner.last.exit(0)
    assert harness.states("job")[-3:] == [S.EXITED, S.STARTING, S.RUNNING]


def test_autorestart_false_stays_exited(harness):
    """autorestart=false leaves even a crash EXITED."""
    job = harness.add("job", startsecs=0, autorestart=AutoRestart.NEVER)
    job.start()
    harness.spawner.last.kill(signal.SIGSEGV)
    assert harness.states("job")[-1] is S.EXITED
    assert job.exitstatus == -1


def test_no_restart_while_daemon_is_stopping(harness):
    """No automatic restart happens while the daemon is not RUNNING."""
    harness.add("job", startsecs=0).start()
    harness.restarts_allowed = False
    harness.spawner.last.exit(1)
    assert harness.states("job")[-1] is S.EXITED


def test_stop_sends_stopsignal_then_sigkill_after_stopwaitsecs(harness):
    """A child ignoring its stop signal is SIGKILLed after stopwaitsecs."""
    harness.spawner.dies_on_signal = False
    job = harness.add("job", startsecs=0, stopsignal=signal.SIGINT, stopwaitsecs=7)
    job.start()
    job.stop()
    child = harness.spawner.last
    assert child.signals == [(signal.SIGINT, False)]
    harness.clock.advance(6.9)
    assert child.alive
    harness.clock.advance(0.2)
    assert child.signals[-1] == (signal.SIGKILL, False)
    assert harness.states("job")[-2:] == [S.STOPPING, S.STOPPED]


def test_stopasgroup_signals_the_process_group(harness):
    """stopasgroup sends the stop signal (and SIGKILL) to the whole process group."""
    harness.spawner.dies_on_signal = False
    job = harness.add("job", startsecs=0, stopasgroup=True, killasgroup=True, stopwaitsecs=1)
    job.start()
    job.stop()
    harness.clock.advance(1)
    assert harness.spawner.last.signals == [(signal.SIGTERM, True), (signal.SIGKILL, True)]


def test_stop_in_backoff_is_stopped_without_signal(harness):
    """Stopping a BACKOFF process makes it STOPPED at once with pid 0."""
    job = harness.add("job", startsecs=5)
    job.start()
    harness.spawner.last.exit(1)
    job.stop()
    assert harness.states("job") == [S.STARTING, S.BACKOFF, S.STOPPED]
    assert harness.state_events("job")[-1].pid == 0
    harness.clock.advance(100)
    assert len(harness.spawner.children) == 1


def test_stop_while_starting_ends_stopped(harness):
    """A process stopped during STARTING goes STOPPING then STOPPED, never RUNNING."""
    job = harness.add("job", startsecs=5)
    job.start()
    job.stop()
    harness.clock.advance(10)
    assert harness.states("job") == [S.STARTING, S.STOPPING, S.STOPPED]


def test_spawn_error_backs_off_with_spawnerr(harness):
    """A spawn failure (missing command) is STARTING then BACKOFF with supervisord's text."""
    job = harness.add("job", command="/nonexistent/bin")
    job.start()
    assert harness.states("job") == [S.STARTING, S.BACKOFF]
    assert job.spawnerr == "can't find command '/nonexistent/bin'"


def test_start_rejections(harness):
    """Start on a running process and stop on a stopped one raise supervisord's errors."""
    job = harness.add("job", startsecs=0)
    with pytest.raises(NotRunning):
        job.stop()
    job.start()
    with pytest.raises(AlreadyStarted):
        job.start()


def test_events_carry_from_state(harness):
    """Every state event names the state it came from."""
    job = harness.add("job", startsecs=0)
    job.start()
    job.stop()
    froms = [(e.from_state, e.state) for e in harness.state_events("job")]
    assert froms == [
        (S.STOPPED, S.STARTING),
        (S.STARTING, S.RUNNING),
        (S.RUNNING, S.STOPPING),
        (S.STOPPING, S.STOPPED),
    ]


def test_check_command_reports_fault_kind(harness):
    """An unresolvable command is a NO_FILE spawn error, a directory NOT_EXECUTABLE."""
    with pytest.raises(SpawnError) as missing:
        harness.add("a", command="nosuchcommand-xyz").check_command()
    with pytest.raises(SpawnError) as directory:
        harness.add("b", command="/etc").check_command()
    assert (missing.value.kind, directory.value.kind) == ("NO_FILE", "NOT_EXECUTABLE")
    assert directory.value.message == "command at '/etc' is a directory"


class LifecycleMachine(RuleBasedStateMachine):
    """Random starts, stops, exits and clock advances keep supervisord's invariants."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.harness = Harness(self.tmp.name)
        self.harness.spawner.dies_on_signal = False
        self.program = self.make_program()

    def make_program(self) -> Program:
        return self.harness.add("p", startsecs=2, startretries=2, stopwaitsecs=3)

    def teardown(self) -> None:
        self.tmp.cleanup()

    @rule()
    def start(self) -> None:
        try:
            self.program.start()
        except AlreadyStarted:
            pass

    @rule()
    def stop(self) -> None:
        try:
            self.program.stop()
        except NotRunning:
            pass

    @rule(code=st.integers(0, 3))
    def child_exits(self, code: int) -> None:
        live = self.harness.spawner.live()
        if live:
            live[0].exit(code)

    @rule(seconds=st.floats(0.1, 5))
    def advance(self, seconds: float) -> None:
        self.harness.clock.advance(seconds)

    @invariant()
    def at_most_one_live_child(self) -> None:
        assert len(self.harness.spawner.live()) <= 1

    @invariant()
    def events_chain(self) -> None:
        events = self.harness.state_events("p")
        previous = S.STOPPED
        for event in events:
            assert event.from_state is previous
            previous = event.state
        assert previous is self.program.state

    @invariant()
    def last_event_equals_snapshot(self) -> None:
        events = self.harness.state_events("p")
        snapshot = self.program.snapshot()
        if events:
            assert events[-1].state is snapshot.state
            if snapshot.state is S.RUNNING:
                assert events[-1].pid == snapshot.pid != 0
        if snapshot.state in STOPPED_STATES:
            assert snapshot.pid == 0

    @invariant()
    def no_timer_in_rest_states(self) -> None:
        if self.program.state in STOPPED_STATES:
            assert self.harness.clock.getDelayedCalls() == []

    @invariant()
    def live_child_iff_active_state(self) -> None:
        has_child = bool(self.harness.spawner.live())
        active = self.program.state in (S.STARTING, S.RUNNING, S.STOPPING)
        assert has_child == active


TestLifecycle = LifecycleMachine.TestCase


def test_exponential_backoff_capped_and_forever(harness):
    """backoff_initial/backoff_max double the delay up to the cap; startretries=-1 never gives up."""
    from supervise.config.model import ProcessExtras

    job = harness.add(
        "job",
        startsecs=5,
        startretries=-1,
        extras=ProcessExtras(backoff_initial=0.5, backoff_max=3),
    )
    job.start()
    waits = []
    for _ in range(6):
        harness.spawner.last.exit(1)
        before = harness.clock.seconds()
        while harness.states("job")[-1] is S.BACKOFF:
            harness.clock.advance(0.25)
        waits.append(harness.clock.seconds() - before)
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert S.FATAL not in harness.states("job")
    assert harness.states("job")[-1] is S.STARTING


class GatedLifecycleMachine(LifecycleMachine):
    """A program with a readiness probe and a health check: random starts, stops, exits,
    probe answers and clock advances keep the same invariants, and no probe or timer
    outlives the state that owns it."""

    READY = "tcp:127.0.0.1:7000"
    HEALTH = "command:check"

    def make_program(self) -> Program:
        from supervise.config.model import ProcessExtras

        extras = ProcessExtras(
            ready=self.READY, ready_timeout=4, ready_interval=1,
            healthcheck=self.HEALTH, healthcheck_interval=2, healthcheck_retries=2,
        )  # fmt: skip
        return self.harness.add("p", startretries=2, stopwaitsecs=3, extras=extras)

    @rule(spec=st.sampled_from([READY, HEALTH]), passed=st.booleans())
    def probe_answers(self, spec: str, passed: bool) -> None:
        check = self.harness.checks.get(spec)
        if check is not None and any(not a.called for a in check.attempts):
            check.answer(passed)

    @invariant()
    def probes_only_where_they_belong(self) -> None:
        ready = self.harness.checks.get(self.READY)
        health = self.harness.checks.get(self.HEALTH)
        if ready is not None and self.program.state is not S.STARTING:
            assert all(a.called for a in ready.attempts)
        if health is not None and self.program.state is not S.RUNNING:
            assert all(a.called for a in health.attempts)


TestGatedLifecycle = GatedLifecycleMachine.TestCase
