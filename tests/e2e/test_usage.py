"""Per-program CPU and memory, sampled by the real daemon, against what /proc says."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from supervise.testing import RunningDaemon, wait_until
from tests.e2e.conftest import Daemon

pytestmark = pytest.mark.e2e

BUSY = Path(__file__).with_name("busy_child.py")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_tree(top: int) -> list[int]:
    """``top`` and its descendants, read from /proc by the test itself."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, pending = [top], [top]
    while pending:
        for child in parents.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def proc_usage(pids: list[int]) -> tuple[float, int]:
    """CPU seconds (own + reaped children) and resident bytes of ``pids``, from /proc."""
    cpu, rss = 0, 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += sum(int(v) for v in fields[11:15])
        rss += int(fields[21])
    return cpu / TICK, rss * PAGE


def info(daemon: RunningDaemon, namespec: str) -> dict[str, Any]:
    infos = daemon.rpc().supervise.getAllProcessInfo()
    return next(i for i in infos if i["namespec"] == namespec)


def test_busy_tree_cpu_and_memory_match_proc(tmp_path: Path) -> None:
    """A shell running a child that burns half a CPU second and holds 64 MiB: the daemon's
    figures for the whole tree are /proc's, within a tick of CPU and 5% of memory."""
    daemon = Daemon(tmp_path)
    try:
        daemon.start(
            f"""
            [supervisord]
            usage_interval = 0.2
            [program:busy]
            command = sh -c '{sys.executable} {BUSY} 0.5; exit 0'
            startsecs = 0
            stdout_logfile = {tmp_path}/busy.out
            [program:idle]
            command = sleep 3600
            startsecs = 0
            """
        )
        wait_until(
            lambda: (
                "burnt" in (tmp_path / "busy.out").read_text()
                if (tmp_path / "busy.out").exists()
                else False
            ),
            timeout=120,  # half a CPU second, on a machine that may be busy
            what="the child burnt its half CPU second",
        )
        top = info(daemon, "busy")["pid"]
        tree = proc_tree(top)
        assert len(tree) == 2, "the shell and its python child"
        cpu, rss = proc_usage(tree)
        # Sampled after the burn: the figures stop moving and match /proc's.
        wait_until(
            lambda: (
                info(daemon, "busy").get("cpu_seconds", 0) >= cpu - 1 / TICK
                and info(daemon, "busy").get("cpu_percent") == 0.0
            ),
            timeout=60,
            what="a sample after the burn",
        )
        measured = info(daemon, "busy")
        assert abs(measured["cpu_seconds"] - cpu) <= 2 / TICK + 0.01
        assert measured["cpu_seconds"] >= 0.5
        assert abs(measured["rss_kib"] * 1024 - rss) <= 0.05 * rss
        assert measured["rss_kib"] >= 64 * 1024
        assert measured["tree_processes"] == 2
        idle = info(daemon, "idle")
        assert idle["cpu_percent"] == 0.0 and idle["tree_processes"] == 1
    finally:
        daemon.close()
