"""SupervisorControl, the one door into the core, on a fake clock and fake spawner."""

from __future__ import annotations

import signal

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure
from zope.interface.verify import verifyObject

from supervise.errors import (
    AbnormalTermination,
    AlreadyStarted,
    BadName,
    NoFile,
    NotRunning,
    SpawnFailed,
)
from supervise.events.bus import CallbackListener
from supervise.events.types import Event, ProcessStateStarting
from supervise.interfaces import ISupervisorControl
from supervise.results import ProcessResult, Target, WaitTimedOut
from supervise.states import ProcessState
from tests.control.conftest import Core, running

TWO = """
[program:web]
command = /bin/sleep 100
autostart = false
startsecs = 2

[program:db]
command = /bin/sleep 100
autostart = false
startsecs = 1
"""

GROUPED = """
[program:worker]
command = /bin/sleep 100
process_name = %(program_name)s_%(process_num)d
numprocs = 2
autostart = false
startsecs = 1
"""


def result_of(d: Deferred[object]) -> object:
    """What ``d`` fired with (a Failure when it failed); AssertionError if it has not."""
    box: list[object] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    return box[0]


def test_control_provides_the_interface(core: Core) -> None:
    """SupervisorControl provides every name ISupervisorControl declares."""
    assert verifyObject(ISupervisorControl, core.start(TWO))


def test_start_wait_fires_when_running(core: Core) -> None:
    """start(wait) fires True once the process is RUNNING after startsecs, not before."""
    control = core.start(TWO)
    started = control.start("web")
    core.harness.clock.advance(1.9)
    assert not started.called
    core.harness.clock.advance(0.1)
    assert result_of(started) is True
    assert core.state("web") is ProcessState.RUNNING


def test_start_wait_fails_when_the_child_dies_early(core: Core) -> None:
    """A child dying before startsecs fails start(wait) with SpawnFailed, as supervisord's
    SPAWN_ERROR ("Exited too quickly" is its spawnerr)."""
    control = core.start(TWO)
    started = control.start("web")
    core.harness.clock.advance(1)
    core.child("web").exit(1)
    core.harness.clock.advance(0)
    failure = result_of(started)
    assert isinstance(failure, Failure) and failure.check(SpawnFailed)
    assert failure.value.detail == "web"
    assert core.control.snapshot("web").spawnerr.startswith("Exited too quickly")


def test_start_wait_fails_when_stopped_while_starting(core: Core) -> None:
    """A process stopped while a start waits fails that start with AbnormalTermination."""
    control = core.start(TWO)
    started = control.start("web")
    core.harness.clock.advance(1)
    control.stop("web", wait=False)
    core.harness.clock.advance(0)
    failure = result_of(started)
    assert isinstance(failure, Failure) and failure.check(AbnormalTermination)
    assert failure.value.detail == "web"


def test_start_refuses_a_failed_spawn(core: Core) -> None:
    """A spawn failing at once is SpawnFailed (supervisord's SPAWN_ERROR), the process BACKOFF."""
    control = core.start(TWO)
    core.harness.spawner.fail_next = OSError(12, "Cannot allocate memory")
    with pytest.raises(SpawnFailed):
        control.start("web")
    assert core.state("web") is ProcessState.BACKOFF


def test_start_reaches_fatal_after_its_retries(core: Core) -> None:
    """A process that keeps dying ends FATAL, and a start of it then works again."""
    control = core.start(TWO)
    control.start("db", wait=False)
    for _ in range(4):  # the first start and startretries=3 retries
        core.harness.clock.advance(0.5)
        core.child("db").exit(1)
        core.harness.clock.advance(10)
    assert core.state("db") is ProcessState.FATAL
    started = control.start("db")
    core.harness.clock.advance(1)
    assert result_of(started) is True


def test_start_twice_is_already_started(core: Core) -> None:
    """Starting a starting process is AlreadyStarted with its name."""
    control = core.start(TWO)
    control.start("web", wait=False)
    with pytest.raises(AlreadyStarted):
        control.start("web")


def test_stop_wait_fires_once_stopped(core: Core) -> None:
    """stop(wait) fires once the child has exited, not when the signal is sent."""
    control = core.start(TWO)
    control.start("db", wait=False)
    core.harness.clock.advance(1)
    core.harness.spawner.last.dies_on_signal = False
    stopped = control.stop("db")
    core.harness.clock.advance(0)
    assert not stopped.called
    core.child("db").exit(0)
    core.harness.clock.advance(0)
    assert result_of(stopped) is True
    assert core.state("db") is ProcessState.STOPPED


def test_stop_of_a_stopped_process_is_not_running(core: Core) -> None:
    """Stopping a stopped process is NotRunning."""
    control = core.start(TWO)
    with pytest.raises(NotRunning):
        control.stop("web")


def test_group_start_answers_each_process(core: Core) -> None:
    """start_group answers one result per process, an error for the one that failed."""
    control = core.start(GROUPED)
    core.harness.spawner.fail_next = OSError(12, "Cannot allocate memory")
    results = control.start_group("worker")
    core.harness.clock.advance(1)
    answer = result_of(results)
    assert isinstance(answer, list)
    by_name = {r.name: r for r in answer}
    assert set(by_name) == {"worker_0", "worker_1"}
    assert isinstance(by_name["worker_0"].error, SpawnFailed)
    assert by_name["worker_1"] == ProcessResult("worker_1", "worker")


def test_resolve_names_one_process_or_a_group(core: Core) -> None:
    """resolve gives one namespec for a process name, the group's in start order for g:*."""
    control = core.start(GROUPED + TWO)
    assert control.resolve("web") == Target("web", ("web",))
    assert control.resolve("worker:worker_1") == Target("worker", ("worker:worker_1",))
    assert control.resolve("worker:*") == Target(
        "worker", ("worker:worker_0", "worker:worker_1"), True
    )
    for bad in ("nosuch", "nosuch:*", "worker:nosuch"):
        with pytest.raises(BadName) as raised:
            control.resolve(bad)
        assert raised.value.detail == bad


def test_when_fires_after_the_transition(core: Core) -> None:
    """when() decides at the state event but fires on a later reactor turn."""
    control = core.start(TWO)
    control.start("db", wait=False)
    core.harness.clock.advance(1)
    exited = control.when(["db"], lambda s: s.state is ProcessState.EXITED)
    core.child("db").exit(3)  # the transition runs here, synchronously
    assert not exited.called
    core.harness.clock.advance(0)
    (snapshot,) = result_of(exited)  # type: ignore[misc]
    assert (snapshot.state, snapshot.exitstatus) == (ProcessState.EXITED, 3)


def test_when_waits_for_every_process(core: Core) -> None:
    """when() over several processes fires only once all satisfy the predicate."""
    control = core.start(GROUPED)
    control.start_group("worker", wait=False)
    both = control.when(["worker:worker_0", "worker:worker_1"], running)
    core.child("worker:worker_0").exit(1)  # back off: worker_0 is late
    core.harness.clock.advance(1)
    assert not both.called
    core.harness.clock.advance(1)
    assert [s.state for s in result_of(both)] == [ProcessState.RUNNING] * 2  # type: ignore[union-attr]


def test_when_times_out_naming_the_missing(core: Core) -> None:
    """when() fails with WaitTimedOut after its timeout, naming the processes not there."""
    control = core.start(TWO)
    waiting = control.when(["web", "db"], running, timeout=5)
    core.harness.clock.advance(4.9)
    assert not waiting.called
    core.harness.clock.advance(0.1)
    failure = result_of(waiting)
    assert isinstance(failure, Failure) and failure.check(WaitTimedOut)
    assert failure.value.missing == ("web", "db")


def test_when_already_true_still_fires_a_turn_later(core: Core) -> None:
    """when() on a condition already met fires on the next turn, not synchronously."""
    control = core.start(TWO)
    waiting = control.when(["web"], lambda s: s.state is ProcessState.STOPPED)
    assert not waiting.called
    core.harness.clock.advance(0)
    assert waiting.called


def test_cancelled_wait_is_forgotten(core: Core) -> None:
    """Cancelling a wait drops it and its timer: nothing fires later."""
    control = core.start(TWO)
    waiting = control.when(["web"], running, timeout=5)
    waiting.cancel()
    assert isinstance(result_of(waiting), Failure)
    assert control._waiters.pending == 0
    assert core.harness.clock.getDelayedCalls() == []


def test_start_waits_for_dependencies(core: Core) -> None:
    """start(x) with depends_on starts the dependency first and x once it is RUNNING."""
    control = core.start(TWO.replace("startsecs = 2", "startsecs = 2\ndepends_on = db"))
    started = control.start("web")
    assert core.state("db") is ProcessState.STARTING
    assert core.state("web") is ProcessState.STOPPED
    core.harness.clock.advance(1)
    assert core.state("web") is ProcessState.STARTING
    core.harness.clock.advance(2)
    assert result_of(started) is True


def test_logs_are_read_tailed_and_followed(core: Core) -> None:
    """Output reaches read_log, tail_log and a follower (backlog first); clear_log empties it."""
    control = core.start(TWO)
    control.start("web", wait=False)
    core.child("web").write("stdout", b"hello\n")
    seen: list[bytes] = []
    unfollow = control.follow_log("web", "stdout", seen.append, backlog=3)
    core.child("web").write("stdout", b"world\n")
    unfollow()
    core.child("web").write("stdout", b"unseen\n")
    assert seen == [b"lo\n", b"world\n"]
    assert control.read_log("web", "stdout", 0, 0) == b"hello\nworld\nunseen\n"
    assert control.tail_log("web", "stdout", 0, 7) == (b"unseen\n", 19, True)
    control.clear_log("web")
    assert control.read_log("web", "stdout", 0, 0) == b""


def test_reading_a_missing_log_is_no_file(core: Core) -> None:
    """A channel logging nowhere answers NoFile, as supervisord's NO_FILE."""
    control = core.start(TWO.replace("startsecs = 2", "startsecs = 2\nstderr_logfile = NONE"))
    with pytest.raises(NoFile):
        control.read_log("web", "stderr", 0, 0)
    with pytest.raises(NoFile):
        control.follow_log("web", "stderr", lambda data: None)


def test_send_stdin_and_signals(core: Core) -> None:
    """stdin and signals reach a running child; a stopped one is NotRunning."""
    control = core.start(GROUPED)
    with pytest.raises(NotRunning):
        control.send_stdin("worker:worker_0", b"x")
    control.start("worker:worker_0", wait=False)
    control.send_stdin("worker:worker_0", b"hi\n")
    child = core.child("worker:worker_0")
    child.dies_on_signal = False
    results = control.signal_group("worker", signal.SIGHUP)
    assert bytes(child.stdin) == b"hi\n"
    assert child.signals == [(signal.SIGHUP, False)]
    assert results == [ProcessResult("worker_0", "worker")]  # worker_1 is not signallable


def test_remove_and_add_group(core: Core) -> None:
    """A stopped group can be removed and added back; BadName for one not configured."""
    control = core.start(TWO)
    control.remove_group("web")
    assert control.group_names() == ["db"]
    control.add_group("web")
    assert sorted(control.group_names()) == ["db", "web"]
    with pytest.raises(BadName):
        control.add_group("nosuch")


def test_update_restarts_a_changed_group(core: Core) -> None:
    """update() stops and replaces a changed group and adds a new one."""
    control = core.start(TWO)
    control.start("db", wait=False)
    core.harness.clock.advance(1)
    model = core.write(TWO.replace("/bin/sleep 100", "/bin/sleep 200") + GROUPED)
    updating = control.update(model)
    for _ in range(10):  # each group's stop is awaited a reactor turn after it happened
        core.harness.clock.advance(0)
    changes = result_of(updating)
    assert changes.names() == (["worker"], ["db", "web"], [])  # type: ignore[attr-defined]
    assert control.process_config("db").command == "/bin/sleep 200"


def test_unknown_cancel_error_is_cancelled(core: Core) -> None:
    """A cancelled start(wait) fails with CancelledError and leaves the process starting."""
    control = core.start(TWO)
    started = control.start("web")
    started.cancel()
    failure = result_of(started)
    assert isinstance(failure, Failure) and failure.check(CancelledError)
    assert core.state("web") is ProcessState.STARTING


def test_when_judges_the_state_an_event_reports(core: Core) -> None:
    """A state event delivered late (published while the bus delivered another) is judged
    by the state it reports, not by the newer one the process is already in."""

    def start_fast_with_web(event: Event) -> None:
        # Subscribed before the control: "fast" goes STARTING then RUNNING (startsecs=0)
        # while the bus still delivers web's event, so its own events are queued.
        if isinstance(event, ProcessStateStarting) and event.process == "web":
            core.control.start("fast", wait=False)

    core.harness.bus.subscribe(CallbackListener("starter", (Event,), start_fast_with_web))
    control = core.start(
        TWO + "\n[program:fast]\ncommand = /bin/sleep 1\nautostart = false\nstartsecs = 0\n"
    )
    starting = control.when(["fast"], lambda s: s.state is ProcessState.STARTING)
    control.start("web", wait=False)
    core.harness.clock.advance(0)
    assert core.state("fast") is ProcessState.RUNNING
    assert [s.state for s in result_of(starting)] == [ProcessState.STARTING]  # type: ignore[union-attr]


def test_reread_stays_pending_until_forgotten(core: Core) -> None:
    """After reread the configuration read is the latest (add_group takes groups from it);
    setting ``pending`` to None, as the daemon's reload does, goes back to the running one."""
    control = core.start(TWO)
    core.write(TWO + GROUPED)
    assert control.reread().names() == (["worker"], [], [])
    assert control.latest_config().group("worker") is not None
    control.pending = None
    assert control.latest_config() is control.active_config()
    with pytest.raises(BadName):
        control.add_group("worker")
