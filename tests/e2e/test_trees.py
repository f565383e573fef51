"""Layer 4: a stop takes the program's whole tree by default (killmode = tree), without
cgroups; ``killmode = process`` keeps supervisord's behaviour. And a ``pidfile =``
program that stays in the foreground is RUNNING with its own pid."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(") ", 1)[1].split()[1])


@pytest.mark.parametrize("script", ["escaping_tree.py", "orphaning_tree.py"])
def test_stop_leaves_no_descendant_without_cgroups(daemon: Daemon, script: str) -> None:
    """A child that left the session and ignores SIGTERM (even one orphaned and
    re-parented to the daemon) is gone once `stop` returns; no cgroup is used."""
    daemon.extra_environ["SUPERVISE_NO_CGROUPS"] = "1"
    pidfile = daemon.tmp / "escaped.pid"
    daemon.start(
        f"[program:tree]\ncommand = {sys.executable} {HERE / script} {pidfile}\n"
        "startsecs = 0\nstopwaitsecs = 1\n"
    )
    rpc = daemon.rpc()
    wait_until(pidfile.exists)
    escaped = int(pidfile.read_text())
    assert _alive(escaped)
    if script == "orphaning_tree.py":
        assert daemon.process is not None and _parent(escaped) == daemon.process.pid
    assert rpc.supervisor.stopProcess("tree") is True
    assert not _alive(escaped)
    assert rpc.supervisor.getProcessInfo("tree")["statename"] == "STOPPED"


def test_killmode_process_leaves_descendants_as_supervisord_does(daemon: Daemon) -> None:
    """killmode = process stops only the main process, as supervisord does."""
    daemon.extra_environ["SUPERVISE_NO_CGROUPS"] = "1"
    pidfile = daemon.tmp / "escaped.pid"
    daemon.start(
        f"[program:tree]\ncommand = {sys.executable} {HERE / 'escaping_tree.py'} {pidfile}\n"
        "startsecs = 0\nstopwaitsecs = 1\nkillmode = process\n"
    )
    rpc = daemon.rpc()
    wait_until(pidfile.exists)
    escaped = int(pidfile.read_text())
    try:
        assert rpc.supervisor.stopProcess("tree") is True
        assert _alive(escaped)
    finally:
        os.kill(escaped, signal.SIGKILL)
    wait_until(lambda: not _alive(escaped))


def test_foreground_pidfile_program_is_running_with_its_own_pid(daemon: Daemon) -> None:
    """A pidfile program that stays in the foreground and writes its own pid (nginx with
    daemon off) is RUNNING with that pid."""
    pidfile = daemon.tmp / "fg.pid"
    code = (
        f"import os,time; open('{pidfile}.tmp','w').write(str(os.getpid())); "
        f"os.rename('{pidfile}.tmp','{pidfile}'); time.sleep(300)"
    )
    daemon.start(
        f'[program:fg]\ncommand = {sys.executable} -c "{code}"\npidfile = {pidfile}\nstartsecs = 1\n'
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("fg")["statename"] == "RUNNING", timeout=10)
    info = rpc.supervisor.getProcessInfo("fg")
    assert info["pid"] == int(pidfile.read_text())
    assert daemon.process is not None and _parent(info["pid"]) == daemon.process.pid
    assert rpc.supervisor.stopProcess("fg") is True
    assert not _alive(info["pid"])
