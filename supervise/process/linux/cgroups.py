"""Whole process trees through cgroup v2: one cgroup per process, killed as a unit.

A program with ``cgroup = true`` runs in its own cgroup under a supervise-owned subtree
(found from ``/proc/self/mountinfo`` and ``/proc/self/cgroup``). Descendants cannot
leave it, even with ``setsid``/double forks, so ``cgroup.kill`` (Linux ≥ 5.14) stops the
whole tree, and ``cgroup.events`` (watched with inotify, no polling) says when it is empty.
Where cgroups are not writable, supervise says so once and falls back to process groups.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

from attrs import define
from twisted.logger import Logger

log = Logger()


def cgroup2_mount(mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup`` or ``…/unified``)."""
    try:
        with open(mountinfo) as handle:
            for line in handle:
                fields = line.split(" - ")
                if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
                    return fields[0].split()[4]
    except OSError:
        return None
    return None


def own_cgroup(proc_cgroup: str = "/proc/self/cgroup") -> str:
    """This process's cgroup v2 path (``0::/path``)."""
    try:
        with open(proc_cgroup) as handle:
            for line in handle:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return "/"


@define(eq=False)
class CgroupTree:
    """The supervise-owned subtree: one child cgroup per spawned process."""

    root: str

    @classmethod
    def create(cls, name: str) -> CgroupTree | None:
        """Make ``<our cgroup>/<name>``; None (logged once) when cgroups are not writable."""
        if os.environ.get("SUPERVISE_NO_CGROUPS"):
            log.warn(
                "SUPERVISE_NO_CGROUPS is set: cgroup=true programs use the process-tree fallback"
            )
            return None
        mount = cgroup2_mount()
        if mount is None:
            log.warn("cgroup v2 is not mounted: cgroup=true programs fall back to process groups")
            return None
        parent = os.path.join(mount, own_cgroup().lstrip("/"))
        root = os.path.join(parent, name)
        remove_stale(parent, name.rsplit("-", 1)[0])
        try:
            os.makedirs(root, exist_ok=True)
            probe = os.path.join(root, "probe")
            os.mkdir(probe)
            os.rmdir(probe)
        except OSError as problem:
            log.warn(
                "cannot create cgroups under {root} ({problem}): cgroup=true programs fall back "
                "to process groups",
                root=root,
                problem=problem.strerror,
            )
            return None
        return cls(root)

    def make(self, name: str, limits: dict[str, str] | None = None) -> str:
        """A fresh, empty cgroup for one process, with ``limits`` (file → value) applied."""
        path = os.path.join(self.root, name.replace("/", "_"))
        os.makedirs(path, exist_ok=True)
        for file, value in (limits or {}).items():
            self.apply(path, file, value)
        return path

    def apply(self, path: str, file: str, value: str) -> bool:
        """Write one limit, enabling its controller first if needed; False (logged) if not possible."""
        controller = file.split(".", 1)[0]
        target = os.path.join(path, file)
        if not os.path.exists(target):
            for folder in (os.path.dirname(self.root), self.root):
                try:
                    with open(os.path.join(folder, "cgroup.subtree_control"), "w") as handle:
                        handle.write(f"+{controller}")
                except OSError:
                    break
        try:
            with open(target, "w") as handle:
                handle.write(value)
            return True
        except OSError as problem:
            log.warn(
                "{file} = {value} not applied to {path}: the {controller} controller is not "
                "available here ({problem})",
                file=file,
                value=value,
                path=path,
                controller=controller,
                problem=problem.strerror,
            )
            return False

    def remove_all(self) -> None:
        """Remove the subtree's empty cgroups (at exit)."""
        for entry in os.listdir(self.root) if os.path.isdir(self.root) else ():
            remove(os.path.join(self.root, entry))
        remove(self.root)


def remove_stale(parent: str, prefix: str) -> None:
    """Remove empty subtrees left by daemons that died (``<prefix>-<dead pid>``)."""
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        head, _, pid = entry.rpartition("-")
        if head != prefix or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        CgroupTree(os.path.join(parent, entry)).remove_all()


def members(path: str) -> list[int]:
    """Pids in a cgroup."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as handle:
            return [int(line) for line in handle if line.strip()]
    except OSError:
        return []


def populated(path: str) -> bool:
    """True while any process is in the cgroup (or below it)."""
    try:
        with open(os.path.join(path, "cgroup.events")) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "populated":
                    return value.strip() == "1"
    except OSError:
        return False
    return bool(members(path))


def kill(path: str) -> None:
    """SIGKILL everything in the cgroup: ``cgroup.kill``, else each member."""
    try:
        with open(os.path.join(path, "cgroup.kill"), "w") as handle:
            handle.write("1")
        return
    except OSError:
        pass
    for pid in members(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def oom_kills(path: str) -> int:
    """How many processes of the cgroup the kernel's OOM killer took (0 if unknown)."""
    try:
        with open(os.path.join(path, "memory.events")) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _keyed(path: str) -> dict[str, int]:
    """A flat-keyed cgroup file (``cpu.stat``, ``memory.stat``) as numbers; empty if unreadable."""
    found: dict[str, int] = {}
    try:
        with open(path) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if value.strip().isdigit():
                    found[key] = int(value)
    except OSError:
        pass
    return found


def usage(path: str) -> tuple[float, int] | None:
    """The cgroup's CPU seconds so far (``cpu.stat`` usage_usec: every process it ever held)
    and resident bytes (``memory.stat`` anon + file_mapped); None when unreadable."""
    cpu = _keyed(os.path.join(path, "cpu.stat")).get("usage_usec")
    if cpu is None:
        return None
    memory = _keyed(os.path.join(path, "memory.stat"))
    return cpu / 1e6, memory.get("anon", 0) + memory.get("file_mapped", 0)


def remove(path: str) -> None:
    """Remove an empty cgroup (ignore errors: it may still be populated)."""
    try:
        os.rmdir(path)
    except OSError:
        pass


def join_in_child(path: str) -> Callable[[], None]:
    """A ``preexec_fn`` moving the new child into ``path`` before it execs."""
    procs = os.path.join(path, "cgroup.procs").encode()

    def join() -> None:
        fd = os.open(procs, os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)

    return join


@define(eq=False)
class EmptyWatch:
    """Calls ``on_empty`` once the cgroup has no process left (inotify on cgroup.events)."""

    notifier: Any

    @classmethod
    def start(cls, reactor: Any, path: str, on_empty: Callable[[], None]) -> EmptyWatch | None:
        """Watch ``path``; None if it is already empty (``on_empty`` was called)."""
        if not populated(path):
            on_empty()
            return None
        from twisted.internet import inotify
        from twisted.python.filepath import FilePath

        notifier = inotify.INotify(reactor)
        notifier.startReading()
        watch = cls(notifier)
        fired = [False]

        def changed(*_: object) -> None:
            if not fired[0] and not populated(path):
                fired[0] = True
                watch.stop()
                on_empty()

        notifier.watch(
            FilePath(os.path.join(path, "cgroup.events")),
            mask=inotify.IN_MODIFY,
            callbacks=[changed],
        )
        changed()
        return None if fired[0] else watch

    def stop(self) -> None:
        """Stop watching."""
        self.notifier.loseConnection()
