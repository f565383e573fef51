"""A process as one JSON-ready row: what the console shows and the cluster agent
publishes, made from a snapshot and the process's configuration."""

from __future__ import annotations

from typing import Any

from supervise.config.model import ProcessConfig
from supervise.events.types import (
    HealthFailed,
    HealthRecovered,
    ProcessAdopted,
    ProcessDisabled,
    ProcessEnabled,
    ProcessStateEvent,
)
from supervise.snapshot import ProcessSnapshot

# The events that change what a process's row shows.
ROW_EVENTS = (
    ProcessStateEvent,
    HealthFailed,
    HealthRecovered,
    ProcessAdopted,
    ProcessDisabled,
    ProcessEnabled,
)


def last_exit(snapshot: ProcessSnapshot) -> str:
    """The last exit in words: ``exit 3``, ``killed by SIGKILL`` ("" if it never ended)."""
    if not snapshot.stop:
        return ""
    text = snapshot.exit_text
    if not text:
        # Not recorded (a daemon restarted since): the code, when it is one.
        return f"exit {snapshot.exitstatus}" if snapshot.exitstatus >= 0 else "exit status unknown"
    return text.replace("exit status ", "exit ", 1).replace("terminated by ", "killed by ", 1)


def process_row(snapshot: ProcessSnapshot, config: ProcessConfig) -> dict[str, Any]:
    """Everything a console row shows (times are epoch seconds, 0 if never)."""
    extras = config.extras
    health = ""
    if extras.healthcheck:
        health = "failing" if snapshot.health_failures else "ok"
    return {
        "namespec": snapshot.namespec,
        "name": snapshot.name,
        "group": snapshot.group,
        "state": snapshot.state.name,
        "pid": snapshot.pid,
        "start": snapshot.start,
        "stop": snapshot.stop,
        "exitstatus": snapshot.exitstatus,
        "last_exit": last_exit(snapshot),
        "spawnerr": snapshot.spawnerr,
        "restarts": max(0, snapshot.spawns - 1),
        "ready": extras.ready or "",
        "health": health,
        "health_failures": snapshot.health_failures,
        "adopted": snapshot.adopted,
        "stdout": bool(snapshot.stdout_logfile),
        "stderr": bool(snapshot.stderr_logfile),
        "disabled": snapshot.disabled,
        "schedule": extras.schedule or "",
        "next_run": snapshot.next_run,
        "numprocs": snapshot.numprocs,
        "numprocs_declared": snapshot.numprocs_declared,
    }
