"""Layer 4: supervisectl against the real daemon — commands, JSON, wildcards, wait, shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from supervise import __version__
from tests.e2e.conftest import Daemon, tool
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e

VERSION_LINE = f"supervisor> supervise {__version__} (supervisord 4.3.0, XML-RPC API 3.0)\n"

PROGRAMS = """
[program:web-a]
command = sleep 300
startsecs = 0
[program:web-b]
command = sleep 300
startsecs = 0
[program:db]
command = sleep 300
startsecs = 0
[program:slow]
command = sleep 300
startsecs = 2
autostart = false
[program:flappy]
command = sh -c 'sleep 0.3; exit 1'
startsecs = 0
"""


def ctl(daemon: Daemon, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("python3"), "-m", "supervise.ctl.main", "-c", str(daemon.conf), *args],
        capture_output=True, text=True, env=daemon.env(), input=stdin, timeout=60,
    )  # fmt: skip


def test_status_json_wildcards_and_exit_codes(daemon: Daemon) -> None:
    """status filters by wildcard, prints JSON for scripts and says restarts; codes tell the truth."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    wait_until(
        lambda: (
            rpc.supervisor.getProcessInfo("flappy")["statename"] == "RUNNING"
            and ctl_spawns(daemon) > 1
        )
    )
    web = ctl(daemon, "--json", "status", "web-*")
    data = json.loads(web.stdout)
    assert ([p["namespec"] for p in data["processes"]], web.returncode) == (["web-a", "web-b"], 0)
    plain = ctl(daemon, "status", "flappy")
    assert ", restarts " in plain.stdout
    assert ctl(daemon, "status", "slow").returncode == 3
    assert ctl(daemon, "status", "nosuch").returncode == 4


def ctl_spawns(daemon: Daemon) -> int:
    infos = daemon.rpc().supervise.getAllProcessInfo()
    return next(i["spawns"] for i in infos if i["name"] == "flappy")


def test_start_stop_wait_and_failures(daemon: Daemon) -> None:
    """start/stop act on wildcards; an already started program is success; wait blocks until RUNNING."""
    daemon.start(PROGRAMS)
    stop = ctl(daemon, "stop", "web-*")
    assert (stop.returncode, sorted(stop.stdout.splitlines())) == (
        0,
        ["web-a: stopped", "web-b: stopped"],
    )
    start = ctl(daemon, "start", "web-a", "db")
    assert (start.returncode, start.stdout) == (0, "web-a: started\ndb: ERROR (already started)\n")
    missing = ctl(daemon, "start", "nosuch")
    assert (missing.returncode, missing.stdout) == (1, "nosuch: ERROR (no such process)\n")
    daemon.rpc().supervisor.startProcess("slow", False)
    waited = ctl(daemon, "wait", "--timeout", "20", "slow")
    assert (waited.returncode, waited.stdout) == (0, "all RUNNING\n")
    assert daemon.rpc().supervisor.getProcessInfo("slow")["statename"] == "RUNNING"
    timeout = ctl(daemon, "wait", "--timeout", "0", "web-b")
    assert (timeout.returncode, timeout.stdout) == (1, "web-b: ERROR (not RUNNING after 0s)\n")


def test_shell_runs_commands_from_stdin(daemon: Daemon) -> None:
    """Without a command the shell starts with status and runs each line."""
    daemon.start(PROGRAMS)
    session = ctl(daemon, stdin="pid db\nversion\nbogus\n")
    pid = daemon.rpc().supervisor.getProcessInfo("db")["pid"]
    assert "db" in session.stdout.splitlines()[0]
    assert f"supervisor> {pid}\n" in session.stdout and VERSION_LINE in session.stdout
    assert "*** Unknown syntax: bogus" in session.stdout
    assert session.returncode == 0


def test_unreachable_server(tmp_path) -> None:
    """A daemon that is not running is reported with the URL and exit code 4."""
    d = Daemon(tmp_path)
    d.write("")
    result = ctl(d, "status")
    assert result.returncode == 4 and "refused connection" in result.stdout


def test_rolling_restart_one_at_a_time(daemon: Daemon) -> None:
    """restart --rolling restarts a group one process at a time, each RUNNING before the next."""
    daemon.start(
        "[program:api]\ncommand = sleep 300\nstartsecs = 1\nprocess_name = %(program_name)s_%(process_num)d\n"
        "numprocs = 3\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo()))
    before = {i["name"]: i["pid"] for i in rpc.supervisor.getAllProcessInfo()}
    result = ctl(daemon, "restart", "--rolling", "api:*")
    assert (result.returncode, result.stdout.splitlines()) == (
        0,
        [f"api:api_{n}: restarted" for n in range(3)],
    )
    after = {i["name"]: i["pid"] for i in rpc.supervisor.getAllProcessInfo()}
    assert all(after[n] != before[n] for n in before)
    log = (daemon.tmp / "main.log").read_text()
    marks = []
    for n in range(3):
        marks += [log.index(f"stopped: api_{n} "), log.rindex(f"success: api_{n} entered RUNNING")]
    assert marks == sorted(marks)


def test_rolling_restart_with_a_supervise_socket_drops_no_connection(daemon: Daemon) -> None:
    """Programs sharing a [socket:x] (LISTEN_FDS) restart one by one; every connection is served."""
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(__file__).parent / "socket_server.py"
    daemon.start(
        f"[socket:web]\nlisten = tcp:127.0.0.1:{port}\n"
        f"[program:web]\ncommand = {sys.executable} {server}\nsockets = web\nstartsecs = 1\n"
        "process_name = %(program_name)s_%(process_num)d\nnumprocs = 2\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo()))
    answers: list[str] = []
    failures: list[str] = []
    done = threading.Event()

    def client() -> None:
        while not done.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                    answers.append(connection.makefile().readline())
            except OSError as problem:
                failures.append(str(problem))

    thread = threading.Thread(target=client)
    thread.start()
    try:
        result = ctl(daemon, "restart", "--rolling", "web:*")
    finally:
        done.set()
        thread.join(30)
    assert result.returncode == 0, result.stdout
    assert failures == [] and len(answers) > 10
    assert all(answer.startswith("hello from ") for answer in answers)


def test_avail_shows_a_listener_as_supervisorctl_does(daemon: Daemon) -> None:
    """An event listener's pool priority is -1, its process's 999: both clients say -1:999."""
    daemon.start(
        """
        [eventlistener:listener]
        command = sleep 300
        events = TICK_60
        """
    )
    ours = ctl(daemon, "avail").stdout.splitlines()
    theirs = daemon.ctl("avail").stdout.splitlines()
    assert ours == theirs == [f"{'listener':<32} {'in use':<9} {'auto':<9} -1:999"]
