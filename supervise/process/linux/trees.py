"""ITreeKiller providers: what is left of a program when its main process ends.

- ``SubreaperTree`` (``killmode = tree``, the default): at a stop, every descendant of
  the main process and every orphan of the program re-parented to the daemon (the
  subreaper), found in ``/proc``; waited for by pidfd.
- ``CgroupTreeKiller`` (``cgroup = true``): a cgroup v2 per run; descendants cannot leave
  it; ``cgroup.kill`` and ``cgroup.events`` (process/tree.py).
- ``MainProcessOnly`` (``killmode = process``): supervisord's own behaviour.
"""

from __future__ import annotations

import os
from typing import Any

from attrs import define, evolve, field
from twisted.internet.defer import Deferred, succeed
from zope.interface import implementer

from supervise.config.model import ProcessConfig
from supervise.process.interfaces import ITreeKiller
from supervise.process.linux import cgroups as cgroupfs
from supervise.process.linux.pidfd import ExitWatcher
from supervise.process.linux.proctable import ProcTable
from supervise.process.linux.reaper import Reaper
from supervise.process.spec import SpawnSpec


@implementer(ITreeKiller)
@define(eq=False)
class MainProcessOnly:
    """supervisord's behaviour: nothing beyond the main process is signalled or waited for."""

    def prepare(self, spec: SpawnSpec, label: str) -> SpawnSpec:
        """Unchanged."""
        return spec

    def remember(self, pid: int) -> None:
        """Nothing to note."""

    def signal_rest(self, pid: int, sig: int) -> None:
        """Nothing to signal."""

    def when_empty(self, pid: int) -> Deferred[None]:
        """At once."""
        return succeed(None)

    def release(self) -> int:
        """Nothing to release."""
        return 0


@define(eq=False)
class PidsGone:
    """Fires ``done`` once every pid has exited (one pidfd each, no polling)."""

    reactor: Any
    done: Deferred[None] = field(factory=Deferred)
    watchers: dict[int, ExitWatcher] = field(factory=dict)

    @classmethod
    def start(cls, reactor: Any, pids: list[int]) -> PidsGone:
        """Watch ``pids``; ``done`` has fired already if none is alive."""
        watch = cls(reactor)
        watch.done = Deferred(lambda _: watch.stop())
        for pid in pids:
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                continue
            watcher = ExitWatcher(pidfd, lambda pid=pid: watch.gone(pid))  # type: ignore[misc]
            watch.watchers[pid] = watcher
            reactor.addReader(watcher)
        if not watch.watchers:
            watch.done.callback(None)
        return watch

    def gone(self, pid: int) -> None:
        """One pid exited."""
        watcher = self.watchers.pop(pid, None)
        if watcher is not None:
            self.reactor.removeReader(watcher)
            os.close(watcher.pidfd)
        if not self.watchers and not self.done.called:
            self.done.callback(None)

    def stop(self) -> None:
        """Stop watching."""
        for pid in list(self.watchers):
            watcher = self.watchers.pop(pid)
            self.reactor.removeReader(watcher)
            os.close(watcher.pidfd)


@implementer(ITreeKiller)
@define(eq=False)
class SubreaperTree:
    """The program's tree as ``/proc`` shows it when it is stopped."""

    config: ProcessConfig
    reactor: Any
    table: ProcTable
    owned: Any  # Callable[[int], bool]: pids that are some program's own child
    reaper: Reaper | None = None
    members: list[int] = field(factory=list)
    waiting: PidsGone | None = None

    def prepare(self, spec: SpawnSpec, label: str) -> SpawnSpec:
        """Unchanged: the subreaper keeps orphans attributable."""
        return spec

    def remember(self, pid: int) -> None:
        """Note the whole tree now, sessions and orphans included."""
        self.members = self.table.tree_of(pid, self.config.group, self.config.name, self.owned)
        if self.reaper is not None:
            # Orphans among them are re-parented to us: reaped as known, not unknown.
            self.reaper.tree_members.update(m for m in self.members if m != pid)

    def signal_rest(self, pid: int, sig: int) -> None:
        """Signal every noted member still alive."""
        for member in self.members:
            if member == pid:
                continue
            try:
                os.kill(member, sig)
            except OSError:
                pass

    def when_empty(self, pid: int) -> Deferred[None]:
        """Fire once every noted member has exited."""
        rest = [m for m in self.members if m != pid]
        if not rest:
            return succeed(None)
        self.waiting = PidsGone.start(self.reactor, rest)
        return self.waiting.done

    def release(self) -> int:
        """Forget the tree."""
        if self.waiting is not None:
            self.waiting.stop()
            self.waiting = None
        if self.reaper is not None:
            self.reaper.tree_members.difference_update(self.members)
        self.members = []
        return 0


@implementer(ITreeKiller)
@define(eq=False)
class CgroupTreeKiller:
    """A cgroup v2 per run: its members cannot leave it.

    :ivar path: the current run's cgroup (None between runs).
    """

    config: ProcessConfig
    reactor: Any
    cgroups: cgroupfs.CgroupTree
    path: str | None = None
    watch: cgroupfs.EmptyWatch | None = None

    def prepare(self, spec: SpawnSpec, label: str) -> SpawnSpec:
        """A fresh cgroup with the program's limits; the child joins it before exec."""
        extras = self.config.extras
        limits = {
            file: value
            for file, value in (
                ("memory.max", extras.memory_max),
                ("cpu.max", extras.cpu_max),
                ("pids.max", extras.pids_max),
            )
            if value is not None
        }
        self.path = self.cgroups.make(label, limits)
        return evolve(spec, cgroup=self.path)

    def remember(self, pid: int) -> None:
        """The cgroup remembers."""

    def signal_rest(self, pid: int, sig: int) -> None:
        """``cgroup.kill`` for SIGKILL; otherwise each member but the main process."""
        if self.path is None:
            return
        if sig == 9:
            cgroupfs.kill(self.path)
            return
        for member in cgroupfs.members(self.path):
            if member != pid:
                try:
                    os.kill(member, sig)
                except OSError:
                    pass

    def when_empty(self, pid: int) -> Deferred[None]:
        """Fire once the cgroup is empty (``cgroup.events``)."""
        if self.path is None:
            return succeed(None)
        done: Deferred[None] = Deferred(lambda _: self._stop_watch())
        self.watch = cgroupfs.EmptyWatch.start(self.reactor, self.path, lambda: done.callback(None))
        return done

    def _stop_watch(self) -> None:
        if self.watch is not None:
            self.watch.stop()
            self.watch = None

    def release(self) -> int:
        """Remove the run's cgroup; return its OOM kills."""
        self._stop_watch()
        if self.path is None:
            return 0
        killed = cgroupfs.oom_kills(self.path)
        cgroupfs.remove(self.path)
        self.path = None
        return killed
