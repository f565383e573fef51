"""SavedProcess: one process as the state file and a re-exec's hand-off record it."""

from __future__ import annotations

from attrs import frozen


@frozen
class SavedProcess:
    """One process as written to the state file."""

    namespec: str
    state: str
    pid: int
    ticks: int | None
    start_time: float
    stop_time: float
    spawns: int
    exitstatus: int
    stdout: str | None
    stderr: str | None
    fds: dict[str, int] | None = None
    #: BACKOFF's retry count and the spawn error of BACKOFF/FATAL/EXITED.
    tries: int = 0
    spawnerr: str = ""

    def same_process(self, ticks: int | None) -> bool:
        """True if a live process started at ``ticks`` (its pid's start time now) is the
        one saved, not another given a reused pid."""
        return self.pid > 0 and self.ticks is not None and ticks == self.ticks
