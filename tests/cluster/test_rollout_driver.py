"""The rollout driver on a Clock: the lease, moves, takeover when its node dies, the revert.

A small in-memory stand-in answers the Redis commands the driver sends; time is the
Clock's (Redis's TIME is the Clock in milliseconds).
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.task import Clock

from supervise.cluster.rollout_driver import LEASE_MS, TICK, RolloutDriver
from supervise.cluster_store import fleet
from supervise.cluster_store.admin import LinkCommands
from supervise.cluster_store.fleet import LEAD_SCRIPT
from supervise.cluster_store.rollout import NodeStep, Rollout
from supervise.cluster_store.schema import PUSH_SCRIPT, TIME_SCRIPT, Keys, pairs

KEYS = Keys()


class FakeRedis:
    """Just the commands a driver sends, over dicts; expiry by the Clock."""

    up = True

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.strings: dict[str, tuple[str, float]] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.lists: dict[str, list[str]] = {}
        self.zsets: dict[str, dict[str, float]] = {}

    def ms(self) -> int:
        return int(self.clock.seconds() * 1000)

    def execute(self, *args: Any) -> Deferred[Any]:
        return succeed(self.run(str(args[0]), *[str(a) for a in args[1:]]))

    def get(self, key: str) -> str | None:
        value, until = self.strings.get(key, ("", 0.0))
        return value if key in self.strings and (not until or self.ms() < until) else None

    def run(self, op: str, *a: str) -> Any:
        if op == "EVAL":
            script, count = a[0], int(a[1])
            keys, argv = a[2 : 2 + count], a[2 + count :]
            return self.script(script, keys, argv)
        if op == "GET":
            return self.get(a[0])
        if op == "HGET":
            return self.hashes.get(a[0], {}).get(a[1])
        if op == "HSET":
            self.hashes.setdefault(a[0], {}).update(pairs(list(a[1:])))
            return 1
        if op == "HGETALL":
            return [x for item in self.hashes.get(a[0], {}).items() for x in item]
        if op in ("RPUSH", "XADD"):
            self.lists.setdefault(a[0], []).append(" ".join(a[1:]))
            return 1
        if op == "LPOP":
            taken, self.lists[a[0]] = self.lists.get(a[0], [])[: int(a[1])], []
            return taken or None
        if op == "ZRANGE":
            return [x for name, score in self.zsets.get(a[0], {}).items() for x in (name, score)]
        if op == "ROLE":
            return ["master", 0, []]
        raise AssertionError(f"unexpected command {op}")

    def script(self, script: str, keys: tuple[str, ...], argv: tuple[str, ...]) -> Any:
        if script == TIME_SCRIPT:
            return self.ms()
        if script == LEAD_SCRIPT:
            if self.get(keys[0]) in (None, argv[0]):
                self.strings[keys[0]] = (argv[0], self.ms() + int(argv[1]))
                return 1
            return 0
        if script == PUSH_SCRIPT:
            number = int(self.get(keys[0]) or 0) + 1
            self.strings[keys[0]] = (str(number), 0.0)
            self.hashes[f"{argv[0]}{number}"] = pairs(list(argv[5:]))
            return number
        return int(self.get(keys[0]) or 0)  # e.g. a floor on the head: no change here


def fleet_of(redis: FakeRedis, applied: int) -> None:
    for node in ("n1", "n2", "n3"):
        redis.zsets.setdefault(KEYS.nodes, {})[node] = redis.ms()
        redis.hashes[KEYS.node(node)] = {"applied": str(applied), "unreachable_after": "1000"}
        row = {"group": "api", "name": "api", "namespec": "api", "state": "RUNNING", "restarts": 0}
        redis.hashes[KEYS.state(node)] = {"api": json.dumps(row)}


def start(redis: FakeRedis, **options: Any) -> None:
    redis.strings[KEYS.head] = ("2", 0.0)
    redis.hashes[KEYS.revision(1)] = {"program:api": "[program:api]\ncommand = old\n"}
    rollout = Rollout(
        revision=2,
        base=1,
        order=["n2", "n3"],
        changes={"n2": ["api"], "n3": ["api"]},
        min_healthy=2.0,
        moved=["n1"],
        **options,
    )
    rollout.steps = {n: NodeStep() for n in rollout.order}
    redis.hashes[KEYS.rollout] = {"state": "rolling", "record": json.dumps(rollout.as_dict())}


def record(redis: FakeRedis) -> Rollout:
    found = ensureDeferred(fleet.load_rollout(LinkCommands(redis), KEYS))  # type: ignore[arg-type]
    result: list[Rollout] = []
    found.addCallback(result.append)
    return result[0]


def driver(name: str, redis: FakeRedis, clock: Clock) -> RolloutDriver:
    made = RolloutDriver(name, redis, KEYS, clock, 1000)  # type: ignore[arg-type]
    made.wake()
    return made


def told(redis: FakeRedis, node: str) -> int:
    return sum("op check" in entry for entry in redis.lists.get(KEYS.commands(node), []))


def test_one_node_drives_and_moves_the_next_only_after_min_healthy() -> None:
    clock = Clock()
    redis = FakeRedis(clock)
    fleet_of(redis, applied=1)
    start(redis)
    first, second = driver("n1", redis, clock), driver("n2", redis, clock)
    assert record(redis).driver == "n1" and record(redis).moved == ["n1", "n2"]
    assert told(redis, "n2") == 1 and told(redis, "n3") == 0
    redis.hashes[KEYS.node("n2")]["applied"] = "2"
    clock.advance(TICK)  # healthy from now
    for _ in range(3):
        clock.advance(TICK)
    assert record(redis).moved == ["n1", "n2"]  # 1.5 s healthy: not yet 2
    clock.advance(TICK)
    assert record(redis).moved == ["n1", "n2", "n3"] and told(redis, "n3") == 1
    first.stop()  # n1 dies: n2 takes over once n1's lease has run out
    redis.hashes[KEYS.node("n3")]["applied"] = "2"
    clock.pump([TICK] * int(LEASE_MS / 1000 / TICK))
    assert record(redis).driver == "n2"
    clock.pump([TICK] * 6)
    assert record(redis).state == "done"
    assert told(redis, "n1") >= 1  # everyone checks its revision at the end
    assert not second._loop.running  # nothing left to drive: the ticks stop


def test_a_failing_check_halts_and_the_driver_pushes_the_revert() -> None:
    clock = Clock()
    redis = FakeRedis(clock)
    fleet_of(redis, applied=1)
    start(redis, auto_revert=True)
    only = driver("n1", redis, clock)
    redis.hashes[KEYS.node("n2")]["applied"] = "2"
    failing = {
        "group": "api",
        "name": "api",
        "namespec": "api",
        "state": "RUNNING",
        "health_failed": 1,
    }
    redis.hashes[KEYS.state("n2")] = {"api": json.dumps(failing)}
    clock.advance(TICK)
    done = record(redis)
    assert done.state == "reverted" and done.revert == 3
    assert done.reason == "halted: n2: api's health check is failing"
    assert redis.hashes[KEYS.revision(3)]["program:api"] == "[program:api]\ncommand = old\n"
    assert redis.hashes[KEYS.revision(3)]["_message"].startswith("revert of revision 2 to 1")
    clock.advance(TICK)
    assert not only._loop.running


def test_promote_and_abort_reach_the_driver_through_redis() -> None:
    clock = Clock()
    redis = FakeRedis(clock)
    fleet_of(redis, applied=2)
    start(redis, canary=1)
    driver("n1", redis, clock)
    clock.pump([TICK] * 6)
    assert record(redis).state == "canary" and record(redis).moved == ["n1", "n2"]
    conn = LinkCommands(redis)  # type: ignore[arg-type]
    ensureDeferred(fleet.ask(conn, KEYS, "promote"))
    clock.advance(TICK)
    assert record(redis).moved == ["n1", "n2", "n3"]
    ensureDeferred(fleet.ask(conn, KEYS, "abort"))
    clock.advance(TICK)
    assert record(redis).state == "aborted" and record(redis).revert == 3
