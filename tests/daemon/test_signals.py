"""Layer 2: what each signal does and the line it logs, read from one table."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from twisted.logger import LogLevel, formatEvent

from supervise.daemon.control import DaemonControl
from supervise.daemon.core import CoreService
from supervise.daemon.mainlog import MainLogService
from supervise.daemon.signals import SIGNALS, handle
from tests.daemon.conftest import runtime_in


def control_in(folder: Path) -> tuple[DaemonControl, list[str]]:
    runtime = runtime_in(folder)
    jobs: list[str] = []

    async def restart() -> None:
        jobs.append("reload")

    async def reexec() -> None:
        jobs.append("reexec")

    core = CoreService(runtime, None, None, None, None, lambda: runtime.model, None)  # type: ignore[arg-type]
    return DaemonControl(runtime, MainLogService(runtime), core, restart, reexec), jobs


def lines(events: list[dict[str, Any]]) -> list[tuple[LogLevel, str]]:
    return [(e["log_level"], formatEvent(e)) for e in events if "log_format" in e]


@pytest.mark.parametrize(
    ("number", "level", "line", "job"),
    [
        (signal.SIGTERM, LogLevel.warn, "received SIGTERM indicating exit request", "stop"),
        (signal.SIGINT, LogLevel.warn, "received SIGINT indicating exit request", "stop"),
        (signal.SIGQUIT, LogLevel.warn, "received SIGQUIT indicating exit request", "stop"),
        (signal.SIGHUP, LogLevel.warn, "received SIGHUP indicating restart request", "reload"),
        (signal.SIGUSR1, LogLevel.warn, "received SIGUSR1 indicating re-exec request", "reexec"),
        (signal.SIGUSR2, LogLevel.info, "received SIGUSR2 indicating log reopen request", None),
    ],
)
def test_each_signal_logs_its_line_and_acts(
    tmp_path: Path, logged: list[dict[str, Any]], number: signal.Signals, level: LogLevel,
    line: str, job: str | None,
) -> None:  # fmt: skip
    """supervisord's line for the signal, then its action once the reactor turns."""
    control, jobs = control_in(tmp_path)
    handle(control, number)
    control.runtime.reactor.advance(0)
    assert lines(logged)[0] == (level, line)
    stopped = control.runtime.reactor.stopped
    assert (jobs, stopped) == (([job] if job not in (None, "stop") else []), job == "stop")
    if number is signal.SIGUSR2:
        assert (LogLevel.info, "supervisord logreopen") in lines(logged)


def test_sighup_during_shutdown_is_ignored(tmp_path: Path, logged: list[dict[str, Any]]) -> None:
    """Once a shutdown began, SIGHUP is logged as ignored and reloads nothing."""
    control, jobs = control_in(tmp_path)
    handle(control, signal.SIGTERM)
    handle(control, signal.SIGHUP)
    control.runtime.reactor.advance(0)
    assert lines(logged)[1] == (
        LogLevel.warn,
        "ignored SIGHUP indicating restart request (shutdown in progress)",
    )
    assert jobs == []


def test_a_second_exit_request_or_reexec_does_nothing_more(tmp_path: Path) -> None:
    """Shutdown and re-exec start once, whatever else arrives meanwhile."""
    control, jobs = control_in(tmp_path)
    for number in (signal.SIGUSR1, signal.SIGUSR1, signal.SIGTERM):
        handle(control, number)
    control.runtime.reactor.advance(0)
    assert (jobs, control.runtime.reactor.stopped) == (["reexec"], False)


def test_every_daemon_signal_is_in_the_table() -> None:
    """The six signals supervisord handles, no more."""
    assert set(SIGNALS) == {
        signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
    }  # fmt: skip
