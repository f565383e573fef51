"""The /proc walk behind tree stops: one walk serves every stop of a shutdown."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from supervise.process.linux import proctable
from supervise.process.linux.proctable import ProcTable
from supervise.testing import wait_until


def test_a_slow_walk_still_serves_the_stops_right_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a loaded host one walk of /proc can take longer than the cache period: the
    stops right after it must not walk again (500 stops would take 500 walks)."""
    clock = [1000.0]
    walks: list[float] = []

    def slow_walk() -> dict[int, list[int]]:
        walks.append(clock[0])
        clock[0] += 1.0  # a second-long walk
        return {os.getpid(): []}

    monkeypatch.setattr(proctable, "parents", slow_walk)
    monkeypatch.setattr(proctable, "kernel_lists_children", lambda: False)  # the walk's path
    monkeypatch.setattr(proctable.time, "monotonic", lambda: clock[0])
    table = ProcTable()
    for pid in (101, 102, 103):
        assert table.tree_of(pid, "g", f"p{pid}", lambda _: False) == []
    assert len(walks) == 1
    clock[0] += proctable.TREE_CACHE_SECONDS + 0.01
    table.tree_of(104, "g", "p104", lambda _: False)
    assert len(walks) == 2  # later stops see a fresh table


def test_the_kernels_children_lists_find_the_tree_a_walk_finds() -> None:
    """A stop finds a program's whole tree from the kernel's children lists, the same
    processes a walk over every process finds."""
    assert proctable.kernel_lists_children()  # this host's kernel keeps them
    shell = subprocess.Popen(
        ["sh", "-c", "sleep 100 & (sleep 100 & wait) & wait"], start_new_session=True
    )
    try:
        walked: list[int] = []

        def settled() -> bool:
            walked[:] = proctable.descendants(shell.pid, proctable.parents())
            return len(walked) == 3  # two sleeps and the subshell

        wait_until(settled)
        found = ProcTable().tree_of(shell.pid, "g", "p", lambda _: True)
        assert sorted(found) == sorted(walked)
        assert proctable.kernel_children(999_999_999) == []  # gone: nothing
    finally:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()


def test_the_daemons_tree_is_measured_without_walking_every_process() -> None:
    """Usage sampling reads the daemon's own tree (its children and theirs), each
    process as a walk over every process reads it, and no process outside it."""
    shell = subprocess.Popen(["sh", "-c", "sleep 100 & wait"], start_new_session=True)
    try:
        wait_until(lambda: len(proctable.kernel_children(shell.pid)) == 1)
        mine = proctable.subtree_stats(os.getpid())
        everything = proctable.pid_stats()
        [sleep] = proctable.kernel_children(shell.pid)
        assert {os.getpid(), shell.pid, sleep} <= set(mine)
        assert mine[sleep].ppid == shell.pid and mine[shell.pid].ppid == os.getpid()
        assert all(mine[p].start_ticks == everything[p].start_ticks for p in (shell.pid, sleep))
        assert 1 not in mine  # init is no descendant of ours
    finally:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
