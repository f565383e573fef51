"""Layer 4: env files read at each start, and rlimits, through a real daemon."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon

pytestmark = pytest.mark.e2e


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def limits_of(pid: int) -> dict[str, tuple[str, str]]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): tuple(row[26:].split()[:2]) for row in rows}  # type: ignore[misc]


def test_env_file_change_takes_effect_on_restart(daemon: Daemon, tmp_path: Path) -> None:
    """A deploy rewrites the env file; the next start sees it; a malformed one fails the
    start with a spawn error naming file and line, and the daemon runs on."""
    envfile = tmp_path / "app.env"
    envfile.write_text("export RELEASE=1\nSHARED=from-file\n")
    daemon.start(
        f"""
        [program:app]
        command = sleep 300
        startsecs = 0
        startretries = 1
        environment_file = {envfile} -{tmp_path}/optional.env
        environment = SHARED=from-program
        """
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("app")["statename"] == "RUNNING")
    env = environ_of(rpc.supervisor.getProcessInfo("app")["pid"])
    assert (env["RELEASE"], env["SHARED"]) == ("1", "from-program")

    envfile.write_text("export RELEASE=2\n")
    assert daemon.ctl("restart", "app").returncode == 0
    assert environ_of(rpc.supervisor.getProcessInfo("app")["pid"])["RELEASE"] == "2"

    envfile.write_text("# release\nRELEASE='3\n")
    daemon.ctl("stop", "app")
    daemon.ctl("start", "app")
    wait_until(lambda: rpc.supervisor.getProcessInfo("app")["statename"] == "FATAL")
    info = rpc.supervisor.getProcessInfo("app")
    assert f"environment file {envfile}:2: cannot parse" in info["spawnerr"]
    status = daemon.ctl("status", "app").stdout
    assert "FATAL" in status and f"{envfile}:2" in status
    assert rpc.supervisor.getState()["statename"] == "RUNNING"


def test_rlimits_are_set_in_the_child(daemon: Daemon) -> None:
    """rlimit_nofile and rlimit_core show in the child's /proc/PID/limits."""
    hard_core = resource.getrlimit(resource.RLIMIT_CORE)[1]
    core = "0:0" if hard_core != resource.RLIM_INFINITY else "0:unlimited"
    daemon.start(
        f"""
        [program:limited]
        command = sleep 300
        startsecs = 0
        rlimit_nofile = 321:654
        rlimit_core = {core}
        rlimit_stack = 4MB
        """
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("limited")["statename"] == "RUNNING")
    limits = limits_of(rpc.supervisor.getProcessInfo("limited")["pid"])
    assert limits["Max open files"] == ("321", "654")
    assert limits["Max core file size"][0] == "0"
    assert limits["Max stack size"][0] == str(4 << 20)
