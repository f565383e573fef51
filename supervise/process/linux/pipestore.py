"""PipeStore: the daemon's use of the descriptor keeper (process/keeper.py).

Each child's output pipes are kept in the keeper right after the spawn and dropped once
the child is reaped and its pipes drained, so a daemon killed with SIGKILL loses no
program and no output line: the next one takes the pipes back. A keeper that fails
never hurts the daemon: the problem is logged once and the store carries on without it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping

from attrs import define, field
from twisted.logger import Logger

from supervise.process.linux.keeper import (
    KeeperClient,
    KeeperError,
    child_key,
    child_match,
    connect,
    launch_keeper,
)

log = Logger()


@define(eq=False)
class PipeStore:
    """Children's pipes kept outside the daemon.

    :ivar path: the keeper's unix socket (beside the state file).
    """

    path: str
    log_path: str | None = None
    client: KeeperClient | None = None
    #: A keeper this store started: the daemon's child, reaped by the daemon's reaper.
    started: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def open(self) -> bool:
        """Connect to the keeper, starting one if none listens (without waiting for it:
        see ``launch_keeper``); False (logged) if impossible."""
        try:
            client = connect(self.path)
            if client is None:
                client, self.started = launch_keeper(self.path, log_path=self.log_path)
        except KeeperError as problem:
            log.warn(
                "no descriptor keeper at {path} ({problem}): output in flight is lost if "
                "the daemon is killed",
                path=self.path,
                problem=problem,
            )
            return False
        self.client = client
        return client is not None

    def keep(self, namespec: str, pid: int, fds: Mapping[str, int]) -> None:
        """Have the keeper hold duplicates of a new child's pipe read ends."""
        if self.client is None or not fds:
            return
        items = [(child_key(namespec, pid, stream), fd) for stream, fd in fds.items()]
        self._call(lambda client: client.send_keep(items))  # no round trip per spawn

    def drop(self, namespec: str, pid: int) -> None:
        """The child is reaped and its pipes drained: the keeper closes its copies."""
        if self.client is not None:
            self._call(lambda client: client.send_drop(child_match(namespec, pid)))

    def take(self) -> dict[tuple[str, int], dict[str, int]]:
        """Every kept pipe, as (namespec, pid) → {stream: fd}; the caller owns the fds."""
        taken: dict[tuple[str, int], dict[str, int]] = {}
        if self.client is None or self.started is not None:
            return taken  # (a keeper just started holds nothing)
        try:
            kept = self.client.take()
        except KeeperError as problem:
            self._lost(problem)
            return taken
        for entry in kept:
            namespec, pid, stream = (entry.key.get(k) for k in ("namespec", "pid", "stream"))
            if isinstance(namespec, str) and isinstance(pid, int) and isinstance(stream, str):
                taken.setdefault((namespec, pid), {})[stream] = entry.fd
        return taken

    def quit(self) -> int | None:
        """A clean shutdown: nothing is left to keep, the keeper exits; its pid, if known."""
        if self.client is None:
            return None
        client, self.client = self.client, None
        try:
            client.quit()
        except KeeperError:
            return None
        return client.keeper_pid or None  # (from its hello, or from launching it)

    def close(self) -> None:
        """Disconnect, leaving everything kept (a re-exec connects again)."""
        if self.client is not None:
            client, self.client = self.client, None
            client.close()

    def _call(self, call: Callable[[KeeperClient], object]) -> None:
        assert self.client is not None
        try:
            call(self.client)
        except KeeperError as problem:
            self._lost(problem)

    def _lost(self, problem: Exception) -> None:
        log.warn("the descriptor keeper failed ({problem}); going on without it", problem=problem)
        if self.client is not None:
            self.client.close()
        self.client = None
