"""Layer 4: programs' output on the daemon's own stdout and stderr (forward_output), and
``stdout_logfile = /dev/stdout`` with a small maxbytes — the real daemon, real children."""

from __future__ import annotations

import json
import os
from pathlib import Path

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon

PRINTER = (
    """/bin/sh -c 'printf "one\\ntwo\\n"; printf "oops\\n" >&2; printf "part"; exec sleep 1000'"""
)


def start_with(daemon: Daemon, body: str, supervisord: str) -> None:
    """Start the daemon on ``body``, with more ``[supervisord]`` lines."""
    conf = daemon.write(body)
    text = conf.read_text().replace("identifier = e2e\n", f"identifier = e2e\n{supervisord}\n", 1)
    conf.write_text(text)
    daemon.start(None)


def daemon_output(daemon: Daemon) -> str:
    """What the daemon wrote on its stdout and stderr so far."""
    return (daemon.tmp / "twistd.out").read_text()


def test_forwarded_lines_are_prefixed_and_a_partial_line_waits(daemon: Daemon) -> None:
    """Every line is prefixed ``name | ``; an unterminated one comes when the run ends."""
    start_with(
        daemon,
        f"""
        [program:printer]
        command = {PRINTER}
        startsecs = 0
        """,
        "forward_output = true",
    )
    wait_until(lambda: "printer | oops\n" in daemon_output(daemon))
    output = daemon_output(daemon)
    assert "printer | one\nprinter | two\n" in output
    assert "part" not in output
    daemon.rpc().supervisor.stopProcess("printer")
    wait_until(lambda: "printer | part\n" in daemon_output(daemon))
    # The program's own log has its output as it was written.
    assert daemon.rpc().supervisor.readProcessStdoutLog("printer", 0, 0) == "one\ntwo\npart"


def test_forwarded_json_lines_are_valid_json(daemon: Daemon) -> None:
    """``json``: each forwarded line is one JSON object with time, program, process,
    stream, pid and the line."""
    start_with(
        daemon,
        f"""
        [program:printer]
        command = {PRINTER}
        startsecs = 0
        process_name = %(program_name)s_%(process_num)d
        numprocs = 1
        """,
        "forward_output = true\nforward_output_format = json",
    )
    wait_until(lambda: daemon_output(daemon).count('"stream"') >= 3)
    pid = daemon.rpc().supervisor.getProcessInfo("printer:printer_0")["pid"]
    records = [
        json.loads(line) for line in daemon_output(daemon).splitlines() if line.startswith("{")
    ]
    assert sorted((r["stream"], r["line"]) for r in records) == [
        ("stderr", "oops"),
        ("stdout", "one"),
        ("stdout", "two"),
    ]
    assert {(r["program"], r["process"], r["pid"]) for r in records} == {
        ("printer", "printer:printer_0", pid)
    }
    assert all(r["time"].endswith("Z") for r in records)


def test_stdout_logfile_dev_stdout_works_with_any_maxbytes(daemon: Daemon) -> None:
    """``stdout_logfile = /dev/stdout`` with a tiny maxbytes: every line reaches the
    daemon's stdout, nothing is rotated, renamed or sought."""
    daemon.start(
        """
        [program:chatty]
        command = /bin/sh -c 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 1000'
        startsecs = 0
        stdout_logfile = /dev/stdout
        stdout_logfile_maxbytes = 100
        stdout_logfile_backups = 2
        """
    )
    wait_until(lambda: "line 199\n" in daemon_output(daemon))
    lines = [line for line in daemon_output(daemon).splitlines() if line.startswith("line ")]
    assert lines == [f"line {i}" for i in range(200)]
    assert os.path.exists("/dev/stdout") and not os.path.exists("/dev/stdout.1")
    daemon.rpc().supervisor.clearProcessLogs("chatty")
    assert os.path.exists("/dev/stdout")
    assert daemon.rpc().supervisor.getProcessInfo("chatty")["statename"] == "RUNNING"
    assert "Illegal seek" not in Path(daemon.tmp / "main.log").read_text()
