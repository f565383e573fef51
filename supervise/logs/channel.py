"""One output channel of one process: its log file, syslog copy and ANSI stripping."""

from __future__ import annotations

import os
import re
import syslog
from collections.abc import Callable

from attrs import define, field
from twisted.logger import Logger

from supervise.config.model import ChannelConfig
from supervise.config.values import LogTarget
from supervise.logs.rotating import RotatingFile

_ANSI = re.compile(rb"\x1b\[[\d;]*[HfABCDRsuJKhlpm]")

log = Logger()


def strip_ansi(data: bytes) -> bytes:
    """Remove ANSI escape sequences the way supervisord's ``strip_ansi`` does."""
    return _ANSI.sub(b"", data)


def auto_log_path(childlogdir: str, process: str, channel: str, identifier: str) -> str:
    """Create a new AUTO log file: ``<process>-<channel>---<identifier>-XXXXXXXX.log``."""
    import tempfile  # only for AUTO logs (7 ms at start-up otherwise)

    fd, path = tempfile.mkstemp(
        prefix=f"{process}-{channel}---{identifier}-", suffix=".log", dir=childlogdir
    )
    os.close(fd)
    return path


def auto_log_pattern(identifier: str) -> re.Pattern[str]:
    """The names of AUTO logs of ``identifier`` that start-up cleanup removes."""
    return re.compile(
        rf".+?---{re.escape(identifier)}-\S+\.log\.{{0,1}}\d{{0,4}}(\.gz|\.rotating-\d+)?"
    )


def cleanup_auto_logs(
    childlogdir: str, identifier: str, keep: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """Delete stale AUTO logs of ``identifier`` in ``childlogdir`` (except ``keep`` and
    their rotated copies); return their names.

    Paths are compared normalised: ``childlogdir`` may say ``%(here)s/../var`` while the
    files to keep were named by their absolute path.
    """
    pattern = auto_log_pattern(identifier)
    kept = {os.path.normpath(os.path.abspath(path)) for path in keep}
    removed: list[str] = []
    try:
        names = os.listdir(childlogdir)
    except OSError:
        return removed
    folder = os.path.normpath(os.path.abspath(childlogdir))
    for name in names:
        full = os.path.join(folder, name)
        if pattern.fullmatch(name) and not any(full == k or full.startswith(k + ".") for k in kept):
            try:
                os.remove(full)
                removed.append(name)
            except OSError:
                pass
    return removed


def log_file(path: str, config: ChannelConfig) -> RotatingFile:
    """The rotating file of a channel writing to ``path``."""
    return RotatingFile(path, config.maxbytes, config.backups, config.rotate_every, config.compress)


@define(eq=False)
class OutputChannel:
    """Writes one channel's bytes to its file (raw, no line splitting) and syslog."""

    process: str
    name: str
    config: ChannelConfig
    path: str | None
    strip: bool = False
    _file: RotatingFile | None = None
    followers: list[Callable[[bytes], None]] = field(factory=list)
    dropped: int = 0  # bytes lost since the log last could be written
    dropped_total: int = 0

    @classmethod
    def create(
        cls,
        process: str,
        name: str,
        config: ChannelConfig,
        childlogdir: str,
        identifier: str,
        strip: bool,
    ) -> OutputChannel:
        """Make the channel; an AUTO log gets its file name now, as supervisord does."""
        path: str | None
        if config.logfile is LogTarget.AUTO:
            path = auto_log_path(childlogdir, process, name, identifier)
        elif isinstance(config.logfile, LogTarget):
            path = None
        else:
            path = config.logfile
        rotating = log_file(path, config) if path else None
        return cls(process, name, config, path, strip, rotating)

    @classmethod
    def at_path(cls, channel: OutputChannel, path: str) -> OutputChannel:
        """``channel`` writing to an existing ``path`` (a log taken over from before),
        named by its normalised absolute path."""
        path = os.path.normpath(os.path.abspath(path))
        rotating = log_file(path, channel.config)
        return cls(channel.process, channel.name, channel.config, path, channel.strip, rotating)

    def open(self) -> None:
        """Open the log file (at spawn); OSError when it cannot be opened."""
        if self._file is not None:
            self._file.open()

    def write(self, data: bytes) -> bytes:
        """Log ``data``; return it as logged (ANSI stripped when asked)."""
        if self.strip:
            data = strip_ansi(data)
        if self._file is not None:
            self._write_file(self._file, data)
        if self.config.syslog:
            for line in data.decode("utf-8", "replace").splitlines():
                syslog.syslog(f"{self.process} {line}")
        for follower in tuple(self.followers):
            follower(data)
        return data

    def _write_file(self, file: RotatingFile, data: bytes) -> None:
        try:
            file.write(data)
        except OSError as problem:
            if not self.dropped:
                log.error(
                    "{process} {name} log {path}: cannot write ({problem}); the program runs "
                    "on, and its output is counted and dropped until the log can be written",
                    process=self.process,
                    name=self.name,
                    path=self.path,
                    problem=problem.strerror or problem,
                )
            lost = len(data) - getattr(problem, "written", 0)
            self.dropped += lost
            self.dropped_total += lost
            return
        if self.dropped:
            log.warn(
                "{process} {name} log {path}: writing again; {dropped} bytes of output were "
                "dropped while it could not be written",
                process=self.process,
                name=self.name,
                path=self.path,
                dropped=self.dropped,
            )
            self.dropped = 0

    def close(self) -> None:
        """Close the log file (at reap)."""
        if self._file is not None:
            self._file.close()

    def reopen(self) -> None:
        """Reopen after an external rotation."""
        if self._file is not None:
            self._file.reopen()

    def clear(self) -> None:
        """Delete and reopen the log file (backups are kept)."""
        if self._file is not None:
            self._file.clear()
