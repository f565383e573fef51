"""Layer 4: control over HTTP — auth, log streams, the rest of supervisorctl, bad input."""

from __future__ import annotations

import hashlib
import http.client
import subprocess
import xmlrpc.client

import pytest

from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import free_port
from tests.e2e.conftest import Daemon, tool
from tests.e2e.test_daemon import PROGRAMS, wait_until

pytestmark = pytest.mark.e2e


def inet_section(port: int, password: str = "{SHA}" + hashlib.sha1(b"s3cret").hexdigest()) -> str:
    return (
        f"\n[inet_http_server]\nport = 127.0.0.1:{port}\nusername = admin\npassword = {password}\n"
    )


def test_wrong_password_is_401_and_runs_nothing(daemon: Daemon) -> None:
    """With credentials set, a wrong or missing password gets 401 and changes nothing."""
    port = free_port()
    daemon.start(PROGRAMS + inet_section(port))
    url = f"http://127.0.0.1:{port}"
    bad = daemon.ctl("-s", url, "-u", "admin", "-p", "wrong", "stop", "sleeper")
    # supervisord gives exactly this too: the upcheck's message, then the failed call's.
    assert bad.returncode == 1 and bad.stdout.startswith("Server requires authentication\n")
    assert "401 Unauthorized" in bad.stdout
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = xmlrpc.client.dumps((), "supervisor.shutdown")
    connection.request("POST", "/RPC2", body=body, headers={"Content-Type": "text/xml"})
    response = connection.getresponse()
    assert (response.status, response.getheader("WWW-Authenticate")) == (
        401,
        'basic realm="default"',
    )
    good = daemon.ctl("-s", url, "-u", "admin", "-p", "s3cret", "status", "sleeper")
    assert good.returncode == 0 and "RUNNING" in good.stdout
    proxy = xmlrpc.client.ServerProxy(f"http://admin:s3cret@127.0.0.1:{port}/RPC2")
    assert proxy.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"


def test_tail_follow_and_maintail(daemon: Daemon) -> None:
    """tail -f streams new output as it is written; maintail shows the main log."""
    daemon.start(
        PROGRAMS
        + "\n[program:ticker]\ncommand = sh -c 'while true; do echo tick; sleep 0.1; done'\n"
    )
    follow = subprocess.Popen(
        [tool("supervisorctl"), "-c", str(daemon.conf), "tail", "-f", "ticker"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline() == "==> Press Ctrl-C to exit <==\n"
        seen = [follow.stdout.readline() for _ in range(5)]
        assert seen.count("tick\n") >= 4
    finally:
        follow.kill()
        follow.wait(10)
    main = daemon.ctl("maintail", "-20000")  # bytes: enough for the whole start-up
    assert "spawned: 'ticker' with pid" in main.stdout
    tail = daemon.ctl("tail", "multi:multi_00")
    assert tail.stdout == "hello 0\n\n"  # supervisorctl adds a newline after the bytes


def test_remaining_supervisorctl_commands(daemon: Daemon) -> None:
    """pid, signal, clear, avail, restart, remove/add, version behave as with supervisord."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    assert daemon.ctl("version").stdout == "4.3.0\n"
    assert daemon.ctl("pid").stdout == f"{rpc.supervisor.getPID()}\n"
    assert (
        daemon.ctl("pid", "sleeper").stdout
        == f"{rpc.supervisor.getProcessInfo('sleeper')['pid']}\n"
    )
    assert daemon.ctl("signal", "HUP", "sleeper").stdout == "sleeper: signalled\n"
    assert daemon.ctl("clear", "multi:multi_00").stdout == "multi:multi_00: cleared\n"
    assert rpc.supervisor.readProcessStdoutLog("multi:multi_00", 0, 0) == ""
    avail = daemon.ctl("avail").stdout.splitlines()
    assert "sleeper                          in use    auto      999:999" in avail
    old_pid = rpc.supervisor.getProcessInfo("sleeper")["pid"]
    restart = daemon.ctl("restart", "sleeper")
    assert restart.stdout == "sleeper: stopped\nsleeper: started\n"
    assert rpc.supervisor.getProcessInfo("sleeper")["pid"] != old_pid
    assert daemon.ctl("remove", "sleeper").stdout == "ERROR: process/group still running: sleeper\n"
    daemon.ctl("stop", "sleeper")
    assert daemon.ctl("remove", "sleeper").stdout == "sleeper: removed process group\n"
    assert daemon.ctl("add", "sleeper").stdout == "sleeper: added process group\n"
    wait_until(lambda: rpc.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING")
    shutdown = daemon.ctl("shutdown")
    assert shutdown.stdout == "Shut down\n"
    assert daemon.process is not None and daemon.process.wait(30) == 0


def test_entity_bomb_and_wrong_types_are_refused(daemon: Daemon) -> None:
    """An entity-expansion bomb and wrongly typed arguments are refused; the daemon keeps serving."""
    daemon.start(PROGRAMS)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>'
        "<methodCall><methodName>supervisor.getProcessInfo</methodName><params><param>"
        "<value><string>&e;</string></value></param></params></methodCall>"
    )

    connection = UnixHTTPConnection(str(daemon.sock))
    connection.request("POST", "/RPC2", body=bomb, headers={"Content-Type": "text/xml"})
    assert connection.getresponse().status == 400
    rpc = daemon.rpc()
    with pytest.raises(xmlrpc.client.Fault) as fault:
        rpc.supervisor.startProcess(["sleeper"])
    assert fault.value.faultCode == 2
    assert rpc.supervisor.getProcessInfo("sleeper")["statename"] == "RUNNING"


def test_supervisorctl_fg_streams_output_and_sends_stdin(daemon: Daemon) -> None:
    """`supervisorctl fg cat` sends typed lines to the program and shows what it prints."""
    daemon.start("[program:cat]\ncommand = cat\nstartsecs = 0\n")
    fg = subprocess.Popen(
        [tool("supervisorctl"), "-c", str(daemon.conf), "fg", "cat"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert fg.stdin is not None and fg.stdout is not None
        assert fg.stdout.readline() == "==> Press Ctrl-C to exit <==\n"
        fg.stdin.write("hello from fg\n")
        fg.stdin.flush()
        assert fg.stdout.readline() == "hello from fg\n"
    finally:
        fg.kill()
        fg.wait(10)
    assert daemon.ctl("help").stdout.startswith("\ndefault commands (type help <topic>):")


def test_stdin_closed_by_the_program_is_no_file(daemon: Daemon) -> None:
    """sendProcessStdin to a program that closed its stdin answers NO_FILE (supervisord's
    EPIPE), and NOT_RUNNING once it is stopped."""
    daemon.start("[program:deaf]\ncommand = sh -c 'exec 0<&-; sleep 300'\nstartsecs = 0\n")
    rpc = daemon.rpc()

    def refused() -> bool:
        try:
            rpc.supervisor.sendProcessStdin("deaf", "hello\n")
        except xmlrpc.client.Fault as fault:
            assert fault.faultCode == 20, fault.faultString
            return True
        return False

    wait_until(refused)
    rpc.supervisor.stopProcess("deaf")
    try:
        rpc.supervisor.sendProcessStdin("deaf", "hello\n")
    except xmlrpc.client.Fault as fault:
        assert (fault.faultCode, fault.faultString) == (70, "NOT_RUNNING: deaf")
    else:
        raise AssertionError("a stopped process took stdin")
