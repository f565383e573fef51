"""The test session's own processes, known for certain: every process a test starts
inherits ``SUPERVISE_TEST_SESSION=<uuid>`` from pytest's environment (other engineers'
suites on the same machine have another uuid, or none); and one started with a clean
environment is still a descendant of the pytest process that ran its test, until that
process ends (each xdist worker looks at its own as it finishes)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

MARK = "SUPERVISE_TEST_SESSION"
#: How an xdist worker's command line reads (it is ours, and ends as the session ends).
XDIST_WORKER = "import sys;exec(eval(sys.stdin.readline()))"


def marked(session: str, exclude: set[int]) -> dict[int, str]:
    """``{pid: command line}`` of every live process carrying ``MARK=session``."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            if session_of(int(entry.name)) != session:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip()
        except OSError:  # gone, or not ours to read
            continue
        if not command:  # a zombie: already dead, its parent has yet to reap it
            continue
        text = command.decode("utf-8", "replace")
        if XDIST_WORKER in text:
            continue
        found[int(entry.name)] = text
    return found


def session_of(pid: int) -> str | None:
    """The test session ``pid`` carries the mark of, if any (OSError: gone or not ours)."""
    prefix = f"{MARK}=".encode()
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode(errors="replace")
    return None


def descendants(root: int) -> dict[int, str]:
    """``{pid: command line}`` of every live (not zombie) descendant of ``root``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if state != "Z":
            children.setdefault(int(ppid), []).append(int(entry.name))
    found: dict[int, str] = {}
    waiting = list(children.get(root, []))
    while waiting:
        pid = waiting.pop()
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
        except OSError:
            continue
        text = command.decode("utf-8", "replace")
        if XDIST_WORKER not in text:
            found[pid] = text
        waiting += children.get(pid, [])
    return found


def leftovers(session: str | None, grace: float = 10.0) -> dict[int, str]:
    """This process's descendants, and with ``session`` every process marked with it,
    still alive once ``grace`` seconds have let those that are ending end (checked
    every 0.1 s: this returns as soon as none is left)."""
    deadline = time.monotonic() + grace
    while True:
        found = descendants(os.getpid())
        if session is not None:
            found.update(marked(session, {os.getpid()}))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def kill(pids: list[int]) -> None:
    """SIGKILL each (they carry this session's mark, so they are ours)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
