"""Layer 4: the daemon's exit status is a critical program's, or (exit_when_done) its
batch jobs' — the real daemon, real children."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon

HERE = Path(__file__).resolve().parent


def waiting_for(flag: Path, code: int) -> str:
    """A command that waits until ``flag`` exists, then exits ``code``."""
    return f"/bin/sh -c 'while [ ! -e {flag} ]; do sleep 0.05; done; exit {code}'"


def start_with(daemon: Daemon, body: str, supervisord: str = "") -> None:
    """Start the daemon on ``body``, with more ``[supervisord]`` lines."""
    conf = daemon.write(body)
    conf.write_text(
        conf.read_text().replace("identifier = e2e\n", f"identifier = e2e\n{supervisord}\n", 1)
    )
    daemon.start(None)


def exit_status(daemon: Daemon) -> int:
    """Wait for the daemon to exit on its own; its exit status."""
    assert daemon.process is not None
    return daemon.process.wait(60)


def test_a_critical_program_exit_code_becomes_the_daemons(daemon: Daemon, tmp_path: Path) -> None:
    """A critical program exits 7: every other program is stopped, the daemon exits 7,
    and the main log and an event listener say which program ended it and why."""
    go, events = tmp_path / "go", tmp_path / "events.jsonl"
    start_with(
        daemon,
        f"""
        [program:web]
        command = /bin/sleep 1000
        startsecs = 0

        [program:db]
        command = {waiting_for(go, 7)}
        startsecs = 0
        autorestart = false
        critical = true

        [eventlistener:rec]
        command = {sys.executable} {HERE / "recorder_listener.py"} {events}
        events = SUPERVISE_DAEMON_EXITING
        startsecs = 0
        """,
    )
    web_pid = daemon.rpc().supervisor.getProcessInfo("web")["pid"]
    wait_until(events.exists)  # the listener is up and will read its events
    go.touch()
    assert exit_status(daemon) == 7
    log = (tmp_path / "main.log").read_text()
    assert "exiting with status 7: critical program db exit status 7" in log
    assert "stopped: web (terminated by SIGTERM)" in log
    assert not Path(f"/proc/{web_pid}").exists()
    seen = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["headers"]["eventname"] for e in seen] == ["SUPERVISE_DAEMON_EXITING"]
    assert "process:db status:7" in seen[0]["payload"]


def test_a_critical_program_killed_by_a_signal_gives_128_plus_n(daemon: Daemon) -> None:
    """A critical program killed by SIGKILL: the daemon exits 137, as a shell would."""
    start_with(
        daemon,
        """
        [program:db]
        command = /bin/sleep 1000
        startsecs = 0
        autorestart = false
        critical = true
        """,
    )
    daemon.rpc().supervisor.signalProcess("db", "KILL")
    assert exit_status(daemon) == 137


def test_exit_when_done_exits_0_after_batch_jobs_succeed(daemon: Daemon, tmp_path: Path) -> None:
    """Every batch job ends as expected: the daemon exits 0 on its own."""
    go = tmp_path / "go"
    start_with(
        daemon,
        f"""
        [program:first]
        command = /bin/true
        startsecs = 0
        autorestart = false

        [program:second]
        command = {waiting_for(go, 0)}
        startsecs = 0
        autorestart = false
        """,
        "exit_when_done = true",
    )
    wait_until(lambda: daemon.rpc().supervisor.getProcessInfo("first")["statename"] == "EXITED")
    assert daemon.process is not None and daemon.process.poll() is None
    go.touch()
    assert exit_status(daemon) == 0
    assert (
        "exiting with status 0: every program has ended as expected"
        in (tmp_path / "main.log").read_text()
    )


def test_exit_when_done_exits_with_the_first_unexpected_status(
    daemon: Daemon, tmp_path: Path
) -> None:
    """A batch job fails with 4, another then succeeds: the daemon exits 4."""
    go = tmp_path / "go"
    start_with(
        daemon,
        f"""
        [program:fails]
        command = /bin/sh -c 'exit 4'
        startsecs = 0
        autorestart = false

        [program:succeeds]
        command = {waiting_for(go, 0)}
        startsecs = 0
        autorestart = false
        """,
        "exit_when_done = true",
    )
    wait_until(lambda: daemon.rpc().supervisor.getProcessInfo("fails")["statename"] == "EXITED")
    go.touch()
    assert exit_status(daemon) == 4
