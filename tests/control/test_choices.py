"""Layer 2: disable, enable, scale and schedules through the door, on a fake clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from twisted.internet.defer import Deferred

from supervise.errors import BadArguments, BadName, Disabled, NotScalable
from supervise.events.types import GroupScaled, ScheduleSkipped
from supervise.process.schedule import next_tick
from supervise.states import ProcessState
from tests.control.conftest import Core

WORKERS = """
[program:worker]
command = /bin/sleep 100
process_name = %(program_name)s_%(process_num)02d
numprocs = 2
numprocs_start = 1
startsecs = 0

[program:single]
command = /bin/sleep 100
startsecs = 0
"""

BERLIN = ZoneInfo("Europe/Berlin")


def result_of(d: Deferred[object]) -> object:
    box: list[object] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    return box[0]


def settled(core: Core, d: Deferred[object]) -> object:
    """What ``d`` fired with once the waiters' turns have run (no time passes)."""
    for _ in range(10):
        if d.called:
            break
        core.harness.clock.advance(0)
    return result_of(d)


def epoch(*parts: int, zone: ZoneInfo = BERLIN) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()  # type: ignore[misc]


def names(core: Core) -> list[str]:
    return [s.namespec for s in core.control.snapshots()]


def pids(core: Core) -> dict[str, int]:
    return {s.namespec: s.pid for s in core.control.snapshots()}


# -- scale ---------------------------------------------------------------------------------


def test_scale_up_adds_and_starts_new_processes_leaving_the_others(core: Core) -> None:
    """worker 2 → 4: worker_03 and worker_04 appear and run; worker_01/02 keep their pids."""
    control = core.start(WORKERS)
    core.harness.clock.advance(0)
    before = pids(core)
    result = settled(core, control.scale("worker", 4))
    core.harness.clock.advance(0)
    assert (result.count, result.previous, result.declared) == (4, 2, 2)  # type: ignore[union-attr]
    assert names(core) == ["single", *(f"worker:worker_0{n}" for n in range(1, 5))]
    after = pids(core)
    assert {n: after[n] for n in before} == before
    assert all(s.state is ProcessState.RUNNING for s in control.snapshots())
    assert control.snapshot("worker:worker_04").numprocs == 4
    assert control.snapshot("worker:worker_04").numprocs_declared == 2
    assert any(isinstance(e, GroupScaled) and e.count == 4 for e in core.harness.events)


def test_scale_down_stops_and_removes_the_highest_numbers(core: Core) -> None:
    """worker 4 → 1: 04, 03, 02 stopped and gone; worker_01 untouched."""
    control = core.start(WORKERS)
    settled(core, control.scale("worker", 4))
    core.harness.clock.advance(0)
    keep = control.snapshot("worker:worker_01").pid
    done = control.scale("worker", 1)
    core.harness.clock.advance(0)
    assert result_of(done).count == 1  # type: ignore[union-attr]
    assert names(core) == ["single", "worker:worker_01"]
    assert control.snapshot("worker:worker_01").pid == keep
    assert control.snapshot("worker:worker_01").state is ProcessState.RUNNING


def test_scale_refuses_bad_names_counts_and_unscalable_programs(core: Core) -> None:
    """Unknown → BadName; -1 or 5000 → BadArguments; no %(process_num) → NotScalable."""
    control = core.start(WORKERS)
    with pytest.raises(BadName):
        control.scale("nope", 2)
    for count in (-1, 5000):
        with pytest.raises(BadArguments, match="0 to 1000"):
            control.scale("worker", count)
    with pytest.raises(NotScalable, match="process_num"):
        control.scale("single", 2)


def test_update_keeps_a_scale_until_numprocs_is_edited(core: Core) -> None:
    """A scaled program is no config change; an edit of numprocs applies the file's number."""
    control = core.start(WORKERS)
    settled(core, control.scale("worker", 3))
    core.harness.clock.advance(0)
    assert control.reread().empty
    core.write(WORKERS.replace("numprocs = 2", "numprocs = 5"))
    assert control.reread().names() == ([], ["worker"], [])
    assert control.pending is not None
    settled(core, control.update(control.pending))
    assert len([n for n in names(core) if n.startswith("worker:")]) == 5


# -- disable / enable --------------------------------------------------------------------


def test_disable_stops_and_refuses_every_start_until_enabled(core: Core) -> None:
    """A disabled process is stopped; start is Disabled; start all passes it by."""
    control = core.start(WORKERS)
    core.harness.clock.advance(0)
    assert settled(core, control.disable("single")) == ["single"]
    core.harness.clock.advance(0)
    assert control.snapshot("single").state is ProcessState.STOPPED
    assert control.snapshot("single").disabled
    with pytest.raises(Disabled, match="single is disabled"):
        control.start("single")
    settled(core, control.start_all())
    core.harness.clock.advance(0)
    assert control.snapshot("single").state is ProcessState.STOPPED
    control.enable("single")
    assert not control.snapshot("single").disabled
    settled(core, control.start("single"))
    assert control.snapshot("single").state is ProcessState.RUNNING


def test_disabled_stays_disabled_across_a_reload(core: Core) -> None:
    """Supervisor.replace (a reload) builds every process again: still disabled, not started."""
    control = core.start(WORKERS)
    settled(core, control.disable("worker:*"))
    core.harness.clock.advance(0)
    settled(core, Deferred.fromCoroutine(core.supervisor.replace(core.write(WORKERS))))
    core.harness.clock.advance(0)
    for n in ("worker:worker_01", "worker:worker_02"):
        assert control.snapshot(n).disabled
        assert control.snapshot(n).state is ProcessState.STOPPED
    assert control.snapshot("single").state is ProcessState.RUNNING


# -- schedules ------------------------------------------------------------------------------

SCHEDULED = """
[program:job]
command = /bin/sleep 100
schedule = */15 * * * *
schedule_timezone = Europe/Berlin
"""


def test_schedule_starts_on_each_tick_and_skips_one_still_running(core: Core) -> None:
    """Not autostarted; started at :15; the :30 tick finds it running: skipped with an
    event; after it exits, :45 starts it again; its exit is never restarted by policy."""
    core.harness.clock.advance(epoch(2026, 6, 1, 12, 0, 10))
    control = core.start(SCHEDULED)
    assert control.snapshot("job").state is ProcessState.STOPPED
    assert control.snapshot("job").next_run == epoch(2026, 6, 1, 12, 15)
    core.harness.clock.advance(epoch(2026, 6, 1, 12, 15) - core.harness.clock.seconds())
    assert control.snapshot("job").state is ProcessState.RUNNING
    assert control.snapshot("job").next_run == epoch(2026, 6, 1, 12, 30)
    first = control.snapshot("job").pid
    core.harness.clock.advance(15 * 60)
    assert control.snapshot("job").pid == first
    skipped = [e for e in core.harness.events if isinstance(e, ScheduleSkipped)]
    assert [(e.process, e.state, e.pid) for e in skipped] == [("job", "RUNNING", first)]
    core.child("job").exit(1)
    core.harness.clock.advance(60)
    assert control.snapshot("job").state is ProcessState.EXITED
    core.harness.clock.advance(14 * 60)
    assert control.snapshot("job").state is ProcessState.RUNNING
    assert control.snapshot("job").pid != first


def test_a_disabled_schedule_does_not_start(core: Core) -> None:
    """A tick passes a disabled program by."""
    core.harness.clock.advance(epoch(2026, 6, 1, 12, 0, 10))
    control = core.start(SCHEDULED)
    settled(core, control.disable("job"))
    core.harness.clock.advance(20 * 60)
    assert control.snapshot("job").state is ProcessState.STOPPED


def test_next_tick_follows_the_time_zone_and_daylight_saving() -> None:
    """02:30 Berlin daily: in UTC 00:30 in summer; the spring-forward day runs at 03:00
    local; the fall-back day runs once."""
    cron = "30 2 * * *"
    assert next_tick(cron, BERLIN, epoch(2026, 6, 1, 12, 0)) == epoch(2026, 6, 2, 2, 30)
    assert next_tick(cron, ZoneInfo("UTC"), epoch(2026, 6, 1, 12, 0)) == epoch(
        2026, 6, 2, 2, 30, zone=ZoneInfo("UTC")
    )
    spring = next_tick(cron, BERLIN, epoch(2026, 3, 28, 12, 0))
    assert spring == epoch(2026, 3, 29, 3, 0)
    fall = next_tick(cron, BERLIN, epoch(2026, 10, 24, 12, 0))
    after = next_tick(cron, BERLIN, fall)
    assert after - fall == 25 * 3600  # the repeated 02:30 is not a second run


def test_a_grow_during_a_shrink_keeps_and_restarts_the_processes_wanted_again(core: Core) -> None:
    """scale 4 → 1, and back to 4 before the stops finish: nothing is removed, and the
    processes the shrink stopped are started again."""
    control = core.start(WORKERS)
    settled(core, control.scale("worker", 4))
    for child in core.harness.spawner.live():
        child.dies_on_signal = False
    shrinking = control.scale("worker", 1)
    core.harness.clock.advance(0)
    assert not shrinking.called
    growing = control.scale("worker", 4)
    for n in (2, 3, 4):
        core.child(f"worker:worker_0{n}").kill(15)
    assert settled(core, shrinking).count == 1  # type: ignore[union-attr]
    assert settled(core, growing).count == 4  # type: ignore[union-attr]
    core.harness.clock.advance(0)
    assert len(names(core)) == 5
    assert all(s.state is ProcessState.RUNNING for s in control.snapshots())


def test_the_console_row_shows_disabled_scaled_and_next_run(core: Core) -> None:
    """The console's row of a process carries what supervise chose for it."""
    from supervise.rows import process_row

    core.harness.clock.advance(epoch(2026, 6, 1, 12, 0, 10))
    control = core.start(WORKERS + SCHEDULED)
    settled(core, control.scale("worker", 3))
    settled(core, control.disable("single"))
    rows = {
        s.namespec: process_row(s, control.process_config(s.namespec)) for s in control.snapshots()
    }
    assert (
        rows["worker:worker_03"]["numprocs"],
        rows["worker:worker_03"]["numprocs_declared"],
    ) == (3, 2)
    assert rows["single"]["disabled"] is True
    assert (rows["job"]["schedule"], rows["job"]["next_run"]) == (
        "*/15 * * * *",
        epoch(2026, 6, 1, 12, 15),
    )
