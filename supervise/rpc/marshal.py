"""Process-info, config-info and per-process result structs exactly as supervisord
returns them (§6.3)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from supervise.config.model import GroupConfig, ProcessConfig
from supervise.config.values import LogTarget
from supervise.results import ProcessResult
from supervise.rpc import faults
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState

MAXINT = 2**31 - 1


def capped_int(value: float) -> int:
    """Clamp to XML-RPC's 32-bit int range, as supervisord does."""
    return max(-MAXINT - 1, min(MAXINT, int(value)))


def describe(snapshot: ProcessSnapshot, now: float) -> str:
    """The ``description`` field (SUPERVISOR.md §3.9), ``disabled`` added for a disabled
    process (supervise's own; the state name stays supervisord's)."""
    text = _describe_state(snapshot, now)
    if snapshot.disabled:
        return f"{text}, disabled" if text else "disabled"
    return text


def _describe_state(snapshot: ProcessSnapshot, now: float) -> str:
    state = snapshot.state
    if state is ProcessState.RUNNING:
        seconds = max(0, int(now) - int(snapshot.start))
        return f"pid {snapshot.pid}, uptime {datetime.timedelta(seconds=seconds)}"
    if state in (ProcessState.BACKOFF, ProcessState.FATAL):
        return snapshot.spawnerr or f'unknown error (try "tail {snapshot.name}")'
    if state in (ProcessState.STOPPED, ProcessState.EXITED):
        if snapshot.start:
            return time.strftime("%b %d %I:%M %p", time.localtime(snapshot.stop))
        return "Not started"
    return ""


def process_info(snapshot: ProcessSnapshot, now: float) -> dict[str, Any]:
    """The struct of ``getProcessInfo``."""
    info: dict[str, Any] = {
        "name": snapshot.name,
        "group": snapshot.group,
        "start": capped_int(snapshot.start),
        "stop": capped_int(snapshot.stop),
        "now": capped_int(now),
        "state": int(snapshot.state),
        "statename": snapshot.state.name,
        "spawnerr": snapshot.spawnerr,
        "exitstatus": snapshot.exitstatus,
        "logfile": snapshot.stdout_logfile,
        "stdout_logfile": snapshot.stdout_logfile,
        "stderr_logfile": snapshot.stderr_logfile,
        "pid": snapshot.pid,
        "description": describe(snapshot, now),
    }
    # supervise's own keys, only where its features are used (a plain config's struct
    # is supervisord's, key for key).
    if snapshot.next_run:
        info["next_run"] = capped_int(snapshot.next_run)
    if snapshot.disabled:
        info["disabled"] = True
    return info


def _logfile(value: str | LogTarget) -> str:
    if value is LogTarget.AUTO:
        return "auto"
    if isinstance(value, LogTarget):
        return "none"
    return value


def config_info(process: ProcessConfig, group: GroupConfig, inuse: bool) -> dict[str, Any]:
    """One struct of ``getAllConfigInfo``."""
    info: dict[str, Any] = {
        "autostart": process.autostart,
        "directory": process.directory if process.directory is not None else "none",
        "uid": process.uid if process.uid is not None else "none",
        "command": process.command,
        "exitcodes": list(process.exitcodes),
        "group": group.name,
        "group_prio": group.priority,
        "inuse": inuse,
        "killasgroup": process.killasgroup,
        "name": process.name,
        "process_prio": process.priority,
        "redirect_stderr": process.redirect_stderr,
        "startretries": process.startretries,
        "startsecs": process.startsecs,
        "stopsignal": process.stopsignal,
        "stopwaitsecs": process.stopwaitsecs,
        "serverurl": process.serverurl if process.serverurl is not None else "none",
    }
    for name, channel in (("stdout", process.stdout), ("stderr", process.stderr)):
        info[f"{name}_capture_maxbytes"] = channel.capture_maxbytes
        info[f"{name}_events_enabled"] = channel.events_enabled
        info[f"{name}_logfile"] = _logfile(channel.logfile)
        info[f"{name}_logfile_backups"] = channel.backups
        info[f"{name}_logfile_maxbytes"] = channel.maxbytes
        info[f"{name}_syslog"] = channel.syslog
    return info


def result_structs(results: list[ProcessResult]) -> list[dict[str, Any]]:
    """One ``{name, group, status, description}`` struct per process, as supervisord's
    group and all-process calls answer."""
    structs = []
    for result in results:
        status, description = faults.description(result.error)
        structs.append(
            {
                "name": result.name,
                "group": result.group,
                "status": status,
                "description": description,
            }
        )
    return structs


def as_text(data: bytes) -> str:
    """Log bytes as an XML-RPC string (undecodable bytes replaced)."""
    return data.decode("utf-8", "replace")
