"""Restarting the daemon without restarting programs: the state file, survivors of a
crash, and the handoff a re-exec leaves for its copy (mechanics in ``process/handoff.py``)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from twisted.logger import Logger

from supervise.config.model import ConfigModel
from supervise.daemon.handoff import (
    SavedState,
    read_state,
    same_process_alive,
    write_state,
)
from supervise.daemon.runtime import Runtime
from supervise.process.linux.proctable import owned_survivors
from supervise.process.saved import SavedProcess

log = Logger(namespace="supervise.service")

#: Seconds between two writes of the state file (the first change after a quiet spell
#: is written at once).
STATE_WRITE_INTERVAL = 0.5


def alive(pid: int) -> bool:
    """True if ``pid`` names a live process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_handoff(path: str | None) -> SavedState | None:
    """The handoff a re-exec left at ``path`` (read once: the file is removed)."""
    if not path:
        return None
    handed = read_state(path)
    try:
        os.unlink(path)
    except OSError:
        pass
    return handed


class StateFile:
    """Writes ``<pidfile>.state`` as programs change state; reads it at start.

    :ivar snapshot: every program's record for the file (set once the core runs).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.snapshot: Callable[[], Sequence[SavedProcess]] | None = None
        #: The run-time choices (disabled, scaled) to keep, as JSON (set with snapshot).
        self.choices: Callable[[], dict[str, Any]] | None = None
        self.forgotten = False
        self._pending = False
        self._written_at = float("-inf")

    @property
    def path(self) -> str:
        """The state file: beside the pidfile."""
        return self.runtime.state_path

    # -- reading ------------------------------------------------------------------------

    def saved_choices(self) -> object:
        """The run-time choices a re-exec handed over, or the state file kept (a crash)."""
        handed = self.runtime.handoff
        if handed is not None:
            return handed.extra.get("choices")
        previous = read_state(self.path)
        return previous.extra.get("choices") if previous is not None else None

    def saved(self, model: ConfigModel) -> tuple[list[SavedProcess], bool]:
        """The processes to take over, and whether they were handed over by a re-exec
        (with their pipes) rather than found after a crash."""
        handed = self.runtime.handoff
        if handed is not None:
            log.info(
                "re-executed: taking over {n} processes",
                n=sum(1 for p in handed.processes if p.pid),
            )
            return handed.processes, True
        previous = read_state(self.path)
        # A clean stop removes both the state file and the pidfile: if neither is there,
        # nothing can have survived, and /proc is not searched.
        if previous is None and not os.path.exists(model.supervisord.pidfile):
            return [], False
        daemon_pid = previous.daemon_pid if previous is not None else 0
        processes = previous.processes if previous is not None else []
        if daemon_pid and daemon_pid != os.getpid() and alive(daemon_pid):
            log.warn(
                "the state file names a live daemon (pid {pid}): not adopting its processes",
                pid=daemon_pid,
            )
            return [], False
        processes = self._with_unrecorded(processes)
        survivors = [p for p in processes if same_process_alive(p)]
        if survivors:
            log.warn(
                "the previous daemon (pid {pid}) died leaving {names} running: adopting them",
                pid=daemon_pid,
                names=", ".join(p.namespec for p in survivors),
            )
        return processes, False

    def _with_unrecorded(self, processes: list[SavedProcess]) -> list[SavedProcess]:
        """Add the survivors the state file missed (started after its last write), found
        by the owner mark in their environment; a second copy of one program is stopped."""
        found = owned_survivors(os.path.abspath(self.path))
        by_name = {p.namespec: p for p in processes}
        result = list(processes)
        for namespec, copies in found.items():
            saved = by_name.get(namespec)
            known = saved.pid if saved is not None and same_process_alive(saved) else None
            extra = [(pid, ticks) for pid, ticks in copies if pid != known]
            if known is None and extra:
                pid, ticks = extra.pop(0)
                log.warn(
                    "{name} (pid {pid}) was started just before the previous daemon died and "
                    "is not in its state file: adopting it",
                    name=namespec,
                    pid=pid,
                )
                entry = SavedProcess(
                    namespec, "RUNNING", pid, ticks, time.time(), 0.0,
                    saved.spawns + 1 if saved else 1, 0,
                    saved.stdout if saved else None, saved.stderr if saved else None,
                )  # fmt: skip
                result = [p for p in result if p.namespec != namespec] + [entry]
            for pid, _ in extra:
                log.warn("{name}: stopping a second copy (pid {pid})", name=namespec, pid=pid)
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
        return result

    # -- writing ------------------------------------------------------------------------

    def changed(self, event: object) -> None:
        """A process changed state: write soon.

        The file lists every program, so it is written at most once per
        STATE_WRITE_INTERVAL: a crash-looping fleet would otherwise rewrite it on every
        restart. A program spawned in the gap is still found after a crash, by its
        SUPERVISE_OWNER mark (owned_survivors).
        """
        if not self._pending:
            self._pending = True
            clock = self.runtime.reactor
            due = self._written_at + STATE_WRITE_INTERVAL - clock.seconds()
            clock.callLater(max(0.0, due), self.write)

    def write(self) -> None:
        """Write every program's record now."""
        self._pending = False
        self._written_at = self.runtime.reactor.seconds()
        if self.snapshot is None or self.forgotten:
            return
        try:
            extra = {"choices": self.choices()} if self.choices is not None else None
            write_state(self.path, os.getpid(), self.snapshot(), extra)
        except OSError as problem:
            log.warn(
                "could not write the state file {path}: {problem}", path=self.path, problem=problem
            )

    def forget(self) -> None:
        """A clean shutdown leaves nothing to adopt: the next start autostarts afresh."""
        self.forgotten = True
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def write_handoff(self, saved: Sequence[SavedProcess], extra: dict[str, Any]) -> str:
        """Write what a re-exec hands to its copy; return the file's path."""
        path = f"{self.path}.handoff"
        write_state(path, os.getpid(), saved, extra)
        return path
