"""The exits the crash-loop rule counts: only those nobody asked for, only recent ones."""

from __future__ import annotations

from attrs import evolve

from supervise.events.types import (
    ProcessStateBackoff,
    ProcessStateExited,
    ProcessStateStopped,
)
from supervise.states import ProcessState
from supervise.web.crashes import CRASH_LOOP_WINDOW, RecentExits


def test_exits_and_failed_starts_count_requested_stops_do_not() -> None:
    exits = RecentExits()
    running, starting = ProcessState.RUNNING, ProcessState.STARTING
    exits.record(evolve(ProcessStateExited("web", "web", running), when=100.0))
    exits.record(evolve(ProcessStateBackoff("web", "web", starting), when=110.0))
    exits.record(evolve(ProcessStateStopped("web", "web", ProcessState.STOPPING), when=120.0))
    exits.record(evolve(ProcessStateExited("db", "db", running), when=120.0))
    assert exits.recent("web", "web", 130.0) == [100.0, 110.0]
    assert exits.recent("web", "web", 100.0 + CRASH_LOOP_WINDOW + 1) == [110.0]
    assert exits.recent("nosuch", "nosuch", 130.0) == []


def test_memory_per_process_is_bounded() -> None:
    exits = RecentExits()
    for second in range(1000):
        exits.record(evolve(ProcessStateExited("web", "web", ProcessState.RUNNING), when=second))
    assert len(exits.recent("web", "web", 1000.0)) == 10
