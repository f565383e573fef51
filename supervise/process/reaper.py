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
from collections.abc import Callable

from attrs import define, field
from twisted.logger import Logger

log = Logger()

PR_SET_CHILD_SUBREAPER = 36


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
    reaped_unknown: int = 0
    #: True once a SIGCHLD handler calls ``reap``: then spawned children need no pidfd.
    active: bool = False

    def own(self, pid: int, check_exit: Callable[[], None]) -> None:
        """``pid`` is ours: its exit is handled by ``check_exit``."""
        self.owned[pid] = check_exit

    def disown(self, pid: int) -> None:
        """``pid`` was reaped."""
        self.owned.pop(pid, None)

    def reap(self) -> None:
        """Handle every waitable child now."""
        from twisted.internet.process import reapProcessHandlers

        handled: set[int] = set()
        for _ in range(100_000):
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            handler = self.owned.get(pid)
            if pid in handled:
                # Its handler did not reap it: reap it here, or the loop never ends.
                self._reap_unknown(pid)
            elif handler is not None:
                handled.add(pid)
                handler()
            elif pid in reapProcessHandlers:
                handled.add(pid)
                reapProcessHandlers[pid].reapProcess()
            else:
                self._reap_unknown(pid)

    def _reap_unknown(self, pid: int) -> None:
        try:
            _, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        self.owned.pop(pid, None)
        self.reaped_unknown += 1
        log.info("reaped unknown pid {pid} ({why})", pid=pid, why=describe_status(status))
