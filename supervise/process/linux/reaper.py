"""Subreaper and orphan reaping: no zombie is ever left behind, and nobody else's child
is reaped by mistake.

With ``PR_SET_CHILD_SUBREAPER`` (Linux ≥ 3.4) descendants that lose their parent are
re-parented to the daemon instead of to init: a program that daemonizes (double fork)
stays our child, so its exit status can be read. On each SIGCHLD, ``reap`` peeks at
waitable children with ``waitid(WNOWAIT)``: ours go to their own exit handler, Twisted's
to Twisted, and unknown ones (orphaned grandchildren) are reaped and logged.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterable

from attrs import define, field
from twisted.logger import Logger

log = Logger()

PR_SET_CHILD_SUBREAPER = 36
#: Exits handled per reactor turn at most (see Reaper.reap).
REAPS_PER_CALL = 200


def become_subreaper() -> bool:
    """Make this process a child subreaper; False (logged) where the kernel refuses."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0:
            return True
        error = ctypes.get_errno()
    except (OSError, AttributeError) as problem:
        log.warn("cannot become a child subreaper ({problem}): orphans go to init", problem=problem)
        return False
    log.warn(
        "cannot become a child subreaper ({error}): orphans go to init", error=os.strerror(error)
    )
    return False


def describe_status(status: int) -> str:
    """``exit status N`` / ``terminated by SIGX`` for a raw wait status."""
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        import signal

        try:
            return f"terminated by {signal.Signals(os.WTERMSIG(status)).name}"
        except ValueError:
            return f"terminated by signal {os.WTERMSIG(status)}"
    return f"unknown termination cause 0x{status:04x}"


@define(eq=False)
class Reaper:
    """Knows which children are whose, and reaps the rest.

    :ivar owned: pid → the function that reaps it and reports its exit (our children).
    """

    owned: dict[int, Callable[[], None]] = field(factory=dict)
    #: Pids a re-exec handed over, not taken over yet: an exit before that is kept.
    expected: set[int] = field(factory=set)
    #: Raw wait statuses of expected pids that exited before they were taken over.
    early_exits: dict[int, int] = field(factory=dict)
    #: What is left of stopped programs' trees (orphans re-parented to us): not unknown.
    tree_members: set[int] = field(factory=set)
    #: The daemon's own helper processes (the descriptor keeper): pid → what it is.
    helpers: dict[int, str] = field(factory=dict)
    reaped_unknown: int = 0
    #: True once a SIGCHLD handler calls ``reap``: then spawned children need no pidfd.
    active: bool = False

    def own(self, pid: int, check_exit: Callable[[], None]) -> None:
        """``pid`` is ours: its exit is handled by ``check_exit``."""
        self.expected.discard(pid)
        self.owned[pid] = check_exit

    def expect(self, pids: Iterable[int]) -> None:
        """These children come from a re-exec: keep their exit until they are taken over."""
        self.expected.update(pid for pid in pids if pid > 0)

    def early_exit(self, pid: int) -> int | None:
        """The raw status of an expected child that exited before its take-over (once)."""
        self.expected.discard(pid)
        return self.early_exits.pop(pid, None)

    def helper(self, pid: int, what: str) -> None:
        """``pid`` is one of the daemon's own helpers: its exit is expected, not unknown."""
        self.helpers[pid] = what

    def disown(self, pid: int) -> None:
        """``pid`` was reaped."""
        self.owned.pop(pid, None)

    def reap(self, limit: int = REAPS_PER_CALL) -> bool:
        """Handle waitable children, at most ``limit`` of them; True if more are waiting.

        Bounded so that a crash storm (exits handled, programs respawned, and the new
        ones exiting while the loop runs) never holds the reactor: the caller schedules
        the rest for its next turn.
        """
        from twisted.internet.process import reapProcessHandlers

        called: dict[int, object] = {}  # pid -> the handler called for it in this call
        for _ in range(limit):
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return False
            if info is None or info.si_pid == 0:
                return False
            pid = info.si_pid
            handler = self.owned.get(pid)
            if handler is None and pid in reapProcessHandlers:
                handler = reapProcessHandlers[pid].reapProcess
            if handler is None:
                self._reap_unknown(pid)
            elif called.get(pid) == handler:
                # Its handler ran and did not reap it: reap it here, or it loops.
                self._reap_unknown(pid)
            else:
                # (A pid seen before in this call with another handler is a new
                # process that was given a reused pid: its own handler takes it.)
                called[pid] = handler
                handler()
        return True

    def _reap_unknown(self, pid: int) -> None:
        try:
            _, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        self.owned.pop(pid, None)
        if pid in self.expected:
            self.early_exits[pid] = status  # its program takes it over in a moment
            return
        what = self.helpers.pop(pid, None)
        if what is not None:
            log.debug(
                "reaped the {what} (pid {pid}, {why})",
                what=what,
                pid=pid,
                why=describe_status(status),
            )
            return
        if pid in self.tree_members:
            self.tree_members.discard(pid)
            log.debug(
                "reaped pid {pid}, left of a stopped program ({why})",
                pid=pid,
                why=describe_status(status),
            )
            return
        self.reaped_unknown += 1
        log.info("reaped unknown pid {pid} ({why})", pid=pid, why=describe_status(status))
