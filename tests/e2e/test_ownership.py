"""Layer 4: readiness, dependencies and restart policy with real programs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from supervise.testing import free_port
from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e


def listen_after(delay: float, port: int) -> str:
    script = (
        f"import socket,time; time.sleep({delay}); s=socket.socket(); "
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        f"s.bind(('127.0.0.1',{port})); s.listen(); time.sleep(300)"
    )
    return f'{sys.executable} -c "{script}"'


def test_ready_tcp_gates_running_and_dependencies_start_in_order(daemon: Daemon) -> None:
    """A program RUNNING only once its port accepts; its dependent starts only after that."""
    port = free_port()
    daemon.start(
        f"[program:db]\ncommand = {listen_after(1.5, port)}\nready = tcp:127.0.0.1:{port}\nready_interval = 0.1\n"
        "[program:web]\ncommand = sleep 300\nstartsecs = 0\ndepends_on = db\n"
    )
    rpc = daemon.rpc()
    assert rpc.supervisor.getProcessInfo("db")["statename"] == "STARTING"
    assert rpc.supervisor.getProcessInfo("web")["statename"] == "STOPPED"
    wait_until(lambda: rpc.supervisor.getProcessInfo("web")["statename"] == "RUNNING")
    db, web = rpc.supervisor.getProcessInfo("db"), rpc.supervisor.getProcessInfo("web")
    assert db["statename"] == "RUNNING" and web["start"] >= db["start"]
    log = (daemon.tmp / "main.log").read_text()
    assert log.index("success: db entered RUNNING state, it is ready") < log.index("spawned: 'web'")


def test_start_brings_up_dependencies_and_stop_order(daemon: Daemon) -> None:
    """`start app` starts what app needs first; shutdown stops dependents before dependencies."""
    daemon.start(
        "[program:db]\ncommand = sleep 300\nstartsecs = 0\nautostart = false\n"
        "[program:cache]\ncommand = sleep 300\nstartsecs = 0\nautostart = false\ndepends_on = db\n"
        "[program:app]\ncommand = sleep 300\nstartsecs = 0\nautostart = false\ndepends_on = cache, db\n"
    )
    rpc = daemon.rpc()
    assert rpc.supervisor.startProcess("app") is True
    infos = {i["name"]: i for i in rpc.supervisor.getAllProcessInfo()}
    assert all(infos[n]["statename"] == "RUNNING" for n in ("db", "cache", "app"))
    daemon.stop()
    log = (daemon.tmp / "main.log").read_text()
    spawned = [log.index(f"spawned: '{n}'") for n in ("db", "cache", "app")]
    stopped = [log.index(f"stopped: {n} ") for n in ("app", "cache", "db")]
    assert spawned == sorted(spawned) and stopped == sorted(stopped)


def test_ready_notify_gates_running(daemon: Daemon) -> None:
    """ready = notify: RUNNING when the program sends READY=1 to its NOTIFY_SOCKET."""
    flag = daemon.tmp / "go"
    script = (
        "import os,socket,time,pathlib\n"
        f"while not pathlib.Path('{flag}').exists(): time.sleep(0.05)\n"
        "addr = os.environ['NOTIFY_SOCKET']\n"
        "addr = '\\0' + addr[1:] if addr.startswith('@') else addr\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b'STATUS=warming\\nREADY=1', addr)\n"
        "time.sleep(300)\n"
    )
    (daemon.tmp / "notifier.py").write_text(script)
    # startsecs = 0: an implementation ignoring `ready` would show RUNNING at once.
    daemon.start(
        f"[program:svc]\ncommand = {sys.executable} {daemon.tmp / 'notifier.py'}\n"
        "ready = notify\nstartsecs = 0\n"
    )
    rpc = daemon.rpc()
    assert rpc.supervisor.getProcessInfo("svc")["statename"] == "STARTING"
    flag.touch()
    wait_until(lambda: rpc.supervisor.getProcessInfo("svc")["statename"] == "RUNNING")


def test_never_ready_backs_off(daemon: Daemon) -> None:
    """A program that never gets ready is stopped and retried, then FATAL."""
    port = free_port()
    daemon.start(
        f"[program:dud]\ncommand = sleep 300\nready = tcp:127.0.0.1:{port}\nready_timeout = 0.5\n"
        "ready_interval = 0.1\nstartretries = 1\nstopwaitsecs = 1\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("dud")["statename"] == "FATAL", 30)
    assert "not ready: dud (not ready after 0.5s" in (daemon.tmp / "main.log").read_text()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def test_daemonizing_program_is_watched_restarted_and_stopped(daemon: Daemon) -> None:
    """A double-forking daemon shows RUNNING with its real pid, is restarted when killed, stops on stop."""
    from pathlib import Path

    pidfile = daemon.tmp / "d.pid"
    script = Path(__file__).parent / "forking_daemon.py"
    daemon.start(
        f"[program:d]\ncommand = {sys.executable} {script} {pidfile}\npidfile = {pidfile}\nstartsecs = 1\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("d")["statename"] == "RUNNING")
    first = rpc.supervisor.getProcessInfo("d")["pid"]
    assert first == int(pidfile.read_text())
    import os
    import signal

    os.kill(first, signal.SIGKILL)
    wait_until(lambda: rpc.supervisor.getProcessInfo("d")["pid"] not in (0, first))
    wait_until(lambda: rpc.supervisor.getProcessInfo("d")["statename"] == "RUNNING")
    second = rpc.supervisor.getProcessInfo("d")["pid"]
    assert (
        "exited: d (terminated by SIGKILL; not expected)" in (daemon.tmp / "main.log").read_text()
    )
    assert rpc.supervisor.stopProcess("d") is True
    wait_until(lambda: not _alive(second))
    assert not _alive(first)


@pytest.mark.parametrize("cgroups", [True, False], ids=["cgroup", "fallback"])
def test_cgroup_stops_a_tree_that_escaped_its_session(daemon: Daemon, cgroups: bool) -> None:
    """With cgroup=true, a child that setsid()s and ignores SIGTERM is killed at the stop
    deadline: through its cgroup, or where cgroups are unavailable, through the process
    tree recorded when the stop began."""
    from pathlib import Path

    if not cgroups:
        daemon.extra_environ["SUPERVISE_NO_CGROUPS"] = "1"
    pidfile = daemon.tmp / "escaped.pid"
    script = Path(__file__).parent / "escaping_tree.py"
    daemon.start(
        f"[program:tree]\ncommand = {sys.executable} {script} {pidfile}\nstartsecs = 0\ncgroup = true\nstopwaitsecs = 1\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: pidfile.exists())
    escaped = int(pidfile.read_text())
    assert _alive(escaped)
    assert rpc.supervisor.stopProcess("tree") is True
    assert not _alive(escaped)
    assert rpc.supervisor.getProcessInfo("tree")["statename"] == "STOPPED"
    assert daemon.stop() == 0


def test_failing_health_check_restarts_and_is_announced(daemon: Daemon) -> None:
    """A program failing its health check healthcheck_retries times is restarted, with an event."""
    health = daemon.tmp / "healthy"
    health.touch()
    out = daemon.tmp / "events.jsonl"
    from pathlib import Path

    recorder = Path(__file__).parent / "recorder_listener.py"
    daemon.start(
        "[program:svc]\ncommand = sleep 300\nstartsecs = 0\n"
        f"healthcheck = command:test -e {health}\nhealthcheck_interval = 0.2\nhealthcheck_retries = 2\n"
        f"[eventlistener:rec]\ncommand = {sys.executable} {recorder} {out}\nevents = SUPERVISE_HEALTH_FAILED\n"
    )
    rpc = daemon.rpc()
    first = rpc.supervisor.getProcessInfo("svc")["pid"]
    health.unlink()
    wait_until(lambda: rpc.supervisor.getProcessInfo("svc")["pid"] not in (0, first))
    wait_until(lambda: out.exists() and "SUPERVISE_HEALTH_FAILED" in out.read_text())
    assert "failures:2" in out.read_text()
    assert "unhealthy: svc is restarted" in (daemon.tmp / "main.log").read_text()


def test_watchdog_restarts_a_program_that_stops_pinging(daemon: Daemon) -> None:
    """ready = notify with watchdog_sec: a program that stops sending WATCHDOG=1 is restarted."""
    flag = daemon.tmp / "hang"
    script = (
        "import os,socket,time,pathlib\n"
        "addr = os.environ['NOTIFY_SOCKET']; addr = '\\0' + addr[1:] if addr.startswith('@') else addr\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "assert os.environ['WATCHDOG_USEC'] == '500000'\n"
        "s.sendto(b'READY=1', addr)\n"
        f"while not pathlib.Path('{flag}').exists():\n"
        "    s.sendto(b'WATCHDOG=1', addr); time.sleep(0.1)\n"
        "time.sleep(300)\n"
    )
    (daemon.tmp / "pinger.py").write_text(script)
    daemon.start(
        f"[program:dog]\ncommand = {sys.executable} {daemon.tmp / 'pinger.py'}\nready = notify\nwatchdog_sec = 0.5\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("dog")["statename"] == "RUNNING")
    first = rpc.supervisor.getProcessInfo("dog")["pid"]
    flag.touch()
    wait_until(lambda: rpc.supervisor.getProcessInfo("dog")["pid"] not in (0, first))
    assert "watchdog: dog sent no WATCHDOG=1 for 0.5s" in (daemon.tmp / "main.log").read_text()


def test_cgroup_limits_are_applied_or_reported(daemon: Daemon) -> None:
    """memory_max/pids_max land in the program's cgroup, or a warning says why they could not."""
    daemon.start(
        "[program:capped]\ncommand = sleep 300\nstartsecs = 0\ncgroup = true\nmemory_max = 64MB\npids_max = 20\n"
    )
    rpc = daemon.rpc()
    cgroup = rpc.supervise.getAllProcessInfo()[0]["cgroup"]
    assert cgroup
    log = (daemon.tmp / "main.log").read_text()
    for file, value in (("memory.max", str(64 * 1024 * 1024)), ("pids.max", "20")):
        path = Path(cgroup) / file
        applied = path.exists() and path.read_text().strip() == value
        assert applied or f"{file} = {value} not applied to {cgroup}" in log
