"""Layer 4: supervisord-protocol listeners — our recorder and the real superlance ones."""

from __future__ import annotations

import json
import os
import sys
import xmlrpc.client
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon, tool
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent


def start_with_recorder(daemon: Daemon, programs: str, listener_options: str) -> Path:
    """Start the daemon with ``programs`` and our recorder listener; return its output file
    once the listener is RUNNING."""
    out = daemon.tmp / "events.jsonl"
    daemon.start(
        programs
        + f"[eventlistener:rec]\ncommand = {sys.executable} {HERE / 'recorder_listener.py'} {out}\n"
        + listener_options
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("rec")["statename"] == "RUNNING")
    return out


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_burst_of_state_changes_none_lost_order_kept(daemon: Daemon) -> None:
    """1,000 state changes in a burst reach the listener: none lost, each process in order."""
    programs = "".join(
        f"[program:p{i:02d}]\ncommand = sleep 300\nstartsecs = 0\nautostart = false\n"
        for i in range(25)
    )
    members = ",".join(f"p{i:02d}" for i in range(25))
    out = start_with_recorder(
        daemon,
        programs + f"[group:burst]\nprograms = {members}\n",
        "events = PROCESS_STATE\nbuffer_size = 5000\n",
    )
    rpc = daemon.rpc()
    for _ in range(10):
        rpc.supervisor.startProcessGroup("burst", False)
        rpc.supervisor.stopProcessGroup("burst", True)
    wanted = 25 * 10 * 4
    wait_until(
        lambda: (
            len([r for r in records(out) if r["payload"].startswith("processname:p")]) >= wanted
        ),
        60,
    )
    per_process: dict[str, list[str]] = {}
    for record in records(out):
        fields = dict(token.split(":", 1) for token in record["payload"].split())
        if fields["processname"].startswith("p"):
            per_process.setdefault(fields["processname"], []).append(record["headers"]["eventname"])
    cycle = [
        "PROCESS_STATE_STARTING",
        "PROCESS_STATE_RUNNING",
        "PROCESS_STATE_STOPPING",
        "PROCESS_STATE_STOPPED",
    ]
    assert all(states == cycle * 10 for states in per_process.values()), per_process
    serials = [int(r["headers"]["serial"]) for r in records(out)]
    assert serials == sorted(serials)


def test_rejected_event_is_delivered_again(daemon: Daemon) -> None:
    """An event the listener answers FAIL is sent again, with the same serial."""
    out = start_with_recorder(daemon, "", "events = REMOTE_COMMUNICATION\n")
    rpc = daemon.rpc()
    rpc.supervisor.sendRemoteCommEvent("test", "failonce please")
    wait_until(lambda: len(records(out)) == 1)
    (record,) = records(out)
    assert record["payload"] == "type:test\nfailonce please"
    assert record["headers"]["eventname"] == "REMOTE_COMMUNICATION"


def test_superlance_crashmail_sends_mail_for_a_crash(daemon: Daemon) -> None:
    """The real crashmail mails (through a stand-in sendmail) when a program exits unexpectedly."""
    mailbox = daemon.tmp / "mailbox"
    sendmail = daemon.tmp / "sendmail"
    sendmail.write_text(f"#!/bin/sh\ncat >> {mailbox}\n")
    sendmail.chmod(0o755)
    daemon.start(
        "[program:crasher]\ncommand = sleep 300\nstartsecs = 0\n"
        f"[eventlistener:crashmail]\ncommand = {tool('crashmail')} -a -m ops@example.com -s {sendmail}\n"
        "events = PROCESS_STATE_EXITED\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("crashmail")["statename"] == "RUNNING")
    rpc.supervisor.signalProcess("crasher", "KILL")
    wait_until(lambda: mailbox.exists() and "crasher" in mailbox.read_text())
    mail = mailbox.read_text()
    assert "To: ops@example.com" in mail
    assert "Process crasher in group crasher exited unexpectedly" in mail


def test_superlance_httpok_restarts_a_program_whose_url_fails(daemon: Daemon) -> None:
    """The real httpok, on TICK_5, restarts a RUNNING program whose URL does not answer."""
    daemon.start(
        "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
        f"[eventlistener:httpok]\ncommand = {tool('httpok')} -p web -t 1 http://127.0.0.1:9/\n"
        "events = TICK_5\n"
    )
    rpc = daemon.rpc()
    first = rpc.supervisor.getProcessInfo("web")["pid"]
    wait_until(lambda: rpc.supervisor.getProcessInfo("web")["pid"] not in (0, first), 30)
    assert rpc.supervisor.getProcessInfo("web")["statename"] in ("RUNNING", "STARTING")


def test_superlance_memmon_restarts_a_program_over_its_limit(daemon: Daemon) -> None:
    """The real memmon restarts a program whose RSS is above its limit."""
    hog = "import time; data = bytearray(40 * 1024 * 1024); time.sleep(300)"
    daemon.start(
        f'[program:hog]\ncommand = {sys.executable} -c "{hog}"\nstartsecs = 0\n'
        f"[eventlistener:memmon]\ncommand = {tool('memmon')} -p hog=20MB\n"
        "events = TICK_5\n"
    )
    rpc = daemon.rpc()
    first = rpc.supervisor.getProcessInfo("hog")["pid"]
    wait_until(lambda: rpc.supervisor.getProcessInfo("hog")["pid"] not in (0, first), 30)


def test_listener_stdout_log_keeps_protocol_tokens(daemon: Daemon) -> None:
    """A listener's stdout log records its protocol tokens, as supervisord's does."""
    start_with_recorder(daemon, "", "events = PROCESS_GROUP\n")
    rpc = daemon.rpc()
    wait_until(lambda: "READY" in rpc.supervisor.readProcessStdoutLog("rec", 0, 0))
    try:
        rpc.supervisor.addProcessGroup("nosuch")
    except xmlrpc.client.Fault as fault:
        assert fault.faultCode == 10
    assert os.path.exists(rpc.supervisor.getProcessInfo("rec")["stdout_logfile"])
