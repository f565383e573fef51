"""CPU and resident memory of each program's whole process tree, for every program at once.

One ``sample`` reads the daemon's own process tree once (``proctable.subtree_stats``:
the kernel's children lists, then each member's ``stat``; every process on a kernel
without those lists) whatever the number of programs, plus each ``cgroup = true``
program's ``cpu.stat``/``memory.stat``. A program's
tree is its process, its descendants, and orphans re-parented to the daemon that carry
the program's ``SUPERVISOR_GROUP_NAME``/``SUPERVISOR_PROCESS_NAME`` (read once per orphan).

CPU time counts each process's own and reaped children's time. Between two samples, the
tree's CPU grows by what each process still there used, plus all the time of processes
that started since. A member that ended and was reaped by a member still there moved its
time into that parent's (counted there, once); one reaped by the daemon takes its last
interval with it (at most one interval of one process).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence

from attrs import define, field

from supervise.process.linux import cgroups, proctable
from supervise.process.linux.proctable import PidStat
from supervise.snapshot import ProcessSnapshot, ResourceUsage

# (pid, start ticks): one process, even if its pid is reused later.
ProcessKey = tuple[int, int]
# One pass over /proc: every process's stat, and the clock ticks since boot then.
Reading = tuple[Mapping[int, PidStat], int]


@define
class _Run:
    """What the sampler remembers of one run of one program between samples."""

    pid: int
    start: float
    cpu_seconds: float
    taken: float  # the sampler clock's time of the last sample
    ticks: dict[ProcessKey, tuple[int, int]] = field(factory=dict)  # → (cpu ticks, ppid)
    cgroup_cpu: float | None = None


@define(eq=False)
class UsageSampler:
    """Samples every running program's tree; remembers just enough for the next sample.

    :param clock: monotonic seconds, for rates.
    :param wall_clock: epoch seconds, stamped on each sample.
    """

    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    #: The processes to measure: by default the daemon's whole tree (its programs, their
    #: descendants and orphans re-parented to it), from the kernel's children lists.
    read_table: Callable[[], Mapping[int, PidStat]] | None = None
    read_uptime_ticks: Callable[[], int] = proctable.uptime_ticks
    read_cgroup: Callable[[str], tuple[float, int] | None] = cgroups.usage
    read_environ: Callable[[int], Mapping[bytes, bytes]] = proctable.environ
    daemon_pid: int = field(factory=os.getpid)
    tick: int = field(factory=lambda: os.sysconf("SC_CLK_TCK"))
    page_size: int = field(factory=lambda: os.sysconf("SC_PAGE_SIZE"))
    _runs: dict[str, _Run] = field(factory=dict, init=False)
    _orphans: dict[ProcessKey, tuple[bytes, bytes] | None] = field(factory=dict, init=False)
    _last_uptime: int = field(default=0, init=False)

    def read(self) -> Reading:
        """The pass over ``/proc`` (safe in a thread: it touches nothing of the sampler's)."""
        table = (
            self.read_table() if self.read_table is not None
            else proctable.subtree_stats(self.daemon_pid)
        )  # fmt: skip
        return table, self.read_uptime_ticks()

    def sample(
        self, programs: Iterable[ProcessSnapshot], reading: Reading | None = None
    ) -> dict[str, ResourceUsage]:
        """Measure every program with a live process (from ``reading``, else a pass made
        now); forget programs without one."""
        table, uptime = reading if reading is not None else self.read()
        running = [p for p in programs if p.pid > 0 and p.pid in table]
        children: dict[int, list[int]] = {}
        for pid, stat in table.items():
            children.setdefault(stat.ppid, []).append(pid)
        orphans = self._orphans_by_program(table, children, {p.pid for p in running})
        now, when = self.clock(), self.wall_clock()
        found: dict[str, ResourceUsage] = {}
        for program in running:
            members = [program.pid, *proctable.descendants(program.pid, children)]
            for orphan in orphans.get((program.group.encode(), program.name.encode()), ()):
                members += [orphan, *proctable.descendants(orphan, children)]
            found[program.namespec] = self._measure(program, table, members, now, when)
        self._last_uptime = uptime
        for gone in set(self._runs) - set(found):
            del self._runs[gone]
        return found

    def _orphans_by_program(
        self, table: Mapping[int, PidStat], children: Mapping[int, list[int]], tops: set[int]
    ) -> dict[tuple[bytes, bytes], list[int]]:
        """The daemon's children that are no program's process, by the program they name."""
        found: dict[tuple[bytes, bytes], list[int]] = {}
        seen: dict[ProcessKey, tuple[bytes, bytes] | None] = {}
        for pid in children.get(self.daemon_pid, ()):
            if pid in tops:
                continue
            key = (pid, table[pid].start_ticks)
            owner = (
                self._orphans[key]
                if key in self._orphans
                else proctable.program_mark(self.read_environ(pid))
            )
            seen[key] = owner
            if owner is not None:
                found.setdefault(owner, []).append(pid)
        self._orphans = seen
        return found

    def _measure(
        self,
        program: ProcessSnapshot,
        table: Mapping[int, PidStat],
        members: Sequence[int],
        now: float,
        when: float,
    ) -> ResourceUsage:
        ticks = {
            (pid, table[pid].start_ticks): (table[pid].cpu_ticks, table[pid].ppid)
            for pid in members
        }
        rss = sum(table[pid].rss_pages for pid in members) * self.page_size
        run = self._runs.get(program.namespec)
        fresh = run is None or (run.pid, run.start) != (program.pid, program.start)
        cgroup = self.read_cgroup(program.cgroup) if program.cgroup else None
        if cgroup is not None:
            total, rss = cgroup
            gained = (
                total if fresh or run is None or run.cgroup_cpu is None else total - run.cgroup_cpu
            )
            cgroup_cpu: float | None = total
        else:
            gained = (
                sum(t for t, _ in ticks.values()) / self.tick if fresh else self._gained(run, ticks)
            )
            cgroup_cpu = None
        if fresh or run is None:
            # No earlier sample of this run: its average since it started.
            since = max(when - program.start, 1e-9) if program.start else 0.0
            percent = 100 * gained / since if since else 0.0
            run = _Run(program.pid, program.start, gained, now, ticks, cgroup_cpu)
        else:
            elapsed = now - run.taken
            percent = 100 * max(gained, 0.0) / elapsed if elapsed > 0 else 0.0
            run.cpu_seconds += max(gained, 0.0)
            run.taken, run.ticks, run.cgroup_cpu = now, ticks, cgroup_cpu
        self._runs[program.namespec] = run
        return ResourceUsage(
            when=when,
            cpu_percent=round(percent, 1),
            cpu_seconds=round(run.cpu_seconds, 2),
            rss=rss,
            processes=len(members),
            source="proc" if cgroup is None else "cgroup",
        )

    def _gained(self, run: _Run | None, ticks: Mapping[ProcessKey, tuple[int, int]]) -> float:
        """CPU seconds the tree used since ``run``'s last sample."""
        assert run is not None
        gained = 0
        for key, (now, _) in ticks.items():
            before = run.ticks.get(key)
            if before is not None:
                gained += max(0, now - before[0])
            elif key[1] >= self._last_uptime:
                gained += now  # started since the last sample: all of it is new
        present = {pid for pid, _ in ticks}
        for key, (last, ppid) in run.ticks.items():
            if key not in ticks and ppid in present:
                gained -= last  # reaped by its parent: now inside the parent's time
        return max(gained, 0) / self.tick
