"""Layer 4: the daemon restarts (re-exec, or after SIGKILL) without restarting programs."""

from __future__ import annotations

import os
import signal
import sys
import xmlrpc.client

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until
from tests.leftovers import MARK, session_of

pytestmark = pytest.mark.e2e

WRITER = "import itertools,time\nfor i in itertools.count():\n    print(i, flush=True)\n    time.sleep(0.01)\n"


def answering(daemon: Daemon) -> bool:
    try:
        return daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        return False


def pids_with(marker: str) -> set[int]:
    """Live processes whose command line holds ``marker``, except those of another test
    session on the same machine (marked with another ``SUPERVISE_TEST_SESSION``)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    mine = marker.replace(" ", "\0").encode() in handle.read()
                if mine and not another_session(int(entry)):
                    found.add(int(entry))
            except OSError:
                pass
    return found


def another_session(pid: int) -> bool:
    """Whether ``pid`` belongs to another test session than this one."""
    ours, theirs = os.environ.get(MARK), session_of(pid)
    return ours is not None and theirs is not None and theirs != ours


def test_reexec_keeps_fifty_programs_and_every_line(daemon: Daemon) -> None:
    """supervise.reexec with 50 writers: same daemon pid, no program restarted, no line lost."""
    (daemon.tmp / "writer.py").write_text(WRITER)
    programs = "".join(
        f"[program:w{n:02d}]\ncommand = {sys.executable} -u {daemon.tmp / 'writer.py'}\nstartsecs = 0\n"
        f"stdout_logfile = {daemon.tmp}/w{n:02d}.log\n"
        for n in range(50)
    )
    daemon.start(programs)
    rpc = daemon.rpc()
    wait_until(
        lambda: all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo()), 60
    )
    before = {i["name"]: i["pid"] for i in rpc.supervisor.getAllProcessInfo()}
    daemon_pid = rpc.supervisor.getPID()
    assert rpc.supervise.reexec() is True
    wait_until(
        lambda: not answering(daemon) or "taking over" in (daemon.tmp / "main.log").read_text(), 30
    )
    wait_until(lambda: answering(daemon), 60)
    rpc = daemon.rpc()
    after = {i["name"]: i["pid"] for i in rpc.supervisor.getAllProcessInfo()}
    assert (after, rpc.supervisor.getPID()) == (before, daemon_pid)
    assert all(i["spawns"] == 1 for i in rpc.supervise.getAllProcessInfo())
    sizes = {n: os.path.getsize(daemon.tmp / f"{n}.log") for n in before}
    wait_until(lambda: all(os.path.getsize(daemon.tmp / f"{n}.log") > sizes[n] for n in before), 30)
    os.kill(before["w00"], signal.SIGKILL)
    wait_until(
        lambda: (
            "exited: w00 (terminated by SIGKILL; not expected)"
            in (daemon.tmp / "main.log").read_text()
        )
    )
    assert daemon.stop(60) == 0
    for name in before:
        numbers = [int(line) for line in (daemon.tmp / f"{name}.log").read_text().split()]
        if name == "w00":
            numbers = numbers[: numbers.index(0, 1)] if 0 in numbers[1:] else numbers
        assert numbers == list(range(len(numbers))), f"{name} lost or reordered lines"


def test_sigkilled_daemon_restart_adopts_survivors_without_duplicates(daemon: Daemon) -> None:
    """After SIGKILL of the daemon, the next start adopts its programs instead of starting copies."""
    tag = 40000 + os.getpid() % 10000  # a sleep length only this test run uses
    marks = {f"s{n}": f"sleep {tag + n}" for n in range(3)}
    body = "".join(
        f"[program:{name}]\ncommand = {mark}\nstartsecs = 0\n" for name, mark in marks.items()
    )
    try:
        _crash_and_adopt(daemon, body, marks)
    finally:
        for mark in marks.values():
            for pid in pids_with(mark):
                os.kill(pid, signal.SIGKILL)


def _crash_and_adopt(daemon: Daemon, body: str, marks: dict[str, str]) -> None:
    daemon.start(body)
    rpc = daemon.rpc()
    before = {i["name"]: i["pid"] for i in rpc.supervisor.getAllProcessInfo()}
    assert daemon.process is not None
    daemon.process.kill()
    daemon.process.wait(10)
    assert all(pids_with(mark) == {before[name]} for name, mark in marks.items())
    daemon.start(None)
    rpc = daemon.rpc()
    infos = {i["name"]: i for i in rpc.supervisor.getAllProcessInfo()}
    assert {n: i["pid"] for n, i in infos.items()} == before
    assert all(i["statename"] == "RUNNING" for i in infos.values())
    assert all(pids_with(mark) == {before[name]} for name, mark in marks.items())
    assert "died leaving s0, s1, s2 running: adopting them" in (daemon.tmp / "main.log").read_text()
    os.kill(before["s1"], signal.SIGTERM)
    wait_until(lambda: rpc.supervisor.getProcessInfo("s1")["pid"] not in (0, before["s1"]))
    assert daemon.stop() == 0
    assert all(not pids_with(mark) for mark in marks.values())
