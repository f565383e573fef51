"""ProcessHost: everything a Program works with that is not its own config.

One per daemon, shared by every Program; the real one is built by ``real_host`` in
``process/linux/host.py``, the fake one by ``supervise.testing.Harness``.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen
from twisted.internet.interfaces import IReactorTime

from supervise.config.model import ProcessConfig
from supervise.interfaces import IEventBus, IProcessSpawner
from supervise.process.ended import ProcessEnd
from supervise.process.interfaces import (
    IFileWatcher,
    INotifySockets,
    IProcessTable,
    IReadinessCheck,
    ITreeKiller,
)
from supervise.process.spec import SpawnContext


@frozen
class ProcessHost:
    """The clock, spawner, bus and OS collaborators programs share.

    :ivar trees: makes one program's ITreeKiller (per its ``cgroup``/``killmode``).
    :ivar checks: parses a readiness or health probe (``tcp:…``, ``http://…``, ``command:…``).
    :ivar may_restart: says whether automatic (re)starts are allowed now (the daemon is
        RUNNING, SUPERVISOR.md §3.1).
    :ivar ended: hears of every process that ended for good (the Supervisor's, for
        ``critical`` and ``exit_when_done``).
    """

    clock: IReactorTime
    wall_clock: Callable[[], float]
    spawner: IProcessSpawner
    bus: IEventBus
    context: SpawnContext
    table: IProcessTable
    files: IFileWatcher
    notify: INotifySockets
    trees: Callable[[ProcessConfig], ITreeKiller]
    checks: Callable[[str], IReadinessCheck]
    may_restart: Callable[[], bool] = lambda: True
    ended: Callable[[ProcessEnd], None] = lambda end: None
