"""The SIGCHLD reaper: every exit reaches its owner, and a storm never holds the reactor.

The kernel's side is scripted (``os.waitid`` / ``os.waitpid`` over a table of exited
pids) so that pid reuse and exit storms happen exactly when the test says.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from supervise.process.linux.reaper import Reaper


class Kernel:
    """Exited children waiting to be reaped, in exit order."""

    def __init__(self) -> None:
        self.waitable: list[int] = []
        self.reaped_by_reaper: list[int] = []

    def waitid(self, idtype: int, ident: int, options: int) -> object:
        if not self.waitable:
            return None
        return SimpleNamespace(si_pid=self.waitable[0])

    def waitpid(self, pid: int, options: int) -> tuple[int, int]:
        self.waitable.remove(pid)
        return pid, 0


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Kernel:
    fake = Kernel()
    monkeypatch.setattr(os, "waitid", fake.waitid)
    monkeypatch.setattr(os, "waitpid", fake.waitpid)
    return fake


def owner(
    kernel: Kernel, pid: int, seen: list[str], name: str, then: Callable[[], None] = lambda: None
) -> Callable[[], None]:
    def check_exit() -> None:
        kernel.waitpid(pid, 0)
        seen.append(name)
        then()

    return check_exit


def test_a_new_child_given_a_reused_pid_gets_its_own_exit(kernel: Kernel) -> None:
    """Program A (pid 100) exits and is respawned at once; the new child B gets pid 100
    again (the pid counter wrapped) and exits within the same reap: B's exit must reach
    B's owner, not be reaped as an unknown orphan (which left B's program RUNNING)."""
    reaper = Reaper()
    seen: list[str] = []

    def respawn() -> None:
        reaper.own(100, owner(kernel, 100, seen, "B"))
        kernel.waitable.append(100)  # B exits before the reaper looks again

    reaper.own(100, owner(kernel, 100, seen, "A", then=respawn))
    kernel.waitable.append(100)
    reaper.reap()
    assert seen == ["A", "B"]
    assert reaper.reaped_unknown == 0


def test_a_handler_that_does_not_reap_does_not_loop(kernel: Kernel) -> None:
    reaper = Reaper()
    reaper.own(7, lambda: None)  # forgets to reap
    kernel.waitable.append(7)
    assert reaper.reap() is False
    assert kernel.waitable == []
    assert reaper.reaped_unknown == 1


def test_a_storm_is_handled_in_bounded_batches(kernel: Kernel) -> None:
    """Children that exit as fast as they are respawned: each call handles a bounded
    batch and says more are waiting, so the reactor gets its turn in between."""
    reaper = Reaper()
    seen: list[str] = []
    next_pid = [1000]

    def spawn() -> None:
        pid = next_pid[0]
        next_pid[0] += 1
        reaper.own(pid, owner(kernel, pid, seen, str(pid), then=spawn))
        kernel.waitable.append(pid)  # crashes at once

    for _ in range(10):
        spawn()
    assert reaper.reap(limit=50) is True
    assert len(seen) == 50
    assert reaper.reaped_unknown == 0


def test_orphans_are_reaped_and_counted(kernel: Kernel) -> None:
    reaper = Reaper()
    kernel.waitable.extend([5, 6])
    assert reaper.reap() is False
    assert reaper.reaped_unknown == 2


def test_a_handed_over_child_exiting_before_its_take_over_keeps_its_status(
    kernel: Kernel,
) -> None:
    """A child handed over by a re-exec that exits before its program takes it over is
    not an unknown orphan: its status waits for the program."""
    reaper = Reaper()
    reaper.expect([300, 0])
    kernel.waitable = [300, 301]
    reaper.reap()
    assert reaper.reaped_unknown == 1  # 301 was nobody's
    assert reaper.early_exit(300) == 0
    assert reaper.early_exit(300) is None  # told once


def test_what_is_left_of_a_stopped_tree_is_not_an_unknown_orphan(kernel: Kernel) -> None:
    """Orphans of a program being stopped are reaped as known (no 'reaped unknown' line)."""
    reaper = Reaper()
    reaper.tree_members.update({400})
    kernel.waitable = [400, 401]
    reaper.reap()
    assert reaper.reaped_unknown == 1  # only 401
    assert reaper.tree_members == set()


def test_the_daemons_own_helper_is_not_an_unknown_orphan(kernel: Kernel) -> None:
    """The descriptor keeper, re-parented to the daemon, exits at a clean shutdown: it is
    reaped as the helper it is (no 'reaped unknown' line), once."""
    reaper = Reaper()
    reaper.helper(500, "descriptor keeper")
    kernel.waitable = [500, 501]
    reaper.reap()
    assert reaper.reaped_unknown == 1  # only 501
    assert reaper.helpers == {}
