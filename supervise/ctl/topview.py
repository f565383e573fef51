"""What ``supervisectl top`` shows, apart from the screen: the rows the console's event
stream describes, the filter, and each row's cells in words (no terminal library here)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from attrs import define, field

COLUMNS = ("Name", "State", "PID", "Uptime", "Restarts", "CPU", "Memory", "Last exit")


def duration(seconds: float) -> str:
    """``1d 02:03:04`` or ``02:03:04``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hms = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    return f"{days}d {hms}" if days else hms


def memory(kib: int) -> str:
    """KiB in the unit that reads best."""
    if kib < 1024:
        return f"{kib} KiB"
    if kib < 1024 * 1024:
        return f"{kib / 1024:.1f} MiB"
    return f"{kib / 1024 / 1024:.2f} GiB"


@define
class TopView:
    """Every process as the event stream last described it, and what of it is shown.

    :ivar rows: namespec → the console's row (``supervise/rows.py`` + ``exits``).
    :ivar usage: namespec → the last resource sample (``cpu``, ``rss`` KiB, ...).
    """

    clock: Callable[[], float] = time.time
    rows: dict[str, dict[str, Any]] = field(factory=dict)
    usage: dict[str, dict[str, Any]] = field(factory=dict)
    daemon: dict[str, Any] = field(factory=dict)
    crash_loop: dict[str, float] = field(factory=lambda: {"exits": 3, "window": 300})
    filter_text: str = ""
    offset: float = 0.0  # the daemon's clock minus ours, seconds

    def receive(self, name: str, data: dict[str, Any]) -> set[str]:
        """Apply one event of the stream; return the namespecs it changed."""
        if "now" in data:
            self.offset = data["now"] - self.clock()
        if name == "snapshot":
            self.daemon = data.get("daemon", {})
            self.crash_loop = data.get("crash_loop", self.crash_loop)
            self.rows = {row["namespec"]: row for row in data.get("processes", [])}
            self.usage = {n: h[-1] for n, h in data.get("usage", {}).items() if h}
            return set(self.rows)
        if name == "update":
            changed = {row["namespec"] for row in data.get("processes", [])}
            self.rows.update({row["namespec"]: row for row in data.get("processes", [])})
            return changed
        if name == "usage":
            before = set(self.usage)
            self.usage = dict(data.get("usage", {}))
            return before | set(self.usage)
        return set()

    def now(self) -> float:
        """The daemon's time, as far as the stream tells."""
        return self.clock() + self.offset

    def visible(self) -> list[str]:
        """The namespecs the filter shows (every word in name, group or state), sorted."""
        words = self.filter_text.lower().split()
        shown = []
        for namespec, row in sorted(self.rows.items()):
            text = f"{namespec} {row['group']} {self.state(row)}".lower()
            if all(word in text for word in words):
                shown.append(namespec)
        return shown

    def exits(self, row: dict[str, Any]) -> int:
        """The process's unrequested exits within the crash-loop window."""
        now = self.now()
        return sum(1 for when in row.get("exits", ()) if now - when <= self.crash_loop["window"])

    def state(self, row: dict[str, Any]) -> str:
        """The state in words: CRASH LOOP for a RUNNING or STARTING crash-looping process."""
        looping = self.exits(row) >= self.crash_loop["exits"]
        if looping and row["state"] in ("RUNNING", "STARTING"):
            return "CRASH LOOP"
        return str(row["state"])

    def cells(self, namespec: str) -> tuple[str, ...]:
        """One row's cells, in ``COLUMNS`` order."""
        row = self.rows[namespec]
        running = row["state"] == "RUNNING" and row["start"]
        sample = self.usage.get(namespec) if row["pid"] else None
        last_exit = row.get("last_exit", "")
        if last_exit and row.get("stop"):
            last_exit += " at " + time.strftime("%H:%M:%S", time.localtime(row["stop"]))
        return (
            namespec,
            self.state(row),
            str(row["pid"] or ""),
            duration(self.now() - row["start"]) if running else "",
            str(row["restarts"]),
            f"{sample['cpu']:.1f}%" if sample else "",
            memory(sample["rss"]) if sample else "",
            last_exit,
        )

    def title(self, link: str) -> str:
        """The first line: the daemon and the stream's state."""
        daemon = self.daemon
        if not daemon:
            return f"supervise · {link}"
        return (
            f"{daemon.get('identification', '')} · supervise {daemon.get('version', '')} · "
            f"daemon {daemon.get('state', '')} · pid {daemon.get('pid', '')} · {link}"
        )
