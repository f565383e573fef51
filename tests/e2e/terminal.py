"""A program on a pseudo-terminal, its screen read through a terminal emulator (pyte)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading
from collections.abc import Callable, Mapping, Sequence

import pyte

from supervise.testing import wait_until


class Terminal:
    """``argv`` running on a pty of ``columns`` x ``lines``; keys in, screen out."""

    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], columns: int = 140, lines: int = 40
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)},
            start_new_session=True,
        )
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.stream.feed(data)

    def lines(self) -> list[str]:
        """The screen as text, one string per line."""
        with self.lock:
            return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def line_with(self, *words: str) -> str:
        """The first line holding every word ("" if none). A single word must be a whole
        one (pid 176 is not found in 17674); several words are looked for as written."""

        def has(line: str, word: str) -> bool:
            return word in line if " " in word else word in line.split()

        return next((line for line in self.lines() if all(has(line, w) for w in words)), "")

    def wait(self, condition: Callable[[Terminal], object], what: str, timeout: float = 60) -> None:
        """Until ``condition(self)`` holds; on failure, show the screen."""
        try:
            wait_until(lambda: condition(self), timeout=timeout, what=what)
        except AssertionError as failure:
            raise AssertionError(f"{failure}; the screen:\n{self.text()}") from None

    def press(self, keys: str | bytes) -> None:
        os.write(self.master, keys.encode() if isinstance(keys, str) else keys)

    def close(self) -> int | None:
        """Quit with ``q``; kill it if it does not go. Its exit status (None if killed)."""
        try:
            if self.process.poll() is None:
                self.press("q")
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None
        finally:
            os.close(self.master)
