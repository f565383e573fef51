"""The resource sampler over a fake /proc: trees, CPU between samples, cost per sample."""

from __future__ import annotations

from typing import Any

from supervise.process.linux.proctable import PidStat
from supervise.process.linux.usage import UsageSampler
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState

DAEMON = 1


def program(name: str, pid: int, start: float = 100.0, cgroup: str = "") -> ProcessSnapshot:
    return ProcessSnapshot(
        name=name, group=name, state=ProcessState.RUNNING, pid=pid, start=start, stop=0,
        spawnerr="", exitstatus=0, stdout_logfile="", stderr_logfile="", namespec=name,
        cgroup=cgroup,
    )  # fmt: skip


class FakeProc:
    """A process table the test edits between samples; counts how often it is read."""

    def __init__(self) -> None:
        self.table: dict[int, PidStat] = {}
        self.reads = 0
        self.uptime = 1000
        self.environ: dict[int, dict[bytes, bytes]] = {}
        self.cgroups: dict[str, tuple[float, int]] = {}

    def add(self, pid: int, ppid: int, cpu: int, rss: int, start: int = 10) -> None:
        self.table[pid] = PidStat(ppid=ppid, start_ticks=start, cpu_ticks=cpu, rss_pages=rss)

    def read(self) -> dict[int, PidStat]:
        self.reads += 1
        return dict(self.table)

    def sampler(self, clock: list[float]) -> UsageSampler:
        return UsageSampler(
            clock=lambda: clock[0],
            wall_clock=lambda: clock[0],
            read_table=self.read,
            read_uptime_ticks=lambda: self.uptime,
            read_cgroup=lambda path: self.cgroups.get(path),
            read_environ=lambda pid: self.environ.get(pid, {}),
            daemon_pid=DAEMON,
            tick=100,
            page_size=4096,
        )


def test_a_tree_is_summed_and_cpu_is_a_rate_between_samples() -> None:
    proc, clock = FakeProc(), [200.0]
    proc.add(10, DAEMON, cpu=100, rss=10)
    proc.add(11, 10, cpu=300, rss=20)
    sampler = proc.sampler(clock)
    first = sampler.sample([program("web", 10)])["web"]
    assert (first.cpu_seconds, first.rss, first.processes) == (4.0, 30 * 4096, 2)
    assert first.cpu_percent == 4.0  # 4 s over the 100 s since it started
    clock[0] += 5
    proc.uptime += 500
    proc.add(11, 10, cpu=550, rss=20)  # the child used 2.5 s of the 5
    second = sampler.sample([program("web", 10)])["web"]
    assert (second.cpu_seconds, second.cpu_percent) == (6.5, 50.0)


def test_a_child_that_came_and_went_counts_once() -> None:
    proc, clock = FakeProc(), [200.0]
    proc.add(10, DAEMON, cpu=0, rss=1)
    sampler = proc.sampler(clock)
    sampler.sample([program("web", 10)])
    clock[0] += 1
    proc.uptime += 100
    proc.add(12, 10, cpu=40, rss=1, start=proc.uptime - 50)  # new since the last sample
    assert sampler.sample([program("web", 10)])["web"].cpu_seconds == 0.4
    clock[0] += 1
    proc.uptime += 100
    del proc.table[12]
    proc.add(10, DAEMON, cpu=40, rss=1)  # reaped by the top: its time moves to cutime
    usage = sampler.sample([program("web", 10)])["web"]
    assert usage.cpu_seconds == 0.4, "the reaped child's time, now its parent's, counts once"


def test_a_restarted_program_starts_counting_afresh() -> None:
    proc, clock = FakeProc(), [200.0]
    proc.add(10, DAEMON, cpu=500, rss=1)
    sampler = proc.sampler(clock)
    sampler.sample([program("web", 10)])
    del proc.table[10]
    proc.add(20, DAEMON, cpu=10, rss=1, start=900)
    clock[0] += 5
    usage = sampler.sample([program("web", 20, start=199.0)])["web"]
    assert usage.cpu_seconds == 0.1


def test_orphans_of_a_program_are_part_of_its_tree() -> None:
    proc, clock = FakeProc(), [200.0]
    proc.add(10, DAEMON, cpu=0, rss=1)
    proc.add(30, DAEMON, cpu=0, rss=7)  # double-forked away, re-parented to the daemon
    proc.add(31, 30, cpu=0, rss=2)
    proc.add(40, DAEMON, cpu=0, rss=100)  # some other child of the daemon (a probe)
    proc.environ[30] = {b"SUPERVISOR_GROUP_NAME": b"web", b"SUPERVISOR_PROCESS_NAME": b"web"}
    usage = proc.sampler(clock).sample([program("web", 10)])["web"]
    assert (usage.processes, usage.rss) == (3, 10 * 4096)


def test_a_cgroup_program_uses_its_cgroups_accounting() -> None:
    proc, clock = FakeProc(), [200.0]
    proc.add(10, DAEMON, cpu=0, rss=1)
    proc.cgroups["/cg/web"] = (3.0, 5_000_000)
    sampler = proc.sampler(clock)
    first = sampler.sample([program("web", 10, cgroup="/cg/web")])["web"]
    assert (first.cpu_seconds, first.rss, first.source) == (3.0, 5_000_000, "cgroup")
    clock[0] += 10
    proc.cgroups["/cg/web"] = (4.0, 5_000_000)
    assert sampler.sample([program("web", 10, cgroup="/cg/web")])["web"].cpu_percent == 10.0


def test_one_read_of_proc_per_sample_whatever_the_number_of_programs() -> None:
    proc, clock = FakeProc(), [200.0]
    programs: list[Any] = []
    for pid in range(100, 400):
        proc.add(pid, DAEMON, cpu=1, rss=1)
        programs.append(program(f"p{pid}", pid))
    programs.append(program("stopped", 0))
    usage = proc.sampler(clock).sample(programs)
    assert proc.reads == 1
    assert len(usage) == 300 and "stopped" not in usage
