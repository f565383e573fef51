"""The rolling push's decisions, tick by tick, on Redis-clock milliseconds."""

from __future__ import annotations

from typing import Any

from supervise.cluster_store.rollout import NodeSeen, NodeStep, Rollout, decide, target_revision


def make(**options: Any) -> Rollout:
    order = options.pop("order", ["n1", "n2", "n3"])
    rollout = Rollout(
        revision=options.pop("revision", 2),
        base=1,
        order=order,
        changes={n: ["api"] for n in order},
        min_healthy=options.pop("min_healthy", 5.0),
        deadline=options.pop("deadline", 60.0),
        **options,
    )
    rollout.steps = {n: NodeStep() for n in order}
    return rollout


def running(applied: int = 2, **row: Any) -> NodeSeen:
    return NodeSeen(
        True, applied, "", [{"group": "api", "namespec": "api", "state": "RUNNING", **row}]
    )


def test_nodes_move_k_at_a_time_each_after_min_healthy() -> None:
    rollout = make(max_parallel=2)
    assert decide(rollout, {}, 0).move == ("n1", "n2")
    assert target_revision(2, rollout, "n1") == 2 and target_revision(2, rollout, "n3") == 1
    seen = {"n1": running(), "n2": running()}
    assert decide(rollout, seen, 1000).move == ()  # healthy from now on
    assert decide(rollout, seen, 5999).move == ()  # not yet min_healthy
    assert decide(rollout, seen, 6000).move == ("n3",)  # both done: a slot is free
    seen["n3"] = running()
    decide(rollout, seen, 6100)
    decide(rollout, seen, 11_000)
    assert rollout.state == "rolling"
    decide(rollout, seen, 11_100)
    assert rollout.state == "done" and target_revision(2, rollout, "n3") == 2


def test_a_canary_waits_for_promote_and_abort_reverts() -> None:
    rollout = make(canary=1, max_parallel=3, min_healthy=0.0)
    assert decide(rollout, {}, 0).move == ("n1",)
    decide(rollout, {"n1": running()}, 10)
    decide(rollout, {"n1": running()}, 20)
    decide(rollout, {"n1": running()}, 30)
    assert rollout.state == "canary" and "cluster promote" in rollout.summary()
    assert decide(rollout, {}, 40).move == ()
    assert decide(rollout, {}, 50, ["promote"]).move == ("n2", "n3")
    decision = decide(rollout, {}, 60, ["abort"])
    assert decision.revert and rollout.state == "aborted"
    assert target_revision(2, rollout, "n3") == 2  # the revert's push decides from now on


def test_a_failing_check_halts_and_asks_for_the_revert() -> None:
    rollout = make(auto_revert=True)
    decide(rollout, {}, 0)
    decision = decide(rollout, {"n1": running(health_failed=1)}, 100)
    assert decision.revert and rollout.state == "halted"
    assert rollout.reason == "halted: n1: api's health check is failing"
    assert target_revision(2, rollout, "n2") == 1  # halted: the rest stay on the base


def test_fatal_refusal_restart_and_deadline_halt_without_revert_unless_asked() -> None:
    for seen, why in (
        (running(state="FATAL"), "n1: api is FATAL"),
        (running(restarts=1), "n1: api exited and was restarted"),
        (NodeSeen(True, 1, "revision 2, [program:api] option user: …"), "refused revision 2"),
    ):
        rollout = make()
        decide(rollout, {}, 0)
        assert not decide(rollout, {"n1": seen}, 100).revert
        assert rollout.state == "halted" and why in rollout.reason
    rollout = make(deadline=10.0)
    decide(rollout, {}, 0)
    decide(rollout, {"n1": running(applied=1)}, 9_999)
    assert rollout.state == "rolling"
    decide(rollout, {"n1": running(applied=1)}, 10_000)
    assert rollout.state == "halted"
    assert "not healthy within the deadline of 10 s (n1 has not applied revision 2 yet)" in (
        rollout.reason
    )


def test_a_node_that_falls_ill_while_healthy_starts_its_wait_again() -> None:
    rollout = make(min_healthy=5.0)
    decide(rollout, {}, 0)
    decide(rollout, {"n1": running()}, 1000)
    decide(rollout, {"n1": running(state="STARTING")}, 2000)
    decide(rollout, {"n1": running()}, 3000)
    decide(rollout, {"n1": running()}, 7000)
    assert rollout.step("n1").phase == "healthy"  # 4 s since it was well again
    decide(rollout, {"n1": running()}, 8000)
    assert rollout.step("n1").phase == "done"


def test_the_record_survives_a_round_trip_and_other_pushes_supersede_it() -> None:
    rollout = make(canary=1)
    decide(rollout, {}, 0)
    again = Rollout.from_dict(rollout.as_dict())
    assert again == rollout
    assert target_revision(3, rollout, "n2") == 3  # a newer plain push wins
    opening = make(state="opening", revision=0)
    assert target_revision(2, opening, "n2") == 1 and target_revision(1, opening, "n2") == 1
