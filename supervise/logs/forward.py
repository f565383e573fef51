"""``forward_output``: every program's output also on the daemon's own stdout and stderr.

Whole lines only, each prefixed with the process's name (``web | …``), stamped
(``timestamped``), or as one JSON object a line (``json``: time, program, process,
stream, pid, line) — what ``docker logs`` and log shippers read. A partial line is held
until its newline arrives, until it reaches ``max_line`` bytes, or until the run ends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime

from attrs import define, field

from supervise.config.model import ProcessConfig

#: A held partial line is written out once it reaches this many bytes.
MAX_LINE = 16 * 1024


def iso_time(when: float) -> str:
    """``2026-12-02T03:30:01.123Z``."""
    stamp = datetime.fromtimestamp(when, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def write_fd(fd: int) -> Callable[[bytes], None]:
    """A writer of all of ``data`` to ``fd``; what cannot be written (no reader) is dropped."""

    def write(data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            pass

    return write


@define(eq=False)
class OutputForwarder:
    """Copies programs' output, line by line, to the daemon's stdout and stderr.

    :ivar format: ``plain``, ``timestamped`` or ``json``.
    :ivar writers: where each stream goes (the daemon's fd 1 and 2 by default).
    """

    format: str
    clock: Callable[[], float]
    writers: dict[str, Callable[[bytes], None]] = field(
        factory=lambda: {"stdout": write_fd(1), "stderr": write_fd(2)}
    )
    max_line: int = MAX_LINE
    #: What is held of a line not yet ended, per (process, stream), with the writer's pid.
    _held: dict[tuple[str, str], tuple[bytes, int]] = field(factory=dict)

    def feed(self, config: ProcessConfig, stream: str, pid: int, data: bytes) -> None:
        """Bytes a process wrote on ``stream``: write out every line they complete."""
        key = (config.namespec, stream)
        pending = self._held.pop(key, (b"", pid))[0] + data
        lines = pending.split(b"\n")
        rest = lines.pop()
        while len(rest) >= self.max_line:
            lines.append(rest[: self.max_line])
            rest = rest[self.max_line :]
        if rest:
            self._held[key] = (rest, pid)
        if lines:
            self.writers[stream](b"".join(self._line(config, stream, pid, line) for line in lines))

    def flush(self, config: ProcessConfig) -> None:
        """The run ended: write out what is held of its last lines."""
        for stream in ("stdout", "stderr"):
            rest, pid = self._held.pop((config.namespec, stream), (b"", 0))
            if rest:
                self.writers[stream](self._line(config, stream, pid, rest))

    def _line(self, config: ProcessConfig, stream: str, pid: int, line: bytes) -> bytes:
        if line.endswith(b"\r"):
            line = line[:-1]
        if self.format == "json":
            record = {
                "time": iso_time(self.clock()),
                "program": config.program,
                "process": config.namespec,
                "stream": stream,
                "pid": pid,
                "line": line.decode("utf-8", "replace"),
            }
            return json.dumps(record, ensure_ascii=False).encode() + b"\n"
        prefix = f"{config.namespec} | ".encode()
        if self.format == "timestamped":
            prefix = f"{iso_time(self.clock())} ".encode() + prefix
        return prefix + line + b"\n"
