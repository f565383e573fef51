"""The one reader of ``/proc``: start times, command lines, children, environments, and
each process's CPU time and resident memory (``pid_stats``, one pass for every program)."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from attrs import frozen
from zope.interface import implementer

from supervise.config.values import name_to_uid
from supervise.process.interfaces import IProcessTable


def _read(path: str) -> bytes | None:
    """A /proc file's bytes, read in 4 KiB reads without a Python file object (twice as
    fast when every process's file is read; a large read buffer each time fragmented the
    heap: 3 KiB of resident memory a program), or None if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = [os.read(fd, 4096)]
        while len(chunks[-1]) == 4096:  # (a short read is the end: one read for most)
            chunks.append(os.read(fd, 4096))
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first)."""
    data = _read(f"/proc/{pid}/stat")
    if not data or b")" not in data:
        return None
    return data.rpartition(b")")[2].split()


def kernel_children(pid: int) -> list[int]:
    """``pid``'s children from the kernel's own lists (``/proc/PID/task/TID/children``
    of each of its threads): a few reads instead of a walk over every process (see
    ``kernel_lists_children``). Empty if ``pid`` is gone."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        data = _read(f"/proc/{pid}/task/{task}/children")
        if data:
            found.extend(int(child) for child in data.split())
    return found


@functools.cache
def kernel_lists_children() -> bool:
    """True if the kernel keeps children lists in /proc (CONFIG_PROC_CHILDREN)."""
    return os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def start_ticks(pid: int) -> int | None:
    """When the kernel started ``pid`` (clock ticks since boot), or None if gone/zombie."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == b"Z":
        return None
    return int(fields[19])


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


def parents() -> dict[int, list[int]]:
    """Every live process's children, from one pass over ``/proc`` (ppid of each)."""
    found: dict[int, list[int]] = {}
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is not None and fields[0] != b"Z":
            found.setdefault(int(fields[1]), []).append(pid)
    return found


def descendants(pid: int, tree: Mapping[int, list[int]]) -> list[int]:
    """Every living descendant of ``pid`` in ``tree`` (from ``parents``)."""
    return descendants_through(pid, lambda parent: tree.get(parent, []))


def descendants_through(pid: int, children: Callable[[int], list[int]]) -> list[int]:
    """Every living descendant of ``pid``, asking ``children`` for each one's children."""
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children(pending.pop()):
            if child not in found:
                found.append(child)
                pending.append(child)
    return found


def program_mark(env: Mapping[bytes, bytes]) -> tuple[bytes, bytes] | None:
    """The (group, process) names a program's process carries in its environment
    (``SUPERVISOR_GROUP_NAME``, ``SUPERVISOR_PROCESS_NAME``), or None."""
    group, name = env.get(b"SUPERVISOR_GROUP_NAME"), env.get(b"SUPERVISOR_PROCESS_NAME")
    return (group, name) if group is not None and name is not None else None


def environ(pid: int) -> dict[bytes, bytes]:
    """A process's environment at exec (empty if unreadable)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            variables = handle.read().split(b"\0")
    except OSError:
        return {}
    return dict(v.split(b"=", 1) for v in variables if b"=" in v)


@frozen
class PidStat:
    """One live process as ``/proc/PID/stat`` shows it."""

    ppid: int
    #: When it started, clock ticks since boot (with the pid, names one process).
    start_ticks: int
    #: User + system time, its own and its reaped children's, in clock ticks.
    cpu_ticks: int
    #: Resident set size in pages.
    rss_pages: int


def pid_stats(pids: Iterable[int] | None = None) -> dict[int, PidStat]:
    """Each live process's parent, start, CPU time and resident pages (zombies left
    out): of ``pids``, else of every process (one pass over ``/proc``)."""
    found: dict[int, PidStat] = {}
    for pid in _pids() if pids is None else pids:
        fields = _stat_fields(pid)
        if fields is None or fields[0] == b"Z" or len(fields) < 22:
            continue
        found[pid] = PidStat(
            ppid=int(fields[1]),
            start_ticks=int(fields[19]),
            cpu_ticks=sum(int(value) for value in fields[11:15]),
            rss_pages=int(fields[21]),
        )
    return found


def subtree_stats(root: int) -> dict[int, PidStat]:
    """``pid_stats`` of ``root`` and all its descendants, found through the kernel's
    children lists: a host running thousands of other processes costs nothing more (a
    walk over every process took 7 ms on a 270-process host, this 2 ms for a daemon
    with 50 programs). Every process, as ``pid_stats()``, without those lists."""
    if not kernel_lists_children():
        return pid_stats()
    return pid_stats([root, *descendants_through(root, kernel_children)])


def uptime_ticks() -> int:
    """Clock ticks since boot now (``/proc/uptime``), the scale of ``start_ticks``."""
    try:
        with open("/proc/uptime") as handle:
            seconds = float(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0
    return int(seconds * os.sysconf("SC_CLK_TCK"))


def _pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def owned_survivors(owner: str) -> dict[str, list[tuple[int, int]]]:
    """Processes a crashed daemon started, found by ``SUPERVISE_OWNER=owner`` in their
    environment: namespec → [(pid, start ticks)], top processes only (their own children
    inherit the variable and are left alone)."""
    marker = f"SUPERVISE_OWNER={owner}".encode()
    found: dict[int, tuple[str, int, int]] = {}  # pid -> (namespec, ppid, ticks)
    owner_mark = marker.split(b"=", 1)[1]
    for pid in _pids():
        if pid == os.getpid():
            continue
        env = environ(pid)
        fields = _stat_fields(pid)
        if env.get(b"SUPERVISE_OWNER") != owner_mark or fields is None or fields[0] == b"Z":
            continue
        name = env.get(b"SUPERVISOR_PROCESS_NAME", b"").decode("utf-8", "replace")
        group = env.get(b"SUPERVISOR_GROUP_NAME", b"").decode("utf-8", "replace")
        if name:
            namespec = name if name == group else f"{group}:{name}"
            found[pid] = (namespec, int(fields[1]), int(fields[19]))
    survivors: dict[str, list[tuple[int, int]]] = {}
    for pid, (namespec, ppid, ticks) in found.items():
        parent = found.get(ppid)
        if parent is not None and parent[0] == namespec:
            continue  # a child of the program's own top process
        survivors.setdefault(namespec, []).append((pid, ticks))
    return survivors


#: Seconds a pass over /proc serves tree lookups: a shutdown stopping every program in
#: one reactor turn reads /proc once, not once per program.
TREE_CACHE_SECONDS = 0.2


@implementer(IProcessTable)
class ProcTable:
    """IProcessTable over the real ``/proc``."""

    def __init__(self) -> None:
        self._tree: dict[int, list[int]] = {}
        self._tree_at = float("-inf")
        #: Each orphan's program mark, read once per period (a shutdown asks for every
        #: program's tree at once).
        self._marks: dict[int, tuple[bytes, bytes] | None] = {}
        #: The daemon's children that are no program's process, once per period.
        self._orphans: list[int] = []
        self._orphans_at = float("-inf")

    def _children(self) -> Callable[[int], list[int]]:
        """How to find a process's children: the kernel's lists, else a walk over /proc
        (kept TREE_CACHE_SECONDS)."""
        if kernel_lists_children():
            return kernel_children
        if time.monotonic() - self._tree_at > TREE_CACHE_SECONDS:
            # Aged from the walk's end: on a loaded host a walk can outlast the cache
            # period, and every stop of a shutdown would then walk /proc again (one
            # program stopped per walk: minutes for 500 programs).
            self._tree = parents()
            self._tree_at = time.monotonic()
        tree = self._tree
        return lambda pid: tree.get(pid, [])

    def _orphans_of_daemon(
        self, children: Callable[[int], list[int]], exclude: Callable[[int], bool]
    ) -> list[int]:
        """The daemon's children that ``exclude`` does not claim, once per period (a
        shutdown of 2,000 programs would otherwise ask 4 million times)."""
        if time.monotonic() - self._orphans_at > TREE_CACHE_SECONDS:
            self._orphans = [c for c in children(os.getpid()) if not exclude(c)]
            self._marks = {}
            self._orphans_at = time.monotonic()
        return self._orphans

    def _mark(self, pid: int) -> tuple[bytes, bytes] | None:
        if pid not in self._marks:
            self._marks[pid] = program_mark(environ(pid))
        return self._marks[pid]

    def start_ticks(self, pid: int) -> int | None:
        """When ``pid`` started (clock ticks since boot); None if gone or a zombie."""
        return start_ticks(pid)

    def signal(self, pid: int, sig: int) -> None:
        """Send ``sig`` to ``pid``; nothing if it is gone or not ours to signal."""
        try:
            os.kill(pid, sig)
        except OSError:
            pass

    def start_time(self, pid: int) -> float | None:
        """When ``pid`` started, in epoch seconds (from its ticks and the boot time)."""
        ticks = start_ticks(pid)
        if ticks is None:
            return None
        try:
            with open("/proc/stat") as handle:
                boot = next(int(line.split()[1]) for line in handle if line.startswith("btime "))
        except (OSError, StopIteration, ValueError):
            return None
        return boot + ticks / os.sysconf("SC_CLK_TCK")

    def find(
        self, pattern: re.Pattern[str], user: str | None, exclude: Callable[[int], bool]
    ) -> int | None:
        """The oldest live process matching ``pattern`` (owned by ``user`` if set)."""
        uid = name_to_uid(user) if user else None
        me = os.getpid()
        found = []
        for pid in _pids():
            if pid == me or exclude(pid):
                continue
            line = cmdline(pid)
            if line is None or not pattern.search(line):
                continue
            if uid is not None and owner(pid) != uid:
                continue
            found.append(pid)
        return min(found) if found else None

    def pidfile_pid(self, path: str, written_since: float) -> int | None:
        """The live pid in ``path`` if the file was written at or after ``written_since``."""
        try:
            written = os.stat(path).st_mtime
            with open(path) as handle:
                words = handle.read().split()
        except OSError:
            return None
        if written < written_since - 1 or not words or not words[0].isdigit():
            return None
        pid = int(words[0])
        if pid <= 1:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def tree_of(self, pid: int, group: str, name: str, exclude: Callable[[int], bool]) -> list[int]:
        """``pid``'s descendants, plus orphans of the same program re-parented to this
        daemon (the subreaper) and their descendants, found by the program's
        ``SUPERVISOR_GROUP_NAME``/``SUPERVISOR_PROCESS_NAME`` in their environment.
        ``exclude`` (the daemon's own processes) is asked once per TREE_CACHE_SECONDS.

        A stop costs a few reads of the kernel's children lists, not a walk over every
        process (6 ms on a host with 200 processes: most of a stopProcess call)."""
        children = self._children()
        members = descendants_through(pid, children)
        mark = (group.encode(), name.encode())
        for orphan in self._orphans_of_daemon(children, exclude):
            if orphan == pid or orphan in members:
                continue
            if self._mark(orphan) == mark:
                members.append(orphan)
                members.extend(d for d in descendants_through(orphan, children) if d not in members)
        return members
