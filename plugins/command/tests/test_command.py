"""The command plugin, end to end: the real daemon runs the command for each event."""

from __future__ import annotations

from pathlib import Path

from supervise.testing import RunningDaemon, wait_until


def test_command_runs_for_each_wanted_event_in_order(tmp_path: Path) -> None:
    """Each wanted event runs the command once, in order, with its fields in the environment."""
    out = tmp_path / "events.txt"
    daemon = RunningDaemon(tmp_path)
    try:
        daemon.start(
            "[program:web-1]\ncommand = sleep 300\nstartsecs = 0\n"
            "[program:db]\ncommand = sleep 300\nstartsecs = 0\n"
            "[plugin:command]\n"
            f'command = echo "$SUPERVISE_EVENT $SUPERVISE_PROCESS $SUPERVISE_FROM_STATE $SUPERVISE_EXPECTED" >> {out}\n'
            "events = PROCESS_STATE_RUNNING, PROCESS_STATE_EXITED\nprograms = web-*\n"
        )
        wait_until(lambda: out.exists() and "RUNNING web-1" in out.read_text())
        daemon.rpc().supervisor.signalProcess("web-1", "KILL")
        wait_until(lambda: out.read_text().count("PROCESS_STATE_RUNNING web-1") == 2)
        lines = out.read_text().splitlines()
        assert lines[:3] == [
            "PROCESS_STATE_RUNNING web-1 STARTING ",
            "PROCESS_STATE_EXITED web-1 RUNNING False",
            "PROCESS_STATE_RUNNING web-1 STARTING ",
        ]
        assert not any(" db " in line for line in lines)
    finally:
        daemon.close()


def test_missing_command_option_is_reported(tmp_path: Path) -> None:
    """Without a command the plugin is left out with a message; the daemon runs on."""
    daemon = RunningDaemon(tmp_path)
    try:
        daemon.start(
            "[program:db]\ncommand = sleep 300\nstartsecs = 0\n[plugin:command]\nevents = PROCESS_STATE\n"
        )
        assert daemon.rpc().supervisor.getProcessInfo("db")["statename"] == "RUNNING"
        assert "command: required" in (tmp_path / "main.log").read_text()
    finally:
        daemon.close()
