"""The console's view of a process and of the daemon, as JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from supervise.events.types import (
    HealthFailed,
    HealthRecovered,
    ProcessAdopted,
    ProcessStateEvent,
)
from supervise.process.program import Program

# The events that change what a process's row shows.
ROW_EVENTS = (ProcessStateEvent, HealthFailed, HealthRecovered, ProcessAdopted)


def process_row(program: Program) -> dict[str, Any]:
    """Everything a console row shows for ``program`` (times are epoch seconds, 0 if never)."""
    snapshot = program.snapshot()
    extras = program.config.extras
    health = ""
    if extras.healthcheck:
        health = "failing" if program.health_failures else "ok"
    return {
        "namespec": program.namespec,
        "name": snapshot.name,
        "group": snapshot.group,
        "state": snapshot.state.name,
        "pid": snapshot.pid,
        "start": snapshot.start,
        "stop": snapshot.stop,
        "exitstatus": snapshot.exitstatus,
        "spawnerr": snapshot.spawnerr,
        "restarts": max(0, snapshot.spawns - 1),
        "ready": extras.ready or "",
        "health": health,
        "health_failures": program.health_failures,
        "adopted": program.external,
        "stdout": bool(snapshot.stdout_logfile),
        "stderr": bool(snapshot.stderr_logfile),
    }
