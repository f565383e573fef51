"""Restarting the daemon without restarting programs: the state file, survivors, re-exec.

A mixin of SupervisorService; the mechanics live in ``process/handoff.py``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import ensureDeferred
from twisted.logger import Logger

from supervise.config.model import ConfigModel
from supervise.process.handoff import (
    HANDOFF_ENV,
    SavedProcess,
    owned_survivors,
    read_state,
    reexec_argv,
    write_state,
)

if TYPE_CHECKING:
    import socket

    from supervise.logs.mainlog import MainLogObserver
    from supervise.options import DaemonOptions
    from supervise.supervisor import Supervisor

log = Logger(namespace="supervise.service")

#: Seconds between two writes of the state file (the first change after a quiet spell
#: is written at once).
STATE_WRITE_INTERVAL = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RestartMixin:
    """The state file and re-exec of SupervisorService."""

    # Provided by SupervisorService; declared for the type checker.
    model: ConfigModel
    options: DaemonOptions
    reactor: Any
    supervisor: Supervisor | None
    observer: MainLogObserver | None
    listen_sockets: dict[str, socket.socket]
    ticker: Any
    _stopping: bool
    _state_forgotten: bool = False
    _state_write_pending: bool
    _state_written_at: float

    async def _stop_servers(self) -> None:
        raise NotImplementedError

    # -- keeping programs across restarts (process/handoff.py) --------------------------

    @property
    def state_path(self) -> str:
        """The state file: beside the pidfile."""
        return f"{self.model.supervisord.pidfile}.state"

    def _saved_processes(self, model: ConfigModel) -> tuple[list[SavedProcess], bool]:
        if self.options.handoff:
            handed = read_state(self.options.handoff)
            try:
                os.unlink(self.options.handoff)
            except OSError:
                pass
            if handed is not None:
                log.info(
                    "re-executed: taking over {n} processes", n=sum(1 for p in handed[1] if p.pid)
                )
                return handed[1], True
        previous = read_state(self.state_path)
        # A clean stop removes both the state file and the pidfile: if neither is there,
        # nothing can have survived, and /proc is not searched.
        if previous is None and not os.path.exists(model.supervisord.pidfile):
            return [], False
        daemon_pid, processes = previous if previous is not None else (0, [])
        if daemon_pid and daemon_pid != os.getpid() and alive(daemon_pid):
            log.warn(
                "the state file names a live daemon (pid {pid}): not adopting its processes",
                pid=daemon_pid,
            )
            return [], False
        processes = self._with_unrecorded(processes)
        survivors = [p for p in processes if p.same_process_alive()]
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
        found = owned_survivors(os.path.abspath(self.state_path))
        by_name = {p.namespec: p for p in processes}
        result = list(processes)
        for namespec, copies in found.items():
            saved = by_name.get(namespec)
            known = saved.pid if saved is not None and saved.same_process_alive() else None
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

    def _state_changed(self, event: object) -> None:
        # The file lists every program, so it is written at most once per
        # STATE_WRITE_INTERVAL: a crash-looping fleet would otherwise rewrite it on every
        # restart. A program spawned in the gap is still found after a crash, by its
        # SUPERVISE_OWNER mark (owned_survivors).
        if not self._state_write_pending:
            self._state_write_pending = True
            due = self._state_written_at + STATE_WRITE_INTERVAL - self.reactor.seconds()
            self.reactor.callLater(max(0.0, due), self._write_state)

    def _forget_state(self) -> None:
        """A clean shutdown leaves nothing to adopt: the next start autostarts afresh."""
        self._state_forgotten = True
        try:
            os.unlink(self.state_path)
        except OSError:
            pass

    def _write_state(self) -> None:
        self._state_write_pending = False
        self._state_written_at = self.reactor.seconds()
        if self.supervisor is None or self._state_forgotten:
            return
        try:
            write_state(
                self.state_path,
                os.getpid(),
                [p.saved(False) for p in self.supervisor.all_programs()],
            )
        except OSError as problem:
            log.warn(
                "could not write the state file {path}: {problem}",
                path=self.state_path,
                problem=problem,
            )

    def request_reexec(self) -> None:
        """Replace this daemon with a fresh copy of itself, keeping every program."""
        if self._stopping:
            return
        self._stopping = True
        self.reactor.callLater(0, lambda: ensureDeferred(self._reexec()))

    async def _reexec(self) -> None:
        assert self.supervisor is not None
        programs = self.supervisor.all_programs()
        log.warn(
            "re-executing the daemon in place: {n} running processes keep running",
            n=sum(1 for p in programs if p.pid),
        )
        self.ticker.stop()
        await self._stop_servers()
        saved = [p.saved(True) for p in programs]
        for entry in saved:
            for fd in (entry.fds or {}).values():
                os.set_inheritable(fd, True)
        handoff = f"{self.state_path}.handoff"
        write_state(handoff, os.getpid(), saved)
        for name, sock in self.listen_sockets.items():
            sock.set_inheritable(True)
            with open(f"{handoff}.socket.{name}", "w") as note:
                note.write(str(sock.fileno()))
        if self.observer is not None and self.observer.file is not None:
            self.observer.file.close()
        env = dict(os.environ)
        env[HANDOFF_ENV] = handoff
        os.execve(sys.executable, reexec_argv(sys.orig_argv), env)
