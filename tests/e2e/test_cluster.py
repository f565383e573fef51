"""Cluster mode with real parts: Debian's redis-server, nodes as real daemons, supervisectl."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.conftest import ROOT, Daemon, tool
from tests.e2e.conftest import redis as redis  # re-exported: other cluster modules import it
from tests.e2e.redis_server import RedisServer, SentinelSetup, require_redis

pytestmark = pytest.mark.e2e


class Node(Daemon):
    """A daemon that is a cluster node."""

    def __init__(self, folder: Path, name: str, redis: RedisServer, extra: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder)
        self.name = name
        self.redis = redis
        self.extra = extra
        self.redis_line = f"redis = {redis.url}"

    def begin(self, labels: str = "", local: str = "") -> Node:
        lines = [
            "[cluster]",
            self.redis_line,
            f"node = {self.name}",
            f"labels = {labels}",
            "allow_users = root",
            "heartbeat = 0.5",
            "unreachable_after = 3",
            "command_timeout = 3",
            self.extra,
        ]
        self.start("\n".join(lines) + "\n" + textwrap.dedent(local))
        return self

    def info(self, name: str) -> dict[str, object]:
        return dict(self.rpc().supervisor.getProcessInfo(name))

    def names(self) -> set[str]:
        return {i["name"] for i in self.rpc().supervisor.getAllProcessInfo()}


def supervisectl(node: Node, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("supervisectl"), "-c", str(node.conf), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def nodes(tmp_path: Path, redis: RedisServer) -> Iterator[list[Node]]:
    made = [Node(tmp_path / name, name, redis) for name in ("n1", "n2", "n3")]
    yield made
    for node in made:
        node.close()


def definitions(folder: Path, text: str) -> Path:
    path = folder / "defs.conf"
    path.write_text(textwrap.dedent(text))
    return path


DEFS = """
[program:api]
command = sleep 3600
startsecs = 0
placement = web
[program:batch]
command = sleep 3601
startsecs = 0
placement = n3
[program:everywhere]
command = sleep 3602
startsecs = 0
placement = *
"""


def test_push_places_programs_by_node_name_and_label(tmp_path: Path, nodes: list[Node]) -> None:
    n1, n2, n3 = nodes
    n1.begin(labels="web")
    n2.begin(labels="web, eu")
    n3.begin(local="[program:own]\ncommand = sleep 3603\nstartsecs = 0\n")
    pushed = supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS)), "-m", "first")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "revision 1: 3 sections pushed" in pushed.stdout
    wait_until(lambda: n1.names() == {"api", "everywhere"})
    wait_until(lambda: n2.names() == {"api", "everywhere"})
    wait_until(lambda: n3.names() == {"own", "batch", "everywhere"})
    wait_until(lambda: n3.info("batch")["statename"] == "RUNNING")
    listed = supervisectl(n1, "cluster", "nodes")
    for name in ("n1", "n2", "n3"):
        assert f"{name} " in listed.stdout and "revision 1" in listed.stdout
    log = supervisectl(n1, "cluster", "log")
    assert "revision 1" in log.stdout and "first" in log.stdout
    status = supervisectl(n1, "cluster", "status")
    assert "n3               batch" in status.stdout and "RUNNING" in status.stdout
    # A second revision: api changes (restarted), batch goes, the rest is not touched.
    everywhere_pid = n1.info("everywhere")["pid"]
    api_pid = n1.info("api")["pid"]
    changed = DEFS.replace("sleep 3600", "sleep 3700").split("[program:batch]")[0] + (
        "[program:everywhere]\ncommand = sleep 3602\nstartsecs = 0\nplacement = *\n"
    )
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, changed))).returncode == 0
    wait_until(lambda: n3.names() == {"own", "everywhere"})
    wait_until(lambda: n1.info("api")["pid"] not in (0, api_pid))
    assert n1.info("everywhere")["pid"] == everywhere_pid
    diff = supervisectl(n1, "cluster", "diff")
    assert "-command = sleep 3600" in diff.stdout and "+command = sleep 3700" in diff.stdout
    # Roll back to revision 1: batch comes back on n3.
    assert supervisectl(n1, "cluster", "rollback", "1").returncode == 0
    wait_until(lambda: n3.names() == {"own", "batch", "everywhere"})


def test_bad_revisions_are_refused_whole_and_the_old_set_kept(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    n1 = nodes[0].begin(labels="web")
    good = definitions(tmp_path, DEFS)
    assert supervisectl(n1, "cluster", "push", str(good)).returncode == 0
    wait_until(lambda: n1.names() == {"api", "everywhere"})
    # The pusher's own check: same errors as a local config, with file and line.
    bad = definitions(
        tmp_path, DEFS + "[program:broken]\ncommand = true\nstartsecs = ten\nplacement = *\n"
    )
    refused = supervisectl(n1, "cluster", "push", str(bad))
    assert refused.returncode == 2
    assert "startsecs" in refused.stdout and "defs.conf" in refused.stdout
    # A revision that parses but breaks this node's allow-list is refused by the node.
    hostile = DEFS + "[program:evil]\ncommand = sleep 1\nuser = nobody\nplacement = *\n"
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, hostile))).returncode == 0
    wait_until(lambda: "refused" in supervisectl(n1, "cluster", "nodes").stdout)
    listed = supervisectl(n1, "cluster", "nodes").stdout
    assert (
        "revision 2, [program:evil] option user: 'nobody' is not in this node's allow_users"
        in listed
    )
    assert n1.names() == {"api", "everywhere"}
    main_log = (n1.tmp / "main.log").read_text()
    assert "cluster: refused revision 2" in main_log
    # A head older than the revision a node runs (a failover lost writes) is refused too.
    redis.cli("SET", "{sv}:head", "1")
    assert supervisectl(n1, "cluster", "push", str(good)).returncode == 0  # now head 2 again
    redis.cli("SET", "{sv}:head", "0")
    n1.stop()
    n1.start(None)
    wait_until(lambda: "older than revision" in supervisectl(n1, "cluster", "nodes").stdout)
    assert n1.names() == {"api", "everywhere"}
    # A clean stop is no outage: nothing in the log says Redis went away.
    assert "is unreachable" not in (n1.tmp / "main.log").read_text()


def test_node_restarted_while_redis_is_down_runs_its_cached_programs(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    n1 = nodes[0].begin(labels="web")
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    wait_until(lambda: n1.names() == {"api", "everywhere"})
    redis.stop(save=False)
    n1.stop()
    n1.start(None)
    wait_until(lambda: n1.info("api")["statename"] == "RUNNING")
    assert n1.names() == {"api", "everywhere"}


def test_redis_outage_costs_no_program_and_the_node_resynchronises(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    n1 = nodes[0].begin(labels="web")
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    wait_until(lambda: n1.names() == {"api", "everywhere"})
    wait_until(lambda: n1.info("api")["statename"] == "RUNNING")
    pids = {name: n1.info(name)["pid"] for name in ("api", "everywhere")}
    redis.stop(save=True)
    wait_until(lambda: "is unreachable" in (n1.tmp / "main.log").read_text())
    # Meanwhile something happens on the node: Redis will learn it on return.
    n1.rpc().supervisor.stopProcess("everywhere")
    redis.start()
    wait_until(lambda: "Redis is back" in (n1.tmp / "main.log").read_text())
    wait_until(lambda: '"state":"STOPPED"' in redis.cli("HGET", "sv:state:n1", "everywhere"))
    assert n1.info("api")["pid"] == pids["api"]
    assert (n1.tmp / "main.log").read_text().count("is unreachable") == 1


def test_commands_through_redis_and_a_silent_node(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    n1 = nodes[0].begin(labels="web")
    n2 = nodes[1].begin(labels="web")
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    wait_until(lambda: n2.names() == {"api", "everywhere"})
    wait_until(lambda: n2.info("api")["statename"] == "RUNNING")
    before = n2.info("api")["pid"]
    restarted = supervisectl(n1, "--node", "n2", "restart", "api")
    assert restarted.returncode == 0, restarted.stdout
    assert "n2: api: restarted" in restarted.stdout
    assert n2.info("api")["pid"] not in (0, before)
    missing = supervisectl(n1, "--node", "n2", "stop", "nosuch")
    assert missing.returncode == 1 and "nosuch: ERROR (no such process or group)" in missing.stdout
    # A node that dies: shown unreachable within its bound; commands to it fail clearly.
    assert n2.process is not None
    n2.process.send_signal(signal.SIGKILL)
    n2.process.wait(10)
    wait_until(lambda: "UNREACHABLE" in supervisectl(n1, "cluster", "nodes").stdout, timeout=15)
    # Every command aimed at it says so and fails; status never shows stale rows as live.
    for words in (["stop", "api"], ["status"]):
        silent = supervisectl(n1, "--node", "n2", *words)
        assert silent.returncode == 1, silent.stdout
        assert "ERROR: node n2 is UNREACHABLE since" in silent.stdout
        assert "RUNNING" not in silent.stdout
    listed = supervisectl(n1, "cluster", "status", "n2")
    assert listed.returncode == 1
    assert "n2               UNREACHABLE since" in listed.stdout
    assert "last known RUNNING" in listed.stdout
    # A command already past its deadline when n2 returns is dropped, never run late.
    redis.cli(
        "XADD", "sv:cmd:n2", "*", "id", "late", "op", "action", "user", "tester",
        "body", '{"action": "stop", "names": ["api"]}', "deadline", "1",
    )  # fmt: skip
    n2.start(None)
    wait_until(lambda: "dropped command action" in (n2.tmp / "main.log").read_text())
    assert n2.info("api")["statename"] == "RUNNING"


def test_a_node_requiring_signatures_runs_only_signed_revisions(
    tmp_path: Path, redis: RedisServer
) -> None:
    key = tmp_path / "key"
    key.write_text("s3cret-signing-key\n")
    node = Node(tmp_path / "signed", "signed", redis, extra=f"signing_key_file = {key}")
    try:
        node.begin()
        defs = definitions(tmp_path, DEFS)
        assert supervisectl(node, "cluster", "push", str(defs)).returncode == 0
        wait_until(lambda: "not signed" in supervisectl(node, "cluster", "nodes").stdout)
        assert "everywhere" not in node.names()
        signed = supervisectl(node, "cluster", "push", str(defs), "--sign-key", str(key))
        assert signed.returncode == 0
        wait_until(lambda: "everywhere" in node.names())
    finally:
        node.close()


# -- the cluster console in a real browser ---------------------------------------------------


def test_cluster_console_shows_every_node_and_acts_on_remote_processes(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    from tests.e2e.test_console import CHROMIUM, CHROMIUM_ARGS, IMAGES, sync_api

    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed")
    port = free_port()
    n1 = Node(
        tmp_path / "c1",
        "n1",
        redis,
        extra="console = true\nviewers = vera:look\noperators = otto:act",
    )
    n1.begin(labels="web", local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
    n2, n3 = nodes[1].begin(labels="web"), nodes[2].begin()
    workers = DEFS + "[program:worker]\ncommand = sleep 3604\nstartsecs = 0\nnumprocs = 3\n"
    workers += "process_name = worker_%(process_num)s\nplacement = *\n"
    workers += "[program:talker]\ncommand = sh -c 'while true; do echo tick; sleep 0.2; done'\n"
    workers += "startsecs = 0\nplacement = n2\n"
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, workers))).returncode == 0
    wait_until(lambda: len(n3.names()) == 5 and len(n2.names()) == 6)
    url = f"http://127.0.0.1:{port}/cluster/"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            operator = browser.new_context(
                http_credentials={"username": "otto", "password": "act"}, bypass_csp=True,
                viewport={"width": 1280, "height": 900},
            )  # fmt: skip
            page = operator.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(url)
            page.wait_for_function("document.querySelectorAll('.proc').length === 16")
            for node in ("n1", "n2", "n3"):
                page.wait_for_selector(f".groupbody[data-group='{node}'] .health-up")
            # Restart a process on another node by clicking; its new pid shows.
            row = page.locator(".proc[data-key='n2/api']")
            before = row.locator(".col-pid").inner_text()
            row.get_by_role("button", name="Restart api on n2", exact=True).click()
            page.wait_for_function(
                "pid => { const c = document.querySelector(\".proc[data-key='n2/api'] .col-pid\");"
                " return c.textContent !== '' && c.textContent !== pid; }",
                arg=before,
            )
            assert page.locator(".proc[data-key='n2/api'] .col-pid").inner_text() == str(
                n2.info("api")["pid"]
            )
            # A process killed on a node comes back on the page without a reload.
            page.evaluate("window.loadedOnce = true")
            victim = int(n3.info("batch")["pid"])
            os.kill(victim, signal.SIGKILL)
            page.wait_for_function(
                "pid => { const c = document.querySelector(\".proc[data-key='n3/batch'] .col-pid\");"
                " return c.textContent !== '' && c.textContent !== String(pid); }",
                arg=victim,
            )
            assert page.evaluate("window.loadedOnce") is True
            # A remote log, fetched from its node on demand.
            page.get_by_role("button", name="Stdout talker on n2", exact=True).click()
            page.wait_for_function(
                "document.querySelector('#logtext').textContent.split('tick').length > 3"
            )
            assert page.locator("#logdownload").is_hidden()
            page.keyboard.press("Escape")
            # The filter narrows to one node.
            page.fill("#filter", "n3 worker")
            page.wait_for_function(
                "document.querySelector('#counts').textContent === '3 of 16 shown'"
            )
            page.fill("#filter", "")
            page.screenshot(path=str(IMAGES / "cluster.png"))
            # A node that dies is shown unreachable, its processes kept (never "stopped").
            assert n3.process is not None
            n3.process.send_signal(signal.SIGKILL)
            n3.process.wait(10)
            page.wait_for_selector(".groupbody[data-group='n3'] .health-down", timeout=15000)
            assert "UNREACHABLE" in page.locator(".groupbody[data-group='n3'] .health").inner_text()
            assert page.locator("#daemon-state").inner_text() == "2 of 3 nodes up"
            assert page.locator(".groupbody[data-group='n3'] .proc").count() == 5
            page.locator(".groupbody[data-group='n3']").scroll_into_view_if_needed()
            page.screenshot(path=str(IMAGES / "cluster-unreachable.png"))
            assert problems == []
            # A viewer sees everything and can act on nothing.
            viewer = browser.new_context(
                http_credentials={"username": "vera", "password": "look"}, bypass_csp=True
            )
            seen = viewer.new_page()
            seen.goto(url)
            seen.wait_for_function("document.querySelectorAll('.proc').length === 16")
            assert seen.get_by_role("button", name="Restart api on n2", exact=True).is_hidden()
            assert seen.get_by_role("button", name="Stdout api on n2", exact=True).is_visible()
            token = seen.evaluate("document.querySelector('meta[name=supervise-token]').content")
            answer = seen.evaluate(
                """token => fetch('api/action', {method: 'POST', headers: {'content-type':
                'application/json', 'x-supervise-token': token}, body: JSON.stringify({action:
                'stop', targets: [{node: 'n2', names: ['api']}]})}).then(r => r.status)""",
                token,
            )
            assert answer == 403
            assert n2.info("api")["statename"] == "RUNNING"
            browser.close()
    finally:
        n1.close()
    status, _ = _get(port, "/cluster/")
    assert status in (401, 0)


def _get(port: int, path: str) -> tuple[int, bytes]:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""


def test_a_sentinel_failover_is_survived(tmp_path: Path) -> None:
    require_redis()
    setup = SentinelSetup(tmp_path / "redis").start()
    node = Node(tmp_path / "n1", "n1", setup.primary)
    node.redis_line = f"sentinels = 127.0.0.1:{setup.sentinel_port}\nsentinel_service = mymaster"
    try:
        node.begin(labels="web")
        defs = definitions(tmp_path, DEFS)
        assert supervisectl(node, "cluster", "push", str(defs)).returncode == 0
        wait_until(lambda: node.names() == {"api", "everywhere"})
        wait_until(lambda: node.info("api")["statename"] == "RUNNING")
        pid = node.info("api")["pid"]
        # The push waited for the replica (WAIT 1): the revision is already there.
        assert setup.replica.cli("GET", "{sv}:head") == "1"
        # The primary dies; the Sentinel promotes the replica; the node follows.
        assert setup.primary.process is not None
        setup.primary.process.kill()
        setup.primary.process.wait(10)
        wait_until(lambda: setup.current_primary() == setup.replica.port, timeout=30)
        wait_until(lambda: "Redis is back" in (node.tmp / "main.log").read_text(), timeout=30)
        more = DEFS + "[program:late]\ncommand = sleep 3605\nstartsecs = 0\nplacement = n1\n"
        pushed = supervisectl(node, "cluster", "push", str(definitions(tmp_path, more)))
        assert pushed.returncode == 0, pushed.stdout
        assert "revision 2" in pushed.stdout
        wait_until(lambda: "late" in node.names())
        assert node.info("api")["pid"] == pid
    finally:
        node.close()
        setup.stop()


def test_watch_mode_definitions_work_through_the_cluster(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    """A pushed `watch = match` program adopts the copy a deploy started; no duplicate."""
    from tests.e2e.test_handoff import pids_with

    tag = f"sleep {60000 + os.getpid() % 10000}"
    outside = subprocess.Popen(tag.split(), start_new_session=True)
    n1 = nodes[0].begin(labels="web")
    try:
        text = f"[program:deployed]\ncommand = {tag}\nwatch = match\nabsent_grace = 1\n"
        text += "startsecs = 0\nplacement = web\n"
        assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, text))).returncode == 0
        wait_until(lambda: "deployed" in n1.names())
        wait_until(lambda: n1.info("deployed")["pid"] == outside.pid)
        assert pids_with(tag) == {outside.pid}
        rows = supervisectl(n1, "--json", "cluster", "status").stdout
        assert '"adopted": true' in rows
    finally:
        for pid in pids_with(tag):
            os.kill(pid, signal.SIGKILL)
        outside.wait(10)


def test_redis_credentials_never_reach_a_page_or_a_log(tmp_path: Path) -> None:
    require_redis()
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start("--requirepass", "pa55-w0rd-xyz")
    port = free_port()
    node = Node(tmp_path / "n1", "n1", server, extra="console = true")
    node.redis_line = f"redis = redis://:pa55-w0rd-xyz@127.0.0.1:{server.port}"
    wrong = Node(tmp_path / "n2", "n2", server)
    wrong.redis_line = f"redis = redis://:not-the-pa55-w0rd@127.0.0.1:{server.port}"
    try:
        node.begin(local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
        wrong.begin()
        assert (
            supervisectl(node, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
        )
        wait_until(lambda: "everywhere" in node.names())
        status, page = _get(port, "/cluster/")
        assert status == 200
        connection = __import__("http.client").client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/cluster/api/events")
        snapshot = connection.getresponse().read1(65536)
        assert b'"redis":"redis://127.0.0.1:' in snapshot
        wait_until(lambda: "is unreachable" in (wrong.tmp / "main.log").read_text())
        for text in (
            page,
            snapshot,
            (node.tmp / "main.log").read_bytes(),
            (wrong.tmp / "main.log").read_bytes(),
            (node.tmp / "twistd.out").read_bytes(),
            (wrong.tmp / "twistd.out").read_bytes(),
        ):
            assert b"pa55-w0rd" not in text
        assert "everywhere" not in wrong.names()  # it never got in, and says so
    finally:
        node.close()
        wrong.close()
        server.stop(save=False)


def test_standalone_console_runs_no_programs_and_shows_the_nodes(
    tmp_path: Path, nodes: list[Node], redis: RedisServer
) -> None:
    n1 = nodes[0].begin(labels="web")
    assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
    wait_until(lambda: "api" in n1.names())
    port = free_port()
    conf = tmp_path / "console.conf"
    conf.write_text(
        f"[supervisord]\n[inet_http_server]\nport = 127.0.0.1:{port}\n"
        f"[cluster]\nredis = {redis.url}\nnode = console\noperators = otto:act\n"
    )
    console = subprocess.Popen(
        [tool("twistd"), "-n", "--pidfile=", "supervise-console", "-c", str(conf)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _get(port, "/cluster/")[0] == 401)
        import base64
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        auth = "Basic " + base64.b64encode(b"otto:act").decode()
        connection.request("GET", "/cluster/api/events", headers={"Authorization": auth})
        response = connection.getresponse()
        assert response.status == 200
        seen = b""
        while b'"key":"n1/api"' not in seen:
            seen += response.read1(65536)
        assert b'"name":"console"' not in seen  # the console is not a node
        assert _get(port, "/")[0] in (301, 302, 401)
    finally:
        console.terminate()
        console.wait(10)
