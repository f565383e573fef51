"""The real ProcessHost: the reactor, the spawner, and Linux behind every interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supervise.config.model import ProcessConfig
from supervise.interfaces import IEventBus, IProcessSpawner
from supervise.process.host import ProcessHost
from supervise.process.interfaces import ITreeKiller
from supervise.process.linux.files import InotifyFiles
from supervise.process.linux.notify import NotifySockets
from supervise.process.linux.probes import parse_check
from supervise.process.linux.proctable import ProcTable
from supervise.process.linux.reaper import Reaper
from supervise.process.linux.trees import CgroupTreeKiller, MainProcessOnly, SubreaperTree
from supervise.process.spec import SpawnContext


def real_host(
    reactor: Any,
    wall_clock: Callable[[], float],
    spawner: IProcessSpawner,
    bus: IEventBus,
    context: SpawnContext,
    may_restart: Callable[[], bool] = lambda: True,
    reaper: Reaper | None = None,
) -> ProcessHost:
    """A ProcessHost on ``reactor`` (IReactorTime, IReactorFDSet, IReactorProcess);
    ``reaper``: the daemon's, which then knows a stopped tree's orphans."""
    table = ProcTable()

    def trees(config: ProcessConfig) -> ITreeKiller:
        if config.extras.cgroup and context.cgroups is not None:
            return CgroupTreeKiller(config, reactor, context.cgroups)
        if config.extras.killmode == "process":
            return MainProcessOnly()
        return SubreaperTree(config, reactor, table, spawner.owns, reaper)

    return ProcessHost(
        clock=reactor,
        wall_clock=wall_clock,
        spawner=spawner,
        bus=bus,
        context=context,
        table=table,
        files=InotifyFiles(reactor),
        notify=NotifySockets(reactor),
        trees=trees,
        checks=lambda spec: parse_check(spec, reactor, spawner),
        may_restart=may_restart,
    )
