"""A log file that rotates by size with supervisord's ``.1`` … ``.N`` naming, and by
time (``rotate_every``) with optionally gzipped backups (``.1.gz`` … ``.N.gz``).

Why not ``twisted.python.logfile.LogFile``: supervisord's rules differ from it —
``backups=0`` truncates in place, the check happens after each write (so a file
exceeds ``maxbytes`` by up to one write, SUPERVISOR.md §5.3), and non-seekable targets
such as ``/dev/stdout`` must be written to without ever rotating (supervisor #1078).

A time rotation is due at the first write after a boundary (logs/schedule.py) and
happens at a line end: a write that ends an open line finishes it in the old file, so no
line is split; while a line stays open the rotation waits.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from typing import BinaryIO

from attrs import define

from supervise.logs.compress import Runner, compress_pending, in_thread, pending_files, set_aside
from supervise.logs.schedule import UtcOffset, local_offset, next_boundary
from supervise.logs.streams import is_stream


@define(eq=False)
class RotatingFile:
    """Append bytes to ``path``; rotate when it reaches ``maxbytes`` (0 = never) or a
    boundary of ``rotate_every`` seconds passed (0 = never); ``compress`` gzips backups
    on ``runner`` (a thread: the reactor never waits for gzip)."""

    path: str
    maxbytes: int = 0
    backups: int = 0
    rotate_every: int = 0
    compress: bool = False
    clock: Callable[[], float] = time.time
    utc_offset: UtcOffset = local_offset
    runner: Runner = in_thread
    _handle: BinaryIO | None = None
    _size: int = 0
    _seekable: bool = True
    _due: float = 0.0  # the time rotation's next boundary (0: none)
    _line_open: bool = False  # the file does not end with a newline

    @property
    def is_open(self) -> bool:
        """True while the file is open."""
        return self._handle is not None

    def open(self) -> None:
        """Open for appending (no-op when already open)."""
        if self._handle is not None:
            return
        handle = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open on purpose
        self._handle = handle
        self._seekable = handle.seekable() and not is_stream(self.path)
        self._size = handle.tell() if self._seekable else 0
        if self.rotate_every and self._seekable:
            # A file last written in an earlier period rotates at the first write.
            since = os.fstat(handle.fileno()).st_mtime if self._size else self.clock()
            self._due = next_boundary(since, self.rotate_every, self.utc_offset)
            self._line_open = bool(self._size) and _last_byte(self.path) != b"\n"
        if self.compress and self.backups > 0 and self._seekable and pending_files(self.path):
            self.runner(lambda: compress_pending(self.path, self.backups))  # left over

    def write(self, data: bytes) -> None:
        """Append ``data`` now (no buffering), then rotate if the size is reached; a due
        time rotation happens first, at the end of the line ``data`` may finish.

        Raises OSError when not all of it could be written (a full disk), with the count
        that was written in its ``written`` attribute.
        """
        if self._handle is None:
            self.open()
        if self._due and self.clock() >= self._due:
            if self._line_open:
                end = data.find(b"\n") + 1
                if end:
                    self._put(data[:end])
                    data = data[end:]
            if not self._line_open:
                self.rotate()
        self._put(data)
        if self.maxbytes and self._seekable and self._size >= self.maxbytes:
            self.rotate()

    def _put(self, data: bytes) -> None:
        if not data:
            return
        assert self._handle is not None
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                count = self._handle.write(view[done:])
                if not count:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                done += count
        except OSError as problem:
            self._size += done
            self._line_open = done > 0 and data[done - 1 : done] != b"\n"
            problem.written = done  # type: ignore[attr-defined]
            raise
        self._size += len(data)
        self._line_open = not data.endswith(b"\n")

    def rotate(self) -> None:
        """Shift ``.N-1`` → ``.N`` … base → ``.1`` and start a new empty base file
        (compressed: base set aside now, gzipped to ``.1.gz`` on the runner)."""
        if is_stream(self.path):
            return  # never renamed: /dev/stdout and the like
        self.close()
        if self.backups > 0 and self.compress:
            if os.path.exists(self.path):
                set_aside(self.path)
                self.runner(lambda: compress_pending(self.path, self.backups))
        elif self.backups > 0:
            for index in range(self.backups - 1, 0, -1):
                source = f"{self.path}.{index}"
                if os.path.exists(source):
                    os.replace(source, f"{self.path}.{index + 1}")
            if os.path.exists(self.path):
                os.replace(self.path, f"{self.path}.1")
        handle = open(self.path, "wb", buffering=0)  # noqa: SIM115 - kept open on purpose
        self._handle = handle
        self._seekable = handle.seekable()
        self._size = 0
        self._line_open = False
        if self.rotate_every and self._seekable:
            self._due = next_boundary(self.clock(), self.rotate_every, self.utc_offset)

    def reopen(self) -> None:
        """Close and open again (after an external rotation, SIGUSR2)."""
        was_open = self._handle is not None
        self.close()
        if was_open:
            self.open()

    def clear(self) -> None:
        """Delete the file (backups kept) and start an empty one, as supervisord does."""
        if is_stream(self.path):
            return  # /dev/stdout and the like: nothing to clear, never removed
        was_open = self._handle is not None
        self.close()
        if os.path.exists(self.path):
            os.remove(self.path)
        self.open()
        if not was_open:
            self.close()

    def close(self) -> None:
        """Close the file if open."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _last_byte(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1)
    except OSError:
        return b"\n"  # unreadable: take it as ended, never hold a rotation back


def read_slice(path: str, offset: int, length: int) -> bytes:
    """Read a log the way ``readLog``/``readProcessStdoutLog`` do (SUPERVISOR.md §6.3).

    ``offset>=0, length=0``: from offset to the end; ``offset<0, length=0``: the last
    ``-offset`` bytes; ``offset>=0, length>0``: that slice. Raises OSError if unreadable.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if offset < 0:
            start = max(0, size + offset)
            end = size
        else:
            start = min(offset, size)
            end = size if length == 0 else min(size, offset + length)
        handle.seek(start)
        return handle.read(max(0, end - start))


def tail(path: str, offset: int, length: int) -> tuple[bytes, int, bool]:
    """``tailProcessStdoutLog``: ``(data, new_offset, overflow)``, supervisord's arithmetic.

    The data is the last ``length`` bytes when the file grew past ``offset + length``;
    a missing file gives ``(b"", offset, False)``.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            overflow = False
            if size > offset + length:
                overflow = True
                offset = size - 1
            if offset + length > size:
                if offset > size - 1:
                    length = 0
                offset = size - length
            offset = max(offset, 0)
            length = max(length, 0)
            data = b""
            if length:
                handle.seek(offset)
                data = handle.read(length)
            return data, size, overflow
    except OSError:
        return b"", offset, False
