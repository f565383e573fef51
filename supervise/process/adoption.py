"""Taking over processes a Program did not spawn: daemonized pidfiles, watch mode, and
processes handed over by a re-exec or left by a crashed daemon."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from twisted.logger import Logger

from supervise.config.values import LogTarget, name_to_uid
from supervise.events.types import ProcessAdopted
from supervise.logs.channel import OutputChannel
from supervise.process.daemonized import PidfileWait, read_pidfile
from supervise.process.handoff import SavedProcess, start_ticks
from supervise.process.parts import ProgramParts
from supervise.process.watch import SuccessorSearch, find_match, find_pidfile, process_start_time
from supervise.states import ProcessState

if TYPE_CHECKING:
    pass

log = Logger(namespace="supervise.process.program")


class AdoptionMixin(ProgramParts):
    """Program's adoption behaviour (see process/watch.py, daemonized.py, handoff.py)."""

    def _find_watched(self) -> int | None:
        """The process a watched program stands for, if one runs (never another program's,
        never a zombie)."""
        extras = self.config.extras
        if extras.watch == "pidfile" and extras.pidfile is not None:
            pid = find_pidfile(extras.pidfile, self.spawner.owns)
        else:
            pattern = re.compile(extras.match or re.escape(self.config.command))
            uid = name_to_uid(extras.match_user) if extras.match_user else None
            pid = find_match(pattern, uid, self.spawner.owns)
        return pid if pid is not None and start_ticks(pid) is not None else None

    def _adopt_external(self, pid: int, old_pid: int) -> None:
        self.child = self.spawner.adopt(pid, self)
        self.pid = pid
        self.external = True
        self.start_time = process_start_time(pid) or self.wall_clock()
        log.info(
            "adopted: {name!r} with pid {pid}, started outside supervise",
            name=self.name,
            pid=pid,
            program=self.namespec,
        )
        self.bus.publish(ProcessAdopted(self.group, self.name, old_pid, pid))

    def _search_successor(self, status: int) -> None:
        """A watched process exited: wait ``absent_grace`` for its successor before the
        restart policy applies (a deploy restarts it itself)."""
        old_pid = self.pid
        extras = self.config.extras
        self.child = None

        def found(pid: int) -> None:
            self._successor = None
            try:
                self._adopt_external(pid, old_pid)
            except ProcessLookupError:
                # Gone between finding and watching it: keep looking.
                self.clock.callLater(0, self._search_successor, status)

        def absent() -> None:
            self._successor = None
            log.info(
                "no successor of {name} (pid {pid}) within {grace:g}s",
                name=self.name,
                pid=old_pid,
                grace=extras.absent_grace,
                program=self.namespec,
            )
            self.child = None
            self.machine.exited(status)

        self._successor = SuccessorSearch.start(
            self.clock,
            extras.absent_grace,
            self._find_watched,
            found,
            absent,
            pidfile=extras.pidfile if extras.watch == "pidfile" else None,
        )

    def _await_daemon(self) -> None:
        """The launcher exited 0: find the daemon's pid in the pidfile, then watch it."""
        pidfile = self.config.extras.pidfile
        assert pidfile is not None
        self.child = None
        self.pid = 0
        launched = self.start_time
        if self._adopt_from(pidfile, launched):
            return
        self._pidfile_wait = PidfileWait.start(
            self.clock,
            pidfile,
            self.config.extras.ready_timeout,
            on_change=lambda: self._adopt_from(pidfile, launched),
            on_timeout=self._pidfile_missing,
        )

    def _adopt_from(self, pidfile: str, launched: float) -> bool:
        pid = read_pidfile(pidfile, launched)
        if pid is None or self.spawner.owns(pid) or self.state is not ProcessState.STARTING:
            return False
        if self._pidfile_wait is not None:
            self._pidfile_wait.stop()
            self._pidfile_wait = None
        if self._watchdog is not None:
            if self._watchdog.active():
                self._watchdog.cancel()
            self._watchdog = None
        self.child = self.spawner.adopt(pid, self)
        self.pid = pid
        log.info(
            "daemonized: {name!r} has pid {pid} (from {pidfile})",
            name=self.name,
            pid=pid,
            pidfile=pidfile,
            program=self.namespec,
        )
        self._arm_startsecs(self.machine)
        return True

    def _pidfile_missing(self) -> None:
        self._pidfile_wait = None
        if self.state is ProcessState.STARTING and self.child is None:
            self.spawnerr = (
                f"pidfile {self.config.extras.pidfile} named no new live process within "
                f"{self.config.extras.ready_timeout:g}s"
            )
            log.info("spawnerr: {message}", message=self.spawnerr, program=self.namespec)
            self.machine.spawn_failed()

    def resume(self) -> None:
        """Enter RUNNING with the taken-over child."""
        log.info(
            "adopted: {name!r} with pid {pid}, running since {since}",
            name=self.name,
            pid=self.pid,
            since=int(self.start_time),
            program=self.namespec,
        )
        self.enter(ProcessState.RUNNING, pid=self.pid)

    def restore(self, saved: SavedProcess, handed_over: bool) -> bool:
        """Take over a saved process: adopt it if it runs, else keep its history.

        Returns True when a running process was adopted. With ``handed_over`` (a
        re-exec) its pipes come along and it is still our child.
        """
        self._reuse_logs(saved)
        self.spawns = saved.spawns
        self.exitstatus = saved.exitstatus
        self.stop_time = saved.stop_time
        if not saved.same_process_alive() or self.spawner.owns(saved.pid):
            # Not running any more: remember it ran, so autostart does not start it.
            self.start_time = saved.start_time
            return False
        self.start_time = saved.start_time
        try:
            self.stdout.open()
            self.stderr.open()
        except OSError:
            pass  # its log cannot be written: it runs on, its output is lost
        self.child = self.spawner.adopt(saved.pid, self, saved.fds if handed_over else None)
        self.pid = saved.pid
        self.machine.adopted()
        return True

    def _reuse_logs(self, saved: SavedProcess) -> None:
        for name, path in (("stdout", saved.stdout), ("stderr", saved.stderr)):
            current: OutputChannel = getattr(self, name)
            if path and current.path != path and isinstance(path, str):
                if current.path and current.config.logfile is LogTarget.AUTO:
                    try:
                        os.remove(current.path)  # the fresh AUTO file made at group creation
                    except OSError:
                        pass
                setattr(self, name, OutputChannel.at_path(current, path))

    def saved(self, with_fds: bool) -> SavedProcess:
        """This process for the state file (``with_fds``: its pipes, for a re-exec)."""
        fds = None
        if with_fds and self.child is not None:
            handoff = getattr(self.child, "handoff_fds", None)
            fds = handoff() if handoff is not None else None
        if self._ticks[0] != self.pid:
            # Read /proc once per pid, not on every state-file write.
            self._ticks = (self.pid, start_ticks(self.pid) if self.pid else None)
        return SavedProcess(
            namespec=self.namespec,
            state=self.state.name,
            pid=self.pid,
            ticks=self._ticks[1],
            start_time=self.start_time,
            stop_time=self.stop_time,
            spawns=self.spawns,
            exitstatus=self.exitstatus,
            stdout=self.stdout.path,
            stderr=self.stderr.path,
            fds=fds,
        )
