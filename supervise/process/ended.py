"""A process that ended for good: FATAL, or EXITED with no restart to come.

The process machine reports such an end through its host (``ProcessHost.ended``); the
Supervisor decides whether it ends the daemon (``critical``, ``exit_when_done``).
"""

from __future__ import annotations

import os

from attrs import frozen

from supervise.states import ProcessState


@frozen
class ProcessEnd:
    """How one process ended.

    :ivar status: the exit status this end stands for, as a shell reports it: the exit
        code, 128+N after signal N, 1 after a spawn failure (or an unknown status).
    :ivar expected: an exit code listed in ``exitcodes``; never for FATAL.
    :ivar why: in words, for the main log and the daemon's exit event.
    """

    group: str
    name: str
    namespec: str
    state: ProcessState
    status: int
    expected: bool
    why: str
    critical: bool = False
    #: A ``schedule =`` program: it runs again at its next tick, so it never ends for good.
    scheduled: bool = False


def shell_status(raw: int | None) -> int:
    """The status a shell would report for a raw wait status (None: no child ran, 1)."""
    if raw is None or raw < 0:
        return 1
    if os.WIFEXITED(raw):
        return os.WEXITSTATUS(raw)
    if os.WIFSIGNALED(raw):
        return 128 + os.WTERMSIG(raw)
    return 1


def fatal_status(raw: int | None) -> int:
    """A FATAL process's status: its last start's, never 0 (a start that failed)."""
    return shell_status(raw) or 1
