"""Watch mode: find a program's process even when supervise did not start it.

- ``watch = pidfile``: the process is the live pid in ``pidfile`` (watched with inotify).
- ``watch = match``: the process whose command line matches the ``match`` regular
  expression (default: the program's own ``command``), owned by ``match_user`` if set.
  The rule never matches supervise itself nor a process of any other program, and the
  search is a bounded scan of ``/proc``: at once, then every ``SCAN_INTERVAL`` seconds
  for at most ``absent_grace`` seconds (the kernel offers no way to wait for "a new
  process matching X").
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from attrs import define

from supervise.process.daemonized import PidfileWait, read_pidfile

SCAN_INTERVAL = 0.25


def cmdline(pid: int) -> str | None:
    """A process's command line, arguments joined by spaces (None if unreadable)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    if not raw:
        return None
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def owner(pid: int) -> int | None:
    """A process's real uid."""
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def find_match(
    pattern: re.Pattern[str], uid: int | None, exclude: Callable[[int], bool]
) -> int | None:
    """The oldest live process matching ``pattern`` (and ``uid``), outside ``exclude``."""
    me = os.getpid()
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == me or exclude(pid):
            continue
        line = cmdline(pid)
        if line is None or not pattern.search(line):
            continue
        if uid is not None and owner(pid) != uid:
            continue
        found.append(pid)
    return min(found) if found else None


def find_pidfile(path: str, exclude: Callable[[int], bool]) -> int | None:
    """The live pid a pidfile names, unless excluded."""
    pid = read_pidfile(path, 0.0)
    return None if pid is None or exclude(pid) else pid


@define(eq=False)
class SuccessorSearch:
    """Looks for a watched program's next process until found or ``grace`` passes."""

    clock: Any
    find: Callable[[], int | None]
    on_found: Callable[[int], None]
    on_absent: Callable[[], None]
    pidfile_wait: PidfileWait | None = None
    timer: Any = None
    deadline: Any = None

    @classmethod
    def start(
        cls,
        clock: Any,
        grace: float,
        find: Callable[[], int | None],
        on_found: Callable[[int], None],
        on_absent: Callable[[], None],
        pidfile: str | None = None,
    ) -> SuccessorSearch:
        """Search now, then on pidfile changes (pidfile mode) or by bounded scans (match)."""
        search = cls(clock, find, on_found, on_absent)
        search.deadline = clock.callLater(grace, search._give_up)
        if pidfile is not None:
            search.pidfile_wait = PidfileWait.start(
                clock, pidfile, grace, on_change=search._look, on_timeout=lambda: None
            )
        search._look()
        if pidfile is None and search.deadline is not None:
            search._schedule_scan()
        return search

    def _schedule_scan(self) -> None:
        self.timer = self.clock.callLater(SCAN_INTERVAL, self._scan)

    def _scan(self) -> None:
        self.timer = None
        if not self._look():
            self._schedule_scan()

    def _look(self) -> bool:
        if self.deadline is None:
            return True
        pid = self.find()
        if pid is None:
            return False
        self.stop()
        self.on_found(pid)
        return True

    def _give_up(self) -> None:
        self.deadline = None
        self.stop()
        self.on_absent()

    def stop(self) -> None:
        """Stop searching (no callback)."""
        if self.deadline is not None and self.deadline.active():
            self.deadline.cancel()
        self.deadline = None
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        if self.pidfile_wait is not None:
            self.pidfile_wait.stop()
            self.pidfile_wait = None


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started, in epoch seconds (from /proc and the boot time)."""
    from supervise.process.handoff import start_ticks

    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        with open("/proc/stat") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")
