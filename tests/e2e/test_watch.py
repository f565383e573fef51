"""Layer 4: watch mode — programs deployed outside supervise are adopted, never duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xmlrpc.client
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until
from tests.e2e.test_handoff import pids_with

pytestmark = pytest.mark.e2e
DAEMON = Path(__file__).parent / "forking_daemon.py"


def deploy(pidfile: Path) -> int:
    """What a deploy script does: start the service itself; return the new daemon's pid."""
    old = pidfile.read_text() if pidfile.exists() else ""
    subprocess.run([sys.executable, str(DAEMON), str(pidfile)], check=True, timeout=30)
    wait_until(lambda: pidfile.exists() and pidfile.read_text() not in ("", old))
    return int(pidfile.read_text())


def test_watch_pidfile_adopts_follows_deploys_and_restarts_crashes(daemon: Daemon) -> None:
    """Adopted at start-up; a deploy's new pid is followed; a real crash is restarted after the grace."""
    pidfile = daemon.tmp / "svc.pid"
    first = deploy(pidfile)
    daemon.start(
        f"[program:svc]\ncommand = {sys.executable} {DAEMON} {pidfile}\npidfile = {pidfile}\n"
        "watch = pidfile\nabsent_grace = 2\nstartsecs = 0\n"
    )
    rpc = daemon.rpc()
    try:
        info = rpc.supervisor.getProcessInfo("svc")
        assert (info["statename"], info["pid"]) == ("RUNNING", first)
        assert pids_with(str(pidfile)) == {first}
        extra = rpc.supervise.getAllProcessInfo()[0]
        assert extra["adopted"] is True and extra["spawns"] == 0
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.readProcessStdoutLog("svc", 0, 0)
        assert fault.value.faultString == "NO_FILE: svc was not started by supervise: it has no log"

        os.kill(first, signal.SIGTERM)  # the deploy script stops the old build …
        second = deploy(pidfile)  # … and starts the new one
        wait_until(lambda: rpc.supervisor.getProcessInfo("svc")["pid"] == second)
        assert pids_with(str(pidfile)) == {second}
        assert rpc.supervisor.getProcessInfo("svc")["statename"] == "RUNNING"
        assert f"adopted: 'svc' with pid {second}" in (daemon.tmp / "main.log").read_text()

        os.kill(second, signal.SIGKILL)  # a real crash: nobody starts a successor
        wait_until(lambda: rpc.supervisor.getProcessInfo("svc")["pid"] not in (0, second), 20)
        wait_until(lambda: rpc.supervisor.getProcessInfo("svc")["statename"] == "RUNNING")
        third = rpc.supervisor.getProcessInfo("svc")["pid"]
        assert pids_with(str(pidfile)) == {third}
        assert "no successor of svc" in (daemon.tmp / "main.log").read_text()

        assert rpc.supervisor.stopProcess("svc") is True
        wait_until(lambda: not pids_with(str(pidfile)))
    finally:
        for pid in pids_with(str(pidfile)):
            os.kill(pid, signal.SIGKILL)


def test_watch_match_adopts_and_restarts_after_grace(daemon: Daemon) -> None:
    """watch = match adopts a running process by its command line; without a successor it is restarted."""
    tag = f"sleep {50000 + os.getpid() % 10000}"
    outside = subprocess.Popen(tag.split(), start_new_session=True)
    try:
        daemon.start(
            f"[program:napper]\ncommand = {tag}\nwatch = match\nabsent_grace = 1\nstartsecs = 0\n"
        )
        rpc = daemon.rpc()
        assert rpc.supervisor.getProcessInfo("napper")["pid"] == outside.pid
        assert pids_with(tag) == {outside.pid}
        outside.kill()
        outside.wait(10)
        wait_until(lambda: rpc.supervisor.getProcessInfo("napper")["pid"] not in (0, outside.pid))
        wait_until(lambda: rpc.supervisor.getProcessInfo("napper")["statename"] == "RUNNING")
        mine = rpc.supervisor.getProcessInfo("napper")["pid"]
        assert pids_with(tag) == {mine}
        assert rpc.supervise.getAllProcessInfo()[0]["adopted"] is False
        assert rpc.supervisor.stopProcess("napper") is True
        assert not pids_with(tag)
    finally:
        for pid in pids_with(tag):
            os.kill(pid, signal.SIGKILL)
