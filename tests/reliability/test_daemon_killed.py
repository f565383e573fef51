"""SIGKILL the daemon at random moments, start it again: no duplicate, no orphan.

Each trial starts the daemon on the same configuration (steady programs, crash-looping
ones), waits a random moment (seeded, so a failure replays), sometimes in the middle of a
reload, a start with wait or a log reopen, kills it with SIGKILL, and starts it again.
Every steady program must then run exactly once (survivors adopted, never duplicated),
and after the last trial nothing of it may be left behind.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from supervise.testing import RunningDaemon, wait_until
from tests.e2e.conftest import ROOT
from tests.e2e.test_handoff import pids_with
from tests.reliability.conftest import CASES, scale

pytestmark = pytest.mark.e2e

#: Each test's programs have their own command lines: the tests may run side by side
#: (xdist), and they count processes by command line.
TAGS = {
    "random": ([f"sleep {47000 + i}" for i in range(8)], [f"crashloop{i}" for i in range(3)]),
    "missed": ([f"sleep {47100 + i}" for i in range(8)], [f"crashloopm{i}" for i in range(3)]),
}
STEADY, CRASHERS = TAGS["random"]


def config(steady: list[str], crashers: list[str]) -> str:
    """Steady programs and crash-looping ones, recognisable by their command lines."""
    return "".join(
        f"[program:steady{i}]\ncommand = {tag}\nstartsecs = 0\nstdout_logfile_maxbytes = 1KB\n"
        for i, tag in enumerate(steady)
    ) + "".join(
        f"[program:crash{i}]\ncommand = sh -c 'echo going; sleep 0.{i + 1}; exit 3' {tag}\n"
        "startsecs = 0\nautorestart = true\n"
        for i, tag in enumerate(crashers)
    )


@pytest.fixture
def daemon(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningDaemon]:
    steady, crashers = TAGS["missed" if "missed" in request.node.name else "random"]
    started = RunningDaemon(tmp_path_factory.mktemp("killed"), {"PYTHONPATH": str(ROOT)})
    started.write(config(steady, crashers))
    yield started
    started.close()
    for tag in steady + crashers:
        for pid in pids_with(tag):
            try:
                import os

                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def disturb(daemon: RunningDaemon, action: str) -> threading.Thread:
    """Start something long on the daemon, without waiting for it."""

    def call() -> None:
        try:
            rpc = daemon.rpc()
            if action == "reload":
                rpc.supervisor.restart()
            elif action == "start-wait":
                rpc.supervisor.stopProcess("steady0")
                rpc.supervisor.startProcess("steady0", True)
            elif action == "reopen":
                rpc.supervisor.clearAllProcessLogs()
        except Exception:
            pass  # the daemon is killed under it: that is the point

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def settled(daemon: RunningDaemon) -> bool:
    """Every steady program running, or stopped (an operator's stop survives a crash)."""
    try:
        infos = {i["name"]: i for i in daemon.rpc().supervisor.getAllProcessInfo()}
    except Exception:
        return False
    return all(
        infos[f"steady{i}"]["statename"] in ("RUNNING", "STOPPED") for i in range(len(STEADY))
    )


def test_sigkill_at_random_moments_leaves_no_duplicate_and_no_orphan(daemon: RunningDaemon) -> None:
    rng = random.Random(20261124)
    for trial in range(scale(5, 100)):
        daemon.start(None)
        action = rng.choice(["none", "reload", "start-wait", "reopen"])
        thread = disturb(daemon, action) if action != "none" else None
        time.sleep(rng.uniform(0, 1.0))  # the random moment of the crash (not a synchronisation)
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        if thread is not None:
            thread.join(30)  # its call must not reach the next daemon
        CASES["daemon SIGKILL trials"] += 1
        daemon.start(None)
        wait_until(lambda: settled(daemon), timeout=30)
        infos = {i["name"]: i for i in daemon.rpc().supervisor.getAllProcessInfo()}
        for i, tag in enumerate(STEADY):
            running = pids_with(tag)
            expected = {infos[f"steady{i}"]["pid"]} - {0}
            assert running == expected, (
                f"trial {trial} ({action}): steady{i} runs as {running}, "
                f"supervise says {infos[f'steady{i}']['statename']} {expected}"
            )
            if not expected:
                daemon.rpc().supervisor.startProcess(f"steady{i}")
        for tag in CRASHERS:
            assert len(pids_with(tag)) <= 1, f"trial {trial}: {tag} runs twice"
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
    # The last start stops everything cleanly: nothing may be left.
    daemon.start(None)
    wait_until(lambda: settled(daemon), timeout=30)
    for i in range(len(STEADY)):
        if daemon.rpc().supervisor.getProcessInfo(f"steady{i}")["statename"] == "STOPPED":
            daemon.rpc().supervisor.startProcess(f"steady{i}")
    assert daemon.stop() == 0
    for tag in STEADY + CRASHERS:
        wait_until(lambda tag=tag: not pids_with(tag), timeout=15)


def test_survivors_the_state_file_missed_are_found_and_adopted(daemon: RunningDaemon) -> None:
    """A crash right after a spawn, before the state file is written: the owner mark in
    the children's environment still finds them; none is started twice."""
    steady = TAGS["missed"][0]
    daemon.start(None)
    wait_until(lambda: settled(daemon), timeout=30)
    before = {tag: pids_with(tag) for tag in steady}
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(10)
    (daemon.tmp / "supervisord.pid.state").unlink()
    daemon.start(None)
    wait_until(lambda: settled(daemon), timeout=30)
    CASES["daemon SIGKILL trials"] += 1
    for i, tag in enumerate(steady):
        assert pids_with(tag) == before[tag], f"steady{i} was started again"
        assert daemon.rpc().supervisor.getProcessInfo(f"steady{i}")["pid"] in before[tag]
    assert "is not in its state file: adopting it" in (daemon.tmp / "main.log").read_text()
