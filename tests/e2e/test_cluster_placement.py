"""count = N over three real nodes: failover, drain, and a partition cut by a TCP proxy."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.cluster_store.placement import rank
from supervise.testing import wait_until
from tests.e2e.redis_server import RedisServer
from tests.e2e.tcp_proxy import CuttableProxy
from tests.e2e.test_cluster import Node, definitions, nodes, redis, supervisectl

pytestmark = pytest.mark.e2e
__all__ = ["nodes", "redis"]  # the fixtures


def worker_named(first: str) -> str:
    """A program name whose rendezvous ranking over n1..n3 puts ``first`` on top."""
    for index in range(100):
        name = f"worker{index}"
        if rank(f"program:{name}", ["n1", "n2", "n3"])[0] == first:
            return name
    raise AssertionError("no such name")


def spread(name: str, reschedule_after: float) -> str:
    return (
        f"[program:{name}]\ncommand = sleep 3610\nstartsecs = 0\nstopwaitsecs = 2\n"
        f"placement = *\ncount = 2\nreschedule_after = {reschedule_after:g}\n"
    )


def copies(node: Node, name: str) -> list[int]:
    """The live pids of ``name`` on ``node`` (none when the node is down)."""
    if node.process is None or node.process.poll() is not None:
        return []
    found = [
        i["pid"]
        for i in node.rpc().supervisor.getAllProcessInfo()
        if i["group"] == name and i["pid"]
    ]
    return [pid for pid in found if os.path.exists(f"/proc/{pid}")]


def placement(cluster: list[Node], name: str) -> dict[str, int]:
    return {node.name: len(copies(node, name)) for node in cluster}


@pytest.fixture
def proxy(redis: RedisServer) -> Iterator[CuttableProxy]:
    made = CuttableProxy(redis.port)
    yield made
    made.close()


def test_a_stopped_node_s_copy_moves_and_a_drain_moves_copies_away(
    tmp_path: Path, nodes: list[Node]
) -> None:
    for node in nodes:
        node.begin()
    name = worker_named("n1")
    n1, n2, n3 = nodes
    pushed = supervisectl(n1, "cluster", "push", str(definitions(tmp_path, spread(name, 4))))
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until(lambda: sum(placement(nodes, name).values()) == 2)
    first = placement(nodes, name)
    assert first["n1"] == 1 and max(first.values()) == 1
    # n1 stops: its copy starts on the node that had none, within reschedule_after (4 s)
    # plus a heartbeat (0.5 s) and the start.
    spare = next(n for n in nodes if first[n.name] == 0)
    stopped = time.monotonic()
    n1.stop()
    wait_until(lambda: len(copies(spare, name)) == 1, timeout=4 + 0.5 + 10)
    moved_after = time.monotonic() - stopped
    assert moved_after >= 4 - 0.5  # not before n1's heartbeat was 4 s old
    assert placement([n2, n3], name) == {"n2": 1, "n3": 1}
    # Drain n2: its copy goes; with n1 down only n3 is left, so one copy runs.
    drained = supervisectl(n3, "cluster", "drain", "n2")
    assert drained.returncode == 0 and "n2: drained" in drained.stdout
    assert "labels -  drained" in supervisectl(n3, "cluster", "nodes").stdout
    wait_until(lambda: placement([n2, n3], name) == {"n2": 0, "n3": 1})
    assert supervisectl(n3, "cluster", "drain", "n9").returncode == 1
    # n1 comes back and takes its copy again; undrain n2 and it runs one instead of n3.
    n1.start(None)
    assert supervisectl(n3, "cluster", "undrain", "n2").returncode == 0
    wait_until(lambda: placement(nodes, name) == first)


def test_a_partitioned_node_stops_its_copy_before_others_start_it(
    tmp_path: Path, nodes: list[Node], proxy: CuttableProxy
) -> None:
    n1 = nodes[0]
    n1.redis_line = f"redis = {proxy.url}"
    for node in nodes:
        node.begin()
    name = worker_named("n1")
    # reschedule_after (6 s) above the nodes' lease (unreachable_after, 3 s).
    pushed = supervisectl(nodes[1], "cluster", "push", str(definitions(tmp_path, spread(name, 6))))
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until(lambda: sum(placement(nodes, name).values()) == 2)
    assert placement(nodes, name)["n1"] == 1
    cut = time.monotonic()
    proxy.cut()
    samples: list[tuple[float, dict[str, int]]] = []

    def moved() -> bool:
        seen = placement(nodes, name)
        samples.append((time.monotonic() - cut, seen))
        return seen == {"n1": 0, "n2": 1, "n3": 1}

    wait_until(moved, timeout=30)
    # Checked by pids on every node, all along: never more than two copies.
    assert all(sum(seen.values()) <= 2 for _, seen in samples), samples
    stopped_at = next(t for t, seen in samples if seen["n1"] == 0)
    assert stopped_at <= 3 + 2 + 1  # the lease, the stop, a sample
    assert "stopping this node's copies of count = definitions" in (n1.tmp / "main.log").read_text()
    # The partition heals: n1 takes its copy back and the stand-in stops its own.
    proxy.heal()
    wait_until(lambda: placement(nodes, name)["n1"] == 1, timeout=30)
    wait_until(lambda: sum(placement(nodes, name).values()) == 2)
