"""The audit trail of every door (issue 19 item 5): XML-RPC (supervisorctl), supervisectl,
the node console, the cluster console (as viewer, operator and admin) and
``supervisectl --node``, with a real redis-server, three nodes and headless Chromium."""

from __future__ import annotations

import json
import os
import re
import xmlrpc.client
from pathlib import Path

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.conftest import Daemon
from tests.e2e.redis_server import RedisServer
from tests.e2e.test_api import Client
from tests.e2e.test_cluster import DEFS, Node, definitions, supervisectl
from tests.http.openapi_check import ApiDocument

pytestmark = pytest.mark.e2e


def audit_lines(node: Daemon) -> list[str]:
    return [line for line in (node.tmp / "main.log").read_text().splitlines() if "audit: " in line]


def test_a_plain_daemon_records_each_action_once_and_reads_not_at_all(
    tmp_path: Path, daemon: Daemon
) -> None:
    port = free_port()
    daemon.start(
        f"[inet_http_server]\nport = 127.0.0.1:{port}\n"
        "[program:web]\ncommand = sleep 3600\nstartsecs = 0\n"
    )
    wait_until(lambda: daemon.rpc().supervisor.getProcessInfo("web")["statename"] == "RUNNING")
    # supervisorctl (XML-RPC over the unix socket): who is the peer's uid.
    assert daemon.ctl("stop", "web").returncode == 0
    assert daemon.ctl("status").returncode == 3  # a read: not recorded
    # supervisectl over the same socket; a failing action is recorded with its fault.
    ours = supervisectl(daemon, "start", "web")  # type: ignore[arg-type]
    assert ours.returncode == 0, ours.stdout
    with pytest.raises(xmlrpc.client.Fault):
        daemon.rpc().supervisor.stopProcess("nosuch")
    # The node console over TCP.
    client = Client(port)
    token = client.token("/")
    status, _headers, _body = client.call(
        "POST", "/api/action", {"action": "restart", "names": ["web"]}, x_supervise_token=token
    )
    assert status == 200
    status, _headers, _body = client.call(
        "POST", "/api/action", {"action": "stop", "names": ["web"]}
    )
    assert status == 403
    wait_until(lambda: len(audit_lines(daemon)) == 5)
    lines = audit_lines(daemon)
    me = re.escape(f"uid {os.getuid()} (")
    sock = re.escape(f"from unix socket {daemon.sock}")
    assert re.search(
        me + r".*\) " + sock + r" via xml-rpc: supervisor.stopProcess web on .*: ok$", lines[0]
    )
    assert re.search(
        me + r".*" + sock + r" via supervisectl: supervisor.startProcess web on .*: ok$", lines[1]
    )
    assert "via xml-rpc: supervisor.stopProcess nosuch" in lines[2]
    assert "failed: fault 10 BAD_NAME" in lines[2]
    assert re.search(
        r"audit: anonymous from 127.0.0.1:\d+ via console: restart web on .*: ok$", lines[3]
    )
    assert (
        "via console: stop web on" in lines[4] and "refused: cross-site request refused" in lines[4]
    )
    # Exported as JSON lines, oldest first.
    exported = supervisectl(daemon, "audit", "--json")  # type: ignore[arg-type]
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["door"] for r in records] == [
        "xml-rpc",
        "supervisectl",
        "xml-rpc",
        "console",
        "console",
    ]
    assert records[3]["targets"] == ["web"] and records[3]["result"] == "ok"


def test_the_cluster_trail_holds_every_door_and_only_admins_see_it(
    tmp_path: Path, redis: RedisServer
) -> None:
    from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS, sync_api

    port = free_port()
    users = "console = true\nviewers = vera:look\noperators = otto:act\nadmins = ada:boss"
    n1 = Node(tmp_path / "n1", "n1", redis, users)
    n2, n3 = Node(tmp_path / "n2", "n2", redis), Node(tmp_path / "n3", "n3", redis)
    try:
        n1.begin(labels="web", local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
        n2.begin(labels="web")
        n3.begin(labels="batch")
        assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
        wait_until(lambda: n2.names() == {"api", "everywhere"} and "batch" in n3.names())
        wait_until(lambda: n2.info("api")["statename"] == "RUNNING")
        # supervisectl --node: run by n2, recorded by n2 (and in the cluster's stream).
        assert supervisectl(n1, "--node", "n2", "restart", "api").returncode == 0
        # XML-RPC straight to n3.
        n3.rpc().supervisor.stopProcess("batch")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            url = f"http://127.0.0.1:{port}/cluster/"

            def page_of(user: str, password: str) -> object:
                context = browser.new_context(
                    http_credentials={"username": user, "password": password}, bypass_csp=True
                )
                page = context.new_page()
                page.goto(url)
                page.wait_for_function("document.querySelectorAll('.proc').length >= 5")
                return page

            viewer, operator, admin = (
                page_of("vera", "look"),
                page_of("otto", "act"),
                page_of("ada", "boss"),
            )
            # A viewer's action: 403, recorded as refused.
            token = viewer.evaluate("document.querySelector('meta[name=supervise-token]').content")
            status = viewer.evaluate(
                """token => fetch('api/action', {method: 'POST', headers: {'content-type':
                'application/json', 'x-supervise-token': token}, body: JSON.stringify({action:
                'stop', targets: [{node: 'n2', names: ['api']}]})}).then(r => r.status)""",
                token,
            )
            assert status == 403
            # An operator restarts a process on n2 by clicking.
            operator.get_by_role("button", name="Restart everywhere on n2", exact=True).click()
            # Only the admin sees the trail (the others get 403 for it and no panel).
            assert viewer.locator("#audit").is_hidden() and operator.locator("#audit").is_hidden()
            assert operator.evaluate("fetch('api/audit').then(r => r.status)") == 403
            api = ApiDocument(json.loads(Client(port).call("GET", "/api/openapi.json")[2]))
            for who in ("otto:act", "ada:boss"):
                status, _headers, body = Client(port, who).call(
                    "GET", "/cluster/api/audit?count=50"
                )
                api.answer("/cluster/api/audit", "get", status, json.loads(body))
            admin.wait_for_function(
                "document.querySelectorAll('#audittable tbody tr').length >= 4", timeout=20000
            )
            admin.wait_for_function(
                "document.querySelector('#audittable').textContent.includes('restart everywhere')",
                timeout=20000,
            )
            text = admin.locator("#audittable").inner_text()
            assert "vera" in text and "refused: read-only" in text
            browser.close()
        exported = supervisectl(n1, "cluster", "audit", "--json")
        records = [json.loads(line) for line in exported.stdout.splitlines()]
        doors = [
            (r["node"], r["who"], r["door"], r["action"], r["targets"], r["result"])
            for r in records
        ]
        me = records[0]["who"]
        sections = ["program:api", "program:batch", "program:everywhere"]
        assert doors[:3] == [
            ("*", me, "supervisectl", "cluster push", sections, "ok: revision 1"),
            ("n2", me, "supervisectl", "restart", ["api"], "ok"),
            (
                "n3",
                f"uid {os.getuid()} ({me})",
                "xml-rpc",
                "supervisor.stopProcess",
                ["batch"],
                "ok",
            ),
        ]
        assert (
            "n2",
            "vera",
            "cluster console",
            "stop",
            ["api"],
            "refused: read-only: you are logged in as a viewer",
        ) in doors
        assert ("n2", "otto", "cluster console", "restart", ["everywhere"], "ok") in doors
        console_record = next(r for r in records if r["who"] == "otto")
        assert "through the console on" in console_record["where"]
        # Each record is also one line of the main log of the node where it happened.
        assert any(
            "via cluster console: restart everywhere on n2: ok" in line for line in audit_lines(n2)
        )
        assert any("via supervisectl: restart api on n2: ok" in line for line in audit_lines(n2))
        assert any("refused: read-only" in line for line in audit_lines(n1))
        # Changes made straight in Redis from supervisectl are in the stream too.
        assert supervisectl(n1, "cluster", "drain", "n3").returncode == 0
        assert supervisectl(n1, "cluster", "undrain", "n3").returncode == 0
        latest = supervisectl(n1, "--json", "cluster", "audit", "-n", "2").stdout.splitlines()
        assert [
            (r["node"], r["action"], r["targets"], r["result"]) for r in map(json.loads, latest)
        ] == [
            ("*", "cluster drain", ["n3"], "ok"),
            ("*", "cluster undrain", ["n3"], "ok"),
        ]
        words = supervisectl(n1, "cluster", "audit", "-n", "2")
        assert words.returncode == 0 and len(words.stdout.splitlines()) == 2
    finally:
        for node in (n1, n2, n3):
            node.close()


def test_console_users_reach_xml_rpc_within_their_role(tmp_path: Path, redis: RedisServer) -> None:
    port = free_port()
    users = "console = true\nviewers = vera:look\noperators = otto:act\nadmins = ada:boss"
    node = Node(tmp_path / "n1", "n1", redis, users)
    try:
        node.begin(
            local=f"[inet_http_server]\nport = 127.0.0.1:{port}\nusername = root\npassword = pw\n"
            "[program:web]\ncommand = sleep 3600\nstartsecs = 0\n"
        )

        def rpc(user: str) -> xmlrpc.client.ServerProxy:
            return xmlrpc.client.ServerProxy(f"http://{user}@127.0.0.1:{port}/RPC2")

        viewer, operator, admin = rpc("vera:look"), rpc("otto:act"), rpc("ada:boss")
        assert viewer.supervisor.getProcessInfo("web")["statename"] == "RUNNING"
        with pytest.raises(xmlrpc.client.Fault, match="refused: supervisor.stopProcess is not"):
            viewer.supervisor.stopProcess("web")
        calls = [{"methodName": "supervisor.stopProcess", "params": ["web"]}]
        with pytest.raises(xmlrpc.client.Fault, match="is not for a viewer"):
            viewer.system.multicall(calls)
        assert viewer.supervisor.getProcessInfo("web")["statename"] == "RUNNING"
        assert operator.supervisor.stopProcess("web") is True
        assert operator.supervisor.startProcess("web") is True
        with pytest.raises(
            xmlrpc.client.Fault, match="refused: supervisor.shutdown is not for an? operator"
        ):
            operator.supervisor.shutdown()
        assert admin.supervisor.reloadConfig() == [[[], [], []]]
        lines = audit_lines(node)
        assert re.search(
            r"audit: vera from 127\.0\.0\.1:\d+ via xml-rpc: supervisor\.stopProcess web on n1: "
            r"refused: supervisor\.stopProcess is not for a viewer$",
            lines[0],
        )
        assert [line.split(": ", 2)[1].split(" from ")[0] for line in lines] == [
            "vera", "vera", "otto", "otto", "otto", "ada",
        ]  # fmt: skip
        assert lines[2].endswith("supervisor.stopProcess web on n1: ok")
        assert "supervisor.shutdown * on n1: refused" in lines[4]
    finally:
        node.close()
