"""count = N placement: the same assignment everywhere, failover, drain, and the lease."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock

from supervise.cluster.placement import PlacementKeeper
from supervise.cluster_store.definitions import placed_on
from supervise.cluster_store.placement import BadPlacement, Candidate, Floating, assign, floating
from supervise.cluster_store.schema import Keys

FLEET = [Candidate("n1", ("web",)), Candidate("n2", ("web",)), Candidate("n3", ("web",))]
SECTIONS = {
    "program:api": "[program:api]\ncommand = sleep 1\ncount = 2\nreschedule_after = 5\n"
    "placement = web\n"
}


def test_copies_spread_one_per_node_and_every_node_computes_the_same() -> None:
    copies = assign("program:api", Floating(2, reschedule_after=5), ["web"], FLEET)
    assert sorted(copies.values()) == [1, 1]
    assert copies == assign("program:api", Floating(2), ["web"], list(reversed(FLEET)))
    assert sorted(assign("program:api", Floating(5, per_node=2), ["web"], FLEET).values()) == [
        1,
        2,
        2,
    ]
    assert sum(assign("program:api", Floating(5, per_node=2), ["web"], FLEET).values()) == 5
    assert sum(assign("program:api", Floating(9, per_node=2), ["web"], FLEET).values()) == 6


def test_a_dead_or_drained_node_loses_only_its_own_copies() -> None:
    before = assign("program:api", Floating(2, reschedule_after=5), ["web"], FLEET)
    holder = sorted(before)[0]
    dead = [Candidate(c.name, c.labels, 6.0 if c.name == holder else 0.0) for c in FLEET]
    after = assign("program:api", Floating(2, reschedule_after=5), ["web"], dead)
    assert holder not in after and len(after) == 2
    assert set(before) - {holder} <= set(after)  # the survivor keeps its copy
    drained = [Candidate(c.name, c.labels, 0.0, c.name == holder) for c in FLEET]
    assert assign("program:api", Floating(2, reschedule_after=5), ["web"], drained) == after
    alive = [Candidate(c.name, c.labels, 4.0) for c in FLEET]
    assert assign("program:api", Floating(2, reschedule_after=5), ["web"], alive) == before


def test_placed_sections_run_copies_as_numprocs_and_drop_placement_options() -> None:
    text = placed_on(SECTIONS, "n1", ["web"], {"program:api": 2})["program:api"]
    assert "numprocs = 2" in text and "process_name = %(program_name)s_%(process_num)d" in text
    assert "count" not in text and "placement" not in text
    assert placed_on(SECTIONS, "n1", ["web"], {"program:api": 0}) == {}
    assert placed_on(SECTIONS, "n1", ["web"]) == {}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"count": "two"}, "option count: invalid literal for int.. with base 10: 'two'"),
        ({"count": "0"}, "option count: '0' must be above zero"),
        ({"per_node": "2"}, "option per_node needs count = N beside it"),
        ({"count": "2", "numprocs": "3"}, "numprocs cannot be combined with count"),
    ],
)
def test_bad_placement_options_are_named(options: dict[str, str], problem: str) -> None:
    with pytest.raises(BadPlacement, match=problem):
        floating(options)


class NoLink:
    up = False

    def execute(self, *args: Any) -> Any:
        raise AssertionError("no Redis in this test")


def test_the_lease_runs_out_without_heartbeats_and_the_copies_stop() -> None:
    clock = Clock()
    changes: list[bool] = []
    keeper = PlacementKeeper("n1", 3.0, NoLink(), Keys(), clock, lambda: changes.append(True))  # type: ignore[arg-type]
    keeper.view = FLEET
    assert keeper.copies(SECTIONS) == {"program:api": 0}  # no heartbeat yet: no copies
    keeper.renewed()
    mine = keeper.copies(SECTIONS)
    clock.advance(2)
    keeper.renewed()  # a heartbeat landed: the lease runs 3 s from now
    clock.advance(2)
    assert keeper.holding and not changes
    clock.advance(1)
    assert not keeper.holding and changes == [True]
    assert keeper.copies(SECTIONS) == {"program:api": 0}
    keeper.renewed()
    assert keeper.copies(SECTIONS) == mine
    keeper.stop()
    assert not clock.getDelayedCalls()
