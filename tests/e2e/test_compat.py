"""Layer 4: details where supervisord's behaviour is easy to get wrong, pinned down."""

from __future__ import annotations

import json
import sys
import xmlrpc.client
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e
HERE = Path(__file__).parent

GROUPED = """
[program:sleeper]
command = sleep 300
startsecs = 0
[program:nolog]
command = sleep 300
startsecs = 0
stdout_logfile = NONE
[group:grp]
programs = sleeper, nolog
[program:hi]
command = sleep 300
startsecs = 0
priority = 300
[program:lo]
command = sleep 300
startsecs = 0
priority = 100
[group:prio]
programs = hi, lo
"""


def test_clear_keeps_an_empty_log_of_a_stopped_process(daemon: Daemon) -> None:
    """Clearing the logs of a stopped process leaves empty files that still read back."""
    daemon.start(GROUPED)
    rpc = daemon.rpc()
    rpc.supervisor.stopProcess("grp:sleeper")
    assert daemon.ctl("clear", "grp:sleeper").stdout == "grp:sleeper: cleared\n"
    assert rpc.supervisor.readProcessStdoutLog("grp:sleeper", 0, 0) == ""
    tail = daemon.ctl("tail", "grp:sleeper")
    assert tail.returncode == 0


def test_multicall_stop_then_start_of_the_same_process(daemon: Daemon) -> None:
    """A stop then a start in one multicall both succeed, as with supervisord."""
    daemon.start(GROUPED)
    rpc = daemon.rpc()
    result = rpc.system.multicall(
        [
            {"methodName": "supervisor.stopProcess", "params": ["grp:sleeper"]},
            {"methodName": "supervisor.startProcess", "params": ["grp:sleeper"]},
            {"methodName": "supervisor.stopProcessGroup", "params": ["prio"]},
            {"methodName": "supervisor.startProcessGroup", "params": ["prio"]},
        ]
    )
    assert result[:2] == [True, True]
    assert [r["status"] for r in result[3]] == [80, 80]


def test_group_calls_keep_supervisords_order_and_faults(daemon: Daemon) -> None:
    """Group results come in priority then config order; a bad signal is a per-process result."""
    daemon.start(GROUPED)
    rpc = daemon.rpc()
    stopped = rpc.supervisor.stopProcessGroup("prio", False)
    assert [r["name"] for r in stopped] == ["lo", "hi"]
    signalled = daemon.ctl("signal", "BOGUS", "grp:*")
    assert (
        signalled.stdout
        == "grp:sleeper: ERROR (bad signal name)\ngrp:nolog: ERROR (bad signal name)\n"
    )
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc.supervisor.startProcess("nosuch:*")
    assert fault.value.faultString == "BAD_NAME: nosuch:*"
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc.supervisor.readProcessStdoutLog("grp:nolog", 0, 0)
    assert fault.value.faultString == "NO_FILE"


def test_config_info_reports_the_auto_log_in_use(daemon: Daemon) -> None:
    """getAllConfigInfo shows the AUTO log file actually used, and 'none' for no serverurl."""
    daemon.start(GROUPED)
    rpc = daemon.rpc()
    infos = {i["name"]: i for i in rpc.supervisor.getAllConfigInfo()}
    assert (
        infos["sleeper"]["stdout_logfile"]
        == rpc.supervisor.getProcessInfo("grp:sleeper")["stdout_logfile"]
    )
    assert infos["nolog"]["stdout_logfile"] == "none"
    assert infos["sleeper"]["serverurl"] == "none"


def test_tail_accepts_negative_offsets_like_supervisord(daemon: Daemon) -> None:
    """tailProcessStdoutLog does supervisord's arithmetic for negative offsets and lengths."""
    daemon.start("[program:echoer]\ncommand = sh -c 'echo hello; exec sleep 300'\nstartsecs = 0\n")
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.readProcessStdoutLog("echoer", 0, 0) == "hello\n")
    assert rpc.supervisor.tailProcessStdoutLog("echoer", -1, 3) == ["lo\n", 6, True]
    assert rpc.supervisor.tailProcessStdoutLog("echoer", 0, -1) == ["", 6, True]


def test_listener_sees_running_first_and_every_stop_at_shutdown(daemon: Daemon) -> None:
    """SUPERVISOR_STATE_CHANGE_RUNNING comes before any spawn; at shutdown the listener,
    stopped last, gets every other process's STOPPING and STOPPED."""
    out = daemon.tmp / "events.jsonl"
    daemon.start(
        "[program:a]\ncommand = sleep 300\nstartsecs = 0\n[program:b]\ncommand = sleep 300\nstartsecs = 0\n"
        f"[eventlistener:rec]\ncommand = {sys.executable} {HERE / 'recorder_listener.py'} {out}\n"
        "events = EVENT\nbuffer_size = 100\n"
    )
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("rec")["statename"] == "RUNNING")
    assert daemon.stop() == 0
    names = [
        (json.loads(line)["headers"]["eventname"], json.loads(line)["payload"].split(" ")[0])
        for line in out.read_text().splitlines()
    ]
    kinds = [n for n, _ in names]
    assert kinds.index("SUPERVISOR_STATE_CHANGE_RUNNING") < kinds.index("PROCESS_STATE_STARTING")
    assert kinds.index("SUPERVISOR_STATE_CHANGE_RUNNING") > max(
        i for i, k in enumerate(kinds) if k == "PROCESS_GROUP_ADDED"
    )
    for process in ("processname:a", "processname:b"):
        assert ("PROCESS_STATE_STOPPED", process) in names


def test_remaining_fault_codes(daemon: Daemon) -> None:
    """NOT_EXECUTABLE, SPAWN_ERROR, ABNORMAL_TERMINATION, ALREADY_ADDED, SIGNATURE_UNSUPPORTED
    and SHUTDOWN_STATE carry supervisord's codes and strings."""
    daemon.start(
        "[program:dir]\ncommand = /etc\nautostart = false\n"
        "[program:quick]\ncommand = sh -c 'exit 1'\nstartsecs = 2\nstartretries = 0\nautostart = false\n"
        "[program:slow]\ncommand = sleep 300\nstartsecs = 5\nautostart = false\n"
        "[program:stubborn]\ncommand = sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n"
        "startsecs = 0\nstopwaitsecs = 5\n"
    )
    rpc = daemon.rpc()

    def fault(call):  # type: ignore[no-untyped-def]
        with pytest.raises(xmlrpc.client.Fault) as raised:
            call()
        return raised.value.faultCode, raised.value.faultString

    assert fault(lambda: rpc.supervisor.startProcess("dir")) == (
        21,
        "NOT_EXECUTABLE: command at '/etc' is a directory",
    )
    assert fault(lambda: rpc.supervisor.startProcess("quick")) == (50, "SPAWN_ERROR: quick")
    import threading

    outcome: list[tuple[int, str]] = []
    waiter = threading.Thread(
        target=lambda: outcome.append(fault(lambda: daemon.rpc().supervisor.startProcess("slow")))
    )
    waiter.start()
    wait_until(lambda: rpc.supervisor.getProcessInfo("slow")["statename"] == "STARTING")
    rpc.supervisor.stopProcess("slow")
    waiter.join(30)
    assert outcome == [(40, "ABNORMAL_TERMINATION: slow")]
    assert fault(lambda: rpc.supervisor.addProcessGroup("slow")) == (90, "ALREADY_ADDED: slow")
    assert fault(lambda: rpc.system.methodHelp("supervisor.nosuch")) == (4, "SIGNATURE_UNSUPPORTED")
    assert rpc.supervisor.shutdown() is True
    wait_until(lambda: "waiting for" in (daemon.tmp / "main.log").read_text())
    assert fault(lambda: daemon.rpc().supervisor.getState()) == (6, "SHUTDOWN_STATE")
    assert daemon.rpc().supervisor.sendRemoteCommEvent("still", "allowed") is True


def test_setup_failures_answer_spawn_error(daemon: Daemon) -> None:
    """A child that cannot be set up (bad directory) or a log that cannot be opened gives
    SPAWN_ERROR to a waiting start, as supervisord does, and never hangs."""
    daemon.start(
        "[program:baddir]\ncommand = /bin/true\ndirectory = /no/such/dir\nstartretries = 0\nautostart = false\n"
        f"[program:badlog]\ncommand = sleep 300\nstdout_logfile = {daemon.tmp}\nstartretries = 0\nautostart = false\n"
    )
    rpc = daemon.rpc()
    for name in ("baddir", "badlog"):
        with pytest.raises(xmlrpc.client.Fault) as fault:
            rpc.supervisor.startProcess(name)
        assert fault.value.faultString == f"SPAWN_ERROR: {name}"
    started = daemon.ctl("start", "baddir")
    assert (started.returncode, started.stdout) == (7, "baddir: ERROR (spawn error)\n")
    assert rpc.supervisor.getProcessInfo("badlog")["description"] == (
        "unknown error making dispatchers for 'badlog': EISDIR"
    )
