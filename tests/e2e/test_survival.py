"""Layer 4: nothing is lost across the daemon's own restarts: a SIGKILL (the descriptor
keeper holds every pipe, dead programs are restarted by their policy) and a re-exec
(every state kept as it was)."""

from __future__ import annotations

import os
import signal
import sys
import xmlrpc.client

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until
from tests.e2e.test_handoff import pids_with

pytestmark = pytest.mark.e2e

#: Numbered lines, 50 at a time every 10 ms: some are always in flight.
WRITER = (
    "import itertools, sys, time\n"
    "for i in itertools.count():\n"
    "    sys.stdout.write(f'{i}\\n')\n"
    "    if i % 50 == 0:\n"
    "        sys.stdout.flush(); time.sleep(0.01)\n"
)


def answering(daemon: Daemon) -> bool:
    try:
        return daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        return False


def numbers(path) -> list[int]:
    text = path.read_text()
    return [int(line) for line in text[: text.rfind("\n") + 1].split()]


def test_sigkill_loses_no_line_and_no_program(daemon: Daemon) -> None:
    """kill -9 of the daemon: a chatty program keeps its pid (no SIGPIPE: its pipe's read
    end is held by the keeper) and its numbered lines arrive with no gap once the next
    daemon takes its pipes back."""
    (daemon.tmp / "writer.py").write_text(WRITER)
    log = daemon.tmp / "chatty.log"
    daemon.start(
        f"[program:chatty]\ncommand = {sys.executable} {daemon.tmp / 'writer.py'}\n"
        f"startsecs = 0\nstdout_logfile = {log}\nstdout_logfile_maxbytes = 0\n"
    )
    rpc = daemon.rpc()
    pid = rpc.supervisor.getProcessInfo("chatty")["pid"]
    wait_until(lambda: log.exists() and len(numbers(log)) > 1000)
    assert daemon.process is not None
    daemon.process.kill()
    daemon.process.wait(10)
    seen = len(numbers(log))
    daemon.start(None)
    rpc = daemon.rpc()
    info = rpc.supervisor.getProcessInfo("chatty")
    assert (info["statename"], info["pid"]) == ("RUNNING", pid)
    assert pids_with(str(daemon.tmp / "writer.py")) == {pid}
    wait_until(lambda: len(numbers(log)) > seen + 5000)
    assert "took back the output pipes of 1 processes" in (daemon.tmp / "main.log").read_text()
    assert daemon.stop() == 0
    got = numbers(log)
    assert got == list(range(len(got))), "a line was lost or repeated"


def test_program_killed_while_no_daemon_runs_is_restarted(daemon: Daemon) -> None:
    """A program that dies while the daemon is down is started again by its policy."""
    tag = f"sleep {41000 + os.getpid() % 1000}"
    daemon.start(f"[program:victim]\ncommand = {tag}\nstartsecs = 0\n")
    rpc = daemon.rpc()
    old = rpc.supervisor.getProcessInfo("victim")["pid"]
    assert daemon.process is not None
    daemon.process.kill()
    daemon.process.wait(10)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not pids_with(tag))
    daemon.start(None)
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("victim")["statename"] == "RUNNING")
    new = rpc.supervisor.getProcessInfo("victim")["pid"]
    assert new != old and pids_with(tag) == {new}
    assert "ended while no daemon was watching it" in (daemon.tmp / "main.log").read_text()


def test_reexec_keeps_fatal_exited_and_backoff_as_they_were(daemon: Daemon) -> None:
    """A FATAL, an EXITED and a BACKOFF program come out of a re-exec unchanged: state,
    spawn error, exit status and times."""
    daemon.start(
        "[program:fatal]\ncommand = sh -c 'exit 1'\nstartsecs = 1\nstartretries = 0\n"
        "[program:done]\ncommand = sh -c 'exit 3'\nstartsecs = 0\nautorestart = false\n"
        "[program:flaky]\ncommand = sh -c 'exit 1'\nstartsecs = 1\nstartretries = 5\n"
        "backoff_initial = 60\n"
    )
    rpc = daemon.rpc()
    wanted = {"fatal": "FATAL", "done": "EXITED", "flaky": "BACKOFF"}

    def settled() -> bool:
        infos = {i["name"]: i["statename"] for i in rpc.supervisor.getAllProcessInfo()}
        return infos == wanted

    wait_until(settled)
    keys = ("statename", "spawnerr", "exitstatus", "start", "stop", "description")
    before = {i["name"]: {k: i[k] for k in keys} for i in rpc.supervisor.getAllProcessInfo()}
    assert before["done"]["exitstatus"] == 3 and before["fatal"]["spawnerr"]
    assert rpc.supervise.reexec() is True
    wait_until(lambda: "re-executed: taking over" in (daemon.tmp / "main.log").read_text())
    wait_until(lambda: answering(daemon))
    rpc = daemon.rpc()
    after = {i["name"]: {k: i[k] for k in keys} for i in rpc.supervisor.getAllProcessInfo()}
    assert after == before


def test_exit_during_the_reexec_is_applied_after_it(daemon: Daemon) -> None:
    """A program that exits while the daemon re-executes (it watches for the hand-off
    file, which exists only then) is seen exiting with its status and restarted by its
    policy, never reaped as an unknown pid."""
    handoff = daemon.tmp / "supervisord.pid.state.handoff"
    script = daemon.tmp / "quitter.sh"
    script.write_text(f"while [ ! -e {handoff} ]; do sleep 0.001; done\nexit 7\n")
    daemon.start(f"[program:quitter]\ncommand = sh {script}\nstartsecs = 0\nautorestart = true\n")
    rpc = daemon.rpc()
    first = rpc.supervisor.getProcessInfo("quitter")["pid"]
    assert rpc.supervise.reexec() is True
    log = daemon.tmp / "main.log"
    wait_until(lambda: "exited: quitter (exit status 7; not expected)" in log.read_text())
    wait_until(lambda: answering(daemon))
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("quitter")["pid"] not in (0, first))
    text = log.read_text()
    assert "reaped unknown pid" not in text
    assert text.index("re-executed: taking over") < text.index("exited: quitter")
