"""Layer 4: what docs/migration.md promises a systemd unit (``Type=notify``,
``supervise -n``): a re-exec keeps the main pid and every program, and says READY=1
again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

import pytest

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon, tool

pytestmark = pytest.mark.e2e


def test_supervise_n_under_notify_survives_a_reexec(daemon: Daemon) -> None:
    conf = daemon.write("[program:app]\ncommand = sleep 300\nstartsecs = 0\n")
    notify = daemon.tmp / "systemd-notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(60)  # a bound on a hang, not a timing assumption
    env = {**daemon.env(), "NOTIFY_SOCKET": str(notify)}
    unit = subprocess.Popen(
        [tool("supervise"), "-n", "-c", str(conf)],
        env=env, cwd=daemon.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert listener.recv(1024) == f"READY=1\nMAINPID={unit.pid}".encode()
        rpc = daemon.rpc()
        wait_until(lambda: rpc.supervisor.getProcessInfo("app")["statename"] == "RUNNING")
        app = rpc.supervisor.getProcessInfo("app")["pid"]
        reexec = subprocess.run(
            [tool("supervisectl"), "-c", str(conf), "reexec"],
            env=daemon.env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert reexec.returncode == 0, reexec.stdout + reexec.stderr
        assert listener.recv(1024) == f"READY=1\nMAINPID={unit.pid}".encode()
        assert unit.poll() is None
        info = daemon.rpc().supervisor.getProcessInfo("app")
        assert (info["statename"], info["pid"]) == ("RUNNING", app)
        assert daemon.rpc().supervisor.getPID() == unit.pid
    finally:
        listener.close()
        if unit.poll() is None:
            os.kill(unit.pid, signal.SIGTERM)
        assert unit.wait(60) == 0
