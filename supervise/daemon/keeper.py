"""The descriptor keeper as a service: children's pipes outlive a killed daemon.

Started before the core: it connects to the keeper beside the state file (starting one
if none listens) and, after an unplanned death (no re-exec hand-off), takes back every
pipe the keeper held. The core gives each survivor its pipes; a pipe whose process died
while no daemon ran is read to its end into that program's log first. Stopped after the
programs: a clean shutdown leaves nothing to keep, so the keeper exits.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence

from attrs import evolve
from twisted.application.service import Service
from twisted.logger import Logger

from supervise.daemon.handoff import same_process_alive
from supervise.daemon.runtime import Runtime
from supervise.process.linux.pipestore import PipeStore
from supervise.process.linux.reaper import Reaper
from supervise.process.saved import SavedProcess

log = Logger(namespace="supervise.service")

#: Bytes read at most from one pipe of a process that died while no daemon ran.
DRAIN_LIMIT = 64 * 1024 * 1024


class KeeperService(Service):
    """Connects the spawner's PipeStore to the keeper; takes pipes back after a crash."""

    def __init__(self, runtime: Runtime, pipes: PipeStore, reaper: Reaper) -> None:
        self.runtime = runtime
        self.pipes = pipes
        self.reaper = reaper
        self.taken: dict[tuple[str, int], dict[str, int]] = {}

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        if not self.pipes.open():
            return
        if self.pipes.started is not None:
            self.reaper.helper(self.pipes.started.pid, "descriptor keeper")
        if self.runtime.handoff is None:
            # A re-exec's copy has its pipes already (inherited): it only reconnects.
            self.taken = self.pipes.take()

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        pid = self.pipes.quit()
        if pid is not None:
            # Under our subreaper it is our child now: its exit is no stranger's.
            self.reaper.helper(pid, "descriptor keeper")

    def attach(self, saved: Sequence[SavedProcess]) -> list[SavedProcess]:
        """``saved`` with each survivor's pipes; the rest of what was taken is drained
        into its log (a process that died meanwhile) or let go."""
        taken, self.taken = self.taken, {}
        result = []
        for entry in saved:
            fds = taken.pop((entry.namespec, entry.pid), None)
            if fds and same_process_alive(entry):
                entry = evolve(entry, fds=fds)
            elif fds:
                drain_into_logs(entry, fds)
                self.pipes.drop(entry.namespec, entry.pid)
            result.append(entry)
        for (namespec, pid), fds in taken.items():
            for fd in fds.values():
                os.close(fd)
            self.pipes.drop(namespec, pid)
        if any(entry.fds for entry in result):
            log.info(
                "took back the output pipes of {n} processes from the descriptor keeper",
                n=sum(1 for entry in result if entry.fds),
            )
        return result


def drain_into_logs(saved: SavedProcess, fds: dict[str, int]) -> None:
    """What a dead process wrote while no daemon ran: appended to its log files."""
    for stream, fd in fds.items():
        path = saved.stdout if stream == "stdout" else saved.stderr
        data = _read_available(fd)
        os.close(fd)
        if not data or not path:
            continue
        try:
            with open(path, "ab") as log_file:
                log_file.write(data)
        except OSError as problem:
            log.warn(
                "could not write {n} bytes {name} left to {path}: {problem}",
                n=len(data),
                name=saved.namespec,
                path=path,
                problem=problem,
            )


def _read_available(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    size = 0
    while size < DRAIN_LIMIT:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError as error:
            if error.errno == errno.EAGAIN:
                break
            raise
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
