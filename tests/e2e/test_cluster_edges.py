"""Cluster mode's rough edges, fixed (issue 19 item 1): a real redis-server, three nodes,
supervisectl and headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.conftest import ROOT, tool
from tests.e2e.redis_server import RedisServer
from tests.e2e.test_cluster import Node, definitions

pytestmark = pytest.mark.e2e

GREETER = """
[program:greeter]
command = sh -c 'echo hello from %(ENV_GREETING)s; exec sleep 3600'
directory = %(here)s
startsecs = 0
placement = *
"""


def ctl(node: Node, *args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """supervisectl with variables of the pushing machine's environment left out."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [tool("supervisectl"), "-c", str(node.conf), *args],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


@pytest.fixture
def three(tmp_path: Path, redis: RedisServer) -> Iterator[tuple[Node, Node, Node, int]]:
    port = free_port()
    n1 = Node(tmp_path / "n1", "n1", redis, extra="console = true")
    n2, n3 = Node(tmp_path / "n2", "n2", redis), Node(tmp_path / "n3", "n3", redis)
    n1.extra_environ["GREETING"] = "the-first-node"
    n2.extra_environ["GREETING"] = "the-second-node"
    n3.extra_environ.pop("GREETING", None)
    os.environ.pop("GREETING", None)
    try:
        n1.begin(labels="web", local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
        n2.begin(labels="web")
        n3.begin()
        yield n1, n2, n3, port
    finally:
        for node in (n1, n2, n3):
            node.close()


def out_log(node: Node, name: str) -> str:
    found = list(node.tmp.glob(f"{name}-stdout*.log"))
    return found[0].read_text() if found else ""


def test_each_node_expands_the_environment_for_itself_and_reports_what_it_lacks(
    tmp_path: Path, three: tuple[Node, Node, Node, int]
) -> None:
    n1, n2, n3, _port = three
    # The pushing machine has no GREETING: the push checks syntax only.
    pushed = ctl(
        n1, "cluster", "push", str(definitions(tmp_path, GREETER)), drop=("GREETING", "USER")
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    wait_until(lambda: "hello from the-first-node" in out_log(n1, "greeter"))
    wait_until(lambda: "hello from the-second-node" in out_log(n2, "greeter"))
    # %(here)s is the folder of each node's own configuration file.
    pid = int(n2.info("greeter")["pid"])
    assert os.readlink(f"/proc/{pid}/cwd") == str(n2.tmp)
    # n3 lacks the variable: it refuses revision 1 itself, naming only what is missing.
    wait_until(lambda: "refused" in ctl(n1, "cluster", "status", "n3").stdout)
    status = ctl(n1, "cluster", "status", "n3")
    refusal = next(line for line in status.stdout.splitlines() if "refused" in line)
    assert "the environment variable GREETING is not set" in refusal
    assert "cluster revision 1" in refusal and len(refusal) < 400
    assert "greeter" not in n3.names()
    # Options anywhere on the line; an unknown node is an error.
    as_json = ctl(n1, "cluster", "status", "--json")
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    assert set(json.loads(as_json.stdout)) == {"n1", "n2", "n3"}
    assert json.loads(ctl(n1, "--json", "cluster", "status").stdout).keys() == {"n1", "n2", "n3"}
    for words in (("cluster", "status", "nosuch"), ("--node", "nosuch", "status")):
        unknown = ctl(n1, *words)
        assert unknown.returncode == 1
        assert "no node named nosuch (known: n1, n2, n3)" in unknown.stdout
    rows = json.loads(ctl(n1, "--node", "n2", "status", "--json").stdout)
    assert [row["name"] for row in rows] == ["greeter"]


def test_redis_outage_shows_live_on_the_pages_and_numbering_survives_an_empty_restart(
    tmp_path: Path, three: tuple[Node, Node, Node, int], redis: RedisServer
) -> None:
    from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS, sync_api

    n1, n2, n3, port = three
    defs = definitions(tmp_path, GREETER.replace("%(ENV_GREETING)s", "everyone"))
    assert ctl(n1, "cluster", "push", str(defs)).returncode == 0
    wait_until(lambda: all("greeter" in node.names() for node in (n1, n2, n3)))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(bypass_csp=True)
        node_page = context.new_page()
        node_page.goto(f"http://127.0.0.1:{port}/")
        node_page.wait_for_function(
            "document.querySelector('#cluster-status').textContent.includes('revision 1')"
        )
        cluster_page = context.new_page()
        cluster_page.goto(f"http://127.0.0.1:{port}/cluster/")
        cluster_page.wait_for_function(
            "document.querySelector('#daemon-state').textContent === '3 of 3 nodes up'"
        )
        # Redis goes away (and comes back empty): both open pages say so, without a reload.
        redis.stop(save=False)
        node_page.wait_for_function(
            "document.querySelector('#cluster-status').textContent.includes('Redis unreachable')"
        )
        cluster_page.wait_for_function(
            "document.querySelector('#daemon-state').textContent.startsWith('Redis unreachable')"
        )
        link = cluster_page.locator("#link").inner_text()
        assert "Redis unreachable" in link and "live" not in link
        assert (
            "unknown while Redis is unreachable"
            in cluster_page.locator(".groupbody[data-group='n2'] .health").inner_text()
        )
        redis.start()
        node_page.wait_for_function(
            "!document.querySelector('#cluster-status').textContent.includes('unreachable')"
        )
        cluster_page.wait_for_function(
            "document.querySelector('#daemon-state').textContent === '3 of 3 nodes up'"
        )
        assert cluster_page.locator("#link").inner_text() == "live"
        browser.close()
    # One line per outage and one on return, though n1 holds two links (node and console).
    main_log = (n1.tmp / "main.log").read_text()
    assert main_log.count("is unreachable") == 1 and main_log.count("Redis is back") == 1
    # The empty Redis has no history: the next push continues after what the nodes run.
    wait_until(lambda: redis.cli("HGET", "sv:node:n3", "applied") == "1")
    again = ctl(n1, "cluster", "push", str(defs.with_name("defs.conf")), "-m", "after the loss")
    assert again.returncode == 0 and "revision 2:" in again.stdout, again.stdout
    wait_until(lambda: "revision 2" in ctl(n1, "cluster", "nodes").stdout)
    nodes = ctl(n1, "--json", "cluster", "nodes")
    assert [node["applied"] for node in json.loads(nodes.stdout)] == [2, 2, 2]
    assert all(not node["refused"] for node in json.loads(nodes.stdout))
