"""Rolling pushes, plans, placement with failover and drains: three real nodes, real Redis."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.redis_server import RedisServer
from tests.e2e.test_cluster import DEFS, Node, definitions, nodes, redis, supervisectl

pytestmark = pytest.mark.e2e
__all__ = ["nodes", "redis"]  # the fixtures


def command_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def applied(node: Node, via: Node) -> int:
    listed = json.loads(supervisectl(via, "--json", "cluster", "nodes").stdout)
    return next(n["applied"] for n in listed if n["name"] == node.name)


def pids(node: Node) -> dict[str, int]:
    return {
        f"{i['group']}:{i['name']}": i["pid"]
        for i in node.rpc().supervisor.getAllProcessInfo()
        if i["statename"] == "RUNNING"
    }


def rollout(redis: RedisServer) -> dict[str, object]:
    record: dict[str, object] = json.loads(redis.cli("HGET", "{sv}:rollout", "record"))
    return record


HEALTHY = """
[program:api]
command = sleep 3600
startsecs = 0
healthcheck = command:true
healthcheck_interval = 1
healthcheck_retries = 1
placement = *
"""


def test_a_canary_that_fails_its_health_check_halts_and_reverts(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS, sync_api

    port = free_port()
    nodes[0].extra = "console = true"
    nodes[0].begin(labels="web", local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
    for node in nodes[1:]:
        node.begin(labels="web")
    first = supervisectl(nodes[0], "cluster", "push", str(definitions(tmp_path, HEALTHY)))
    assert first.returncode == 0, first.stdout
    for node in nodes:
        wait_until(lambda node=node: "api:api" in pids(node))
    before = {node.name: pids(node)["api:api"] for node in nodes}
    bad = HEALTHY.replace("sleep 3600", "sleep 3700").replace("command:true", "command:false")
    with ExitStack() as stack:
        page = None
        if os.path.exists(CHROMIUM):  # the cluster page, open before the push, follows it
            playwright = stack.enter_context(sync_api.sync_playwright())
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            stack.callback(browser.close)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/cluster/")
            page.wait_for_selector(".groupbody[data-group='n3'] .health-up")
            page.evaluate("window.loadedOnce = true")
        pushed = supervisectl(
            nodes[0], "cluster", "push", str(definitions(tmp_path, bad)), "--rolling",
            "--canary", "1", "--min-healthy", "5", "--deadline", "60", "--auto-revert", "--wait",
            timeout=90,
        )  # fmt: skip
        if page is not None:
            page.wait_for_function(
                "document.querySelector('#cluster-status').textContent.includes('reverted by')"
            )
            shown = page.locator("#cluster-status").inner_text()
            assert "rollout of revision 2 (from 1): reverted" in shown
            assert "halted: n1: api's health check is failing" in shown
            assert page.evaluate("window.loadedOnce") is True
    assert pushed.returncode == 1, pushed.stdout + pushed.stderr
    assert "health check is failing" in pushed.stdout
    assert "reverted by revision 3" in pushed.stdout
    record = rollout(redis)
    assert record["state"] == "reverted" and record["moved"] == ["n1"]
    # Every node ends on revision 3 (revision 1's sections) running the good command;
    # the nodes after the canary never moved: their process is the one from before.
    for node in nodes:
        wait_until(lambda node=node: applied(node, nodes[0]) == 3)
        wait_until(lambda node=node: "api:api" in pids(node))
        assert command_of(pids(node)["api:api"]) == "sleep 3600"
    assert pids(nodes[1])["api:api"] == before["n2"]
    assert pids(nodes[2])["api:api"] == before["n3"]
    status = supervisectl(nodes[0], "cluster", "status").stdout
    assert "rollout of revision 2 (from 1): reverted" in status
    assert "halted: n1: api's health check is failing" in status
    assert "cluster: rollout of revision 2" in "".join(
        (n.tmp / "main.log").read_text() for n in nodes
    )


# Revision 1 is test_cluster's DEFS (api on web, batch on n3, everywhere on *); revision
# 2 changes api, drops batch and adds extra on n1.
CHANGED = DEFS.replace("sleep 3600", "sleep 3700").replace(
    "[program:batch]\ncommand = sleep 3601\nstartsecs = 0\nplacement = n3",
    "[program:extra]\ncommand = sleep 3603\nstartsecs = 0\nplacement = n1",
)


def test_plan_then_a_rolling_push_with_a_canary_at_most_k_at_once(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    for node in nodes:
        node.begin(labels="web")
    assert (
        supervisectl(nodes[0], "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    )
    n1, n2, n3 = nodes
    wait_until(lambda: set(pids(n3)) == {"api:api", "batch:batch", "everywhere:everywhere"})
    wait_until(lambda: set(pids(n1)) == {"api:api", "everywhere:everywhere"})
    wait_until(lambda: set(pids(n2)) == {"api:api", "everywhere:everywhere"})
    before = {node.name: pids(node) for node in nodes}
    changed = definitions(tmp_path, CHANGED)
    plan = supervisectl(n1, "cluster", "plan", str(changed))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "n1: start extra; restart api" in plan.stdout
    assert "n3: restart api; stop batch" in plan.stdout
    planned = {
        p["node"]: p
        for p in json.loads(supervisectl(n1, "--json", "cluster", "plan", str(changed)).stdout)[
            "nodes"
        ]
    }
    assert redis.cli("GET", "{sv}:head") == "1"  # planning changed nothing
    pushed = supervisectl(
        n1, "cluster", "push", str(changed), "--rolling", "--canary", "1", "--max-parallel", "2",
        "--min-healthy", "3", "--wait", timeout=90,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "canary healthy" in pushed.stdout
    # Only the canary (n1, first by name) moved; the others wait for promotion.
    assert applied(n2, n1) == 1 and applied(n3, n1) == 1
    assert pids(n2) == before["n2"]
    promoted = supervisectl(n1, "cluster", "promote")
    assert promoted.returncode == 0, promoted.stdout
    wait_until(lambda: rollout(redis)["state"] == "done", timeout=60)
    for node in nodes:
        wait_until(lambda node=node: applied(node, n1) == 2)
    # What the plan said is what happened, node by node (by pids).
    for node in nodes:
        now, then, plan_here = pids(node), before[node.name], planned[node.name]
        for group in plan_here["restart"]:
            assert now[f"{group}:{group}"] != then[f"{group}:{group}"]
        for group in plan_here["start"]:
            assert f"{group}:{group}" in now and f"{group}:{group}" not in then
        for group in plan_here["stop"]:
            assert f"{group}:{group}" not in now
        untouched = set(then) - {f"{g}:{g}" for g in plan_here["restart"] + plan_here["stop"]}
        assert {k: now[k] for k in untouched} == {k: then[k] for k in untouched}
    # At most K=2 nodes moved at once: the new api processes started no more than two
    # within any min-healthy window (the canary first, then n2 and n3 together).
    starts = sorted(n.info("api")["start"] for n in nodes)
    assert starts[2] - starts[0] >= 3 - 1
    record = rollout(redis)
    assert record["moved"] == ["n1", "n2", "n3"]


def test_when_the_driving_node_dies_another_takes_the_rollout_over(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    for node in nodes:
        node.begin(labels="web")
    n1, n2, n3 = nodes
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    for node in nodes:
        wait_until(lambda node=node: "api:api" in pids(node))
    redis.cli("SET", "{sv}:rollout:driver", "n1", "PX", "60000")  # n1 drives (it renews)
    pushed = supervisectl(
        n1, "cluster", "push", str(definitions(tmp_path, CHANGED)), "--rolling", "--canary",
        "1", "--min-healthy", "1", "--wait", timeout=90,
    )  # fmt: skip
    assert pushed.returncode == 0 and "canary healthy" in pushed.stdout, pushed.stdout
    assert rollout(redis)["driver"] == "n1"
    n1.stop()  # the driver (and canary) goes away; the rollout is not left half-done
    assert supervisectl(n2, "cluster", "promote").returncode == 0
    wait_until(lambda: rollout(redis)["state"] == "done", timeout=60)
    assert rollout(redis)["driver"] in ("n2", "n3")
    for node in (n2, n3):
        wait_until(lambda node=node: applied(node, n2) == 2)
        assert command_of(pids(node)["api:api"]) == "sleep 3700"
