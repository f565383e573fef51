"""Layer 4: the real daemon driven by the real supervisorctl and XML-RPC clients."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import xmlrpc.client

import pytest

from supervise import __version__
from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import wait_until
from tests.e2e.conftest import Daemon, tool

pytestmark = pytest.mark.e2e

PROGRAMS = """
[program:sleeper]
command = sleep 300
startsecs = 0
[program:crash]
command = sh -c 'exit 3'
startsecs = 1
startretries = 1
[program:missing]
command = /nonexistent/bin
autostart = false
[program:multi]
command = sh -c 'echo hello %(process_num)s; exec sleep 300'
process_name = %(program_name)s_%(process_num)02d
numprocs = 2
startsecs = 0
"""


def test_supervisorctl_status_start_stop(daemon: Daemon) -> None:
    """supervisorctl lists, starts and stops programs as it does against supervisord."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("crash")["statename"] == "FATAL")
    out = daemon.ctl("status")
    assert out.returncode == 3, out
    lines = out.stdout.splitlines()
    assert re.fullmatch(
        r"crash {28}FATAL {5}Exited too quickly \(process log may have details\)", lines[0]
    )
    assert re.fullmatch(r"missing {26}STOPPED {3}Not started", lines[1])
    assert re.fullmatch(r"multi:multi_00 {19}RUNNING {3}pid \d+, uptime 0:00:\d\d", lines[2])
    assert re.fullmatch(r"sleeper {26}RUNNING {3}pid \d+, uptime 0:00:\d\d", lines[4])

    stopped = daemon.ctl("stop", "sleeper")
    assert (stopped.returncode, stopped.stdout) == (0, "sleeper: stopped\n")
    started = daemon.ctl("start", "sleeper")
    assert (started.returncode, started.stdout) == (0, "sleeper: started\n")
    again = daemon.ctl("start", "sleeper")
    assert again.stdout == "sleeper: ERROR (already started)\n"
    missing = daemon.ctl("start", "missing")
    assert missing.stdout == "missing: ERROR (no such file)\n"
    group = daemon.ctl("stop", "multi:*")
    assert sorted(group.stdout.splitlines()) == [
        "multi:multi_00: stopped",
        "multi:multi_01: stopped",
    ]
    nosuch = daemon.ctl("status", "nosuch")
    assert (nosuch.returncode, nosuch.stdout) == (4, "nosuch: ERROR (no such process)\n")


def test_xmlrpc_faults_and_structs(daemon: Daemon) -> None:
    """Faults carry supervisord's codes and strings; structs have its keys."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    assert rpc.supervisor.getAPIVersion() == "3.0"
    assert rpc.supervisor.getState() == {"statecode": 1, "statename": "RUNNING"}
    assert rpc.supervisor.getIdentification() == "e2e"
    info = rpc.supervisor.getProcessInfo("sleeper")
    assert set(info) == {
        "name", "group", "description", "start", "stop", "now", "state", "statename",
        "spawnerr", "exitstatus", "logfile", "stdout_logfile", "stderr_logfile", "pid",
    }  # fmt: skip
    cases = [
        (lambda: rpc.supervisor.getProcessInfo("nosuch"), 10, "BAD_NAME: nosuch"),
        (lambda: rpc.supervisor.startProcess("sleeper"), 60, "ALREADY_STARTED: sleeper"),
        (lambda: rpc.supervisor.stopProcess("missing"), 70, "NOT_RUNNING: missing"),
        (
            lambda: rpc.supervisor.startProcess("missing"),
            20,
            "NO_FILE: can't find command '/nonexistent/bin'",
        ),
        (lambda: rpc.supervisor.signalProcess("sleeper", "FOO"), 11, "BAD_SIGNAL: FOO"),
        (lambda: rpc.supervisor.nosuchmethod(), 1, "UNKNOWN_METHOD"),
        (lambda: rpc.supervisor.getProcessInfo(), 2, "INCORRECT_PARAMETERS"),
        (lambda: rpc.supervisor.readLog(-1, 5), 3, "BAD_ARGUMENTS"),
    ]
    for call, code, text in cases:
        with pytest.raises(xmlrpc.client.Fault) as fault:
            call()
        assert (fault.value.faultCode, fault.value.faultString) == (code, text)
    # A base64 value where a name belongs is refused, not a crash (found by the fuzzer).
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc.supervisor.signalProcess(xmlrpc.client.Binary(b"sleeper"), "HUP")
    assert fault.value.faultCode == 2
    assert fault.value.faultString.endswith("is not a string")
    multi = rpc.system.multicall(
        [
            {"methodName": "supervisor.getAPIVersion", "params": []},
            {"methodName": "supervisor.getProcessInfo", "params": ["x"]},
        ]
    )
    assert multi == ["3.0", {"faultCode": 10, "faultString": "BAD_NAME: x"}]
    assert "supervisor.startProcess" in rpc.system.listMethods()
    assert rpc.system.methodSignature("supervisor.startProcess") == ["boolean", "string", "boolean"]
    assert rpc.supervisor.readProcessStdoutLog("multi:multi_01", 0, 0) == "hello 1\n"


def test_bad_requests_do_not_hurt_the_daemon(daemon: Daemon) -> None:
    """Garbage bodies get HTTP errors and the daemon keeps serving."""
    daemon.start(PROGRAMS)

    for body in (b"garbage", b"<?xml version='1.0'?><methodCall>", b"x" * (5 * 1024 * 1024)):
        connection = UnixHTTPConnection(str(daemon.sock))
        connection.request("POST", "/RPC2", body=body, headers={"Content-Type": "text/xml"})
        status = connection.getresponse().status
        connection.close()
        assert status in (400, 413)
    assert daemon.rpc().supervisor.getState()["statename"] == "RUNNING"


def test_sigterm_stops_children_and_exits(daemon: Daemon) -> None:
    """SIGTERM stops every program, removes the pidfile and exits 0."""
    daemon.start(PROGRAMS)
    pid = daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"]
    assert daemon.stop() == 0
    assert not os.path.exists(daemon.tmp / "supervisord.pid")
    wait_until(
        lambda: (
            not os.path.exists(f"/proc/{pid}")
            or open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z"
        )
    )
    log = (daemon.tmp / "main.log").read_text()
    assert "received SIGTERM indicating exit request" in log
    assert "stopped: sleeper (terminated by SIGTERM)" in log


def test_start_after_a_clean_stop_autostarts_everything_again(daemon: Daemon) -> None:
    """A clean stop leaves nothing to adopt: the next start is a fresh one, as supervisord's."""
    daemon.start(PROGRAMS)
    old = daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"]
    assert daemon.stop() == 0
    daemon.start(None)
    info = daemon.rpc().supervisor.getProcessInfo("sleeper")
    wait_until(lambda: daemon.rpc().supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING")
    assert daemon.rpc().supervisor.getProcessInfo("sleeper")["pid"] not in (0, old)
    assert info["statename"] in ("STARTING", "RUNNING")


def test_reread_update_and_bad_reload(daemon: Daemon) -> None:
    """reread/update apply a changed config; a broken config keeps the running one."""
    daemon.start(PROGRAMS)
    daemon.write(
        PROGRAMS.replace(
            "[program:missing]", "[program:extra]\ncommand=sleep 300\n[program:missing]"
        )
    )
    reread = daemon.ctl("reread")
    assert reread.stdout == "extra: available\n"
    update = daemon.ctl("update")
    assert "extra: added process group" in update.stdout
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("extra")["statename"] == "RUNNING")
    conf = daemon.write("[program:broken]\nautostart=maybe\ncommand=x\n")
    assert "ERROR: CANT_REREAD:" in daemon.ctl("reread").stdout
    extra = rpc.supervisor.getProcessInfo("extra")["pid"]
    # supervisorctl reload: the refusal is a fault it prints as an error, exit status 1.
    where = f"at {conf}:14, [program:broken] autostart"
    reload = daemon.ctl("reload")
    assert reload.returncode == 1, reload.stdout
    assert "Restarted supervisord" not in reload.stdout
    assert "CANT_REREAD" in reload.stdout and where in reload.stdout
    ours = ctl_main(daemon, "reload")
    assert (ours.returncode, ours.stdout) == (
        1,
        f"ERROR: CANT_REREAD: not a valid boolean value: 'maybe' in section 'program:broken' "
        f"(file: '{conf}') {where}\n",
    )
    os.kill(daemon.process.pid, signal.SIGHUP)
    wait_until(lambda: (daemon.tmp / "main.log").read_text().count("restart refused") == 3)
    assert rpc.supervisor.getProcessInfo("extra")["pid"] == extra


def ctl_main(daemon: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("python3"), "-m", "supervise.ctl.main", "-c", str(daemon.conf), *args],
        capture_output=True, text=True, env=daemon.env(), timeout=60,
    )  # fmt: skip


def test_config_error_exits_2_naming_the_option(tmp_path) -> None:
    """An invalid config makes the daemon refuse to start, naming file, section and option."""
    conf = tmp_path / "bad.conf"
    conf.write_text("[supervisord]\n[program:a]\ncommand=/bin/cat\nstartsecs=ten\n")
    env = Daemon(tmp_path).env()
    result = subprocess.run(
        [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(conf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "Error: invalid literal for int() with base 10: 'ten' in section 'program:a' "
        f"(file: '{conf}') at {conf}:4, [program:a] startsecs"
    ) in result.stderr


def test_supervise_command_line(tmp_path) -> None:
    """The supervise command answers -v with its own version and the supervisord one it
    matches, and rejects unknown flags as supervisord does."""
    env = Daemon(tmp_path).env()
    version = subprocess.run(
        [tool("python3"), "-m", "supervise.cli", "-v"], capture_output=True, text=True, env=env
    )
    assert version.stdout == f"supervise {__version__} (supervisord 4.3.0, XML-RPC API 3.0)\n"
    bad = subprocess.run(
        [tool("python3"), "-m", "supervise.cli", "--bogus"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and bad.stderr.startswith("Error: option --bogus not recognized")


def test_sighup_reloads_a_changed_config(daemon: Daemon) -> None:
    """SIGHUP stops everything and starts the new configuration in the same pid."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    old_pid = rpc.supervisor.getPID()
    daemon.write("[program:fresh]\ncommand = sleep 300\nstartsecs = 0\n")
    os.kill(daemon.process.pid, signal.SIGHUP)

    def fresh_running() -> bool:
        try:
            return daemon.rpc().supervisor.getProcessInfo("fresh")["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    wait_until(fresh_running)
    names = [p["name"] for p in daemon.rpc().supervisor.getAllProcessInfo()]
    assert (names, daemon.rpc().supervisor.getPID()) == (["fresh"], old_pid)


def test_supervise_command_runs_in_foreground(tmp_path) -> None:
    """`supervise -n -c FILE` runs the daemon and echoes the main log to stdout."""
    d = Daemon(tmp_path)
    conf = d.write("[program:echoer]\ncommand = sleep 300\nstartsecs = 0\n")
    process = subprocess.Popen(
        [tool("python3"), "-m", "supervise.cli", "-n", "-c", str(conf)],
        env=d.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "success: echoer entered RUNNING state" in line:
                break
        assert any("spawned: 'echoer' with pid" in line for line in lines)
        process.terminate()
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_second_daemon_on_same_socket_refuses_to_start(daemon: Daemon) -> None:
    """A second daemon on a socket already served exits 2 with supervisord's message."""
    daemon.start(PROGRAMS)
    second = subprocess.run(
        [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(daemon.conf)],
        capture_output=True, text=True, env=daemon.env(), timeout=60, cwd=daemon.tmp,
    )  # fmt: skip
    assert second.returncode == 2
    assert "Error: Another program is already listening on a port" in second.stderr
    assert daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
