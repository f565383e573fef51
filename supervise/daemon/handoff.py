"""Keep programs across a restart of the daemon: the state file, and the re-exec.

The daemon writes its processes (pid, the kernel's start time of that pid, its own
start time, spawns, log files) to a state file whenever a process changes state, with
the operators' run-time choices (disabled processes, scaled programs) in ``extra``.

- **Re-exec** (``supervise.reexec`` / SIGUSR1): the daemon replaces itself with a fresh
  copy of itself *in the same pid*, passing each child's pipes as inherited descriptors.
  Children stay our children; nothing is restarted; bytes written meanwhile wait in the
  pipes, so no output is lost.
- **After a crash** (SIGKILL): the next start reads the state file and adopts every
  survivor whose pid still names the same process (start time checked against pid
  reuse) instead of starting a duplicate. Its exit status and its output are lost (its
  pipes died with the old daemon); it is watched by pidfd and restarted per its policy
  when it exits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import field, fields, frozen

from supervise.process.linux.proctable import start_ticks
from supervise.process.saved import SavedProcess

STATE_VERSION = 1
HANDOFF_ENV = "SUPERVISE_HANDOFF"


def same_process_alive(saved: SavedProcess) -> bool:
    """True if the saved ``pid`` still names the process that was saved (not a reused pid)."""
    return saved.same_process(start_ticks(saved.pid))


@frozen
class SavedState:
    """A state file's contents: the daemon that wrote it, its processes, and (in a
    re-exec's handoff) what the daemon itself passes on (``extra``)."""

    daemon_pid: int
    processes: list[SavedProcess]
    extra: dict[str, Any] = field(factory=dict)


def write_state(
    path: str,
    daemon_pid: int,
    processes: Sequence[SavedProcess],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write the state file atomically, readable by its owner only (mode 0600)."""
    data = {
        "version": STATE_VERSION,
        "daemon_pid": daemon_pid,
        "processes": [_record(p) for p in processes],
        "extra": dict(extra or {}),
    }
    # json.dumps, not json.dump: only the one-shot encoding runs in C (5x faster, and the
    # reactor waits for it: 2,000 programs took 40 ms a write).
    text = json.dumps(data)
    temporary = f"{path}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


_SAVED_FIELDS = tuple(f.name for f in fields(SavedProcess))


def _record(process: SavedProcess) -> dict[str, Any]:
    """``asdict(process)`` for its flat fields (a dict of fds is copied as it is)."""
    return {name: getattr(process, name) for name in _SAVED_FIELDS}


def read_state(path: str) -> SavedState | None:
    """The state file at ``path``, or None if missing or unreadable."""
    try:
        with open(path) as handle:
            data: dict[str, Any] = json.load(handle)
        if data.get("version") != STATE_VERSION:
            return None
        extra = data.get("extra") or {}
        if not isinstance(extra, dict):
            return None
        return SavedState(
            int(data["daemon_pid"]), [SavedProcess(**p) for p in data["processes"]], extra
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None
