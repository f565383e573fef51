"""Reading logs: ``tail`` (a process's stdout or stderr) and ``maintail`` (the daemon's).

``-N`` prints the last N bytes (1600 by default); ``-f`` follows the log until Ctrl-C.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable

from attrs import define

from supervise.ctl.session import FAILED, FAULT_WORDS, OK, Session, UsageError


@define(eq=False)
class LogCommands:
    """Print the end of a log, or follow it."""

    session: Session

    def _tail(self, words: list[str], path: str, read: Callable[[int], str]) -> int:
        session = self.session
        follow = "-f" in words
        count = 1600
        for word in words:
            if word.startswith("-") and word[1:].isdigit():
                count = int(word[1:])
        if follow:
            session.emit("==> Press Ctrl-C to exit <==")
            try:
                for chunk in session.connection.stream(path):
                    session.out.write(chunk.decode("utf-8", "replace"))
                    session.out.flush()
            except KeyboardInterrupt:
                session.emit("")
            return OK
        session.out.write(read(count))
        return OK

    def do_tail(self, words: list[str]) -> int:
        """``tail [-f] [-N] NAME [stdout|stderr]``: the end of a process's log."""
        names = [w for w in words if not w.startswith("-")]
        if not names or len(names) > 2:
            raise UsageError("tail requires a process name and optionally a channel")
        name, channel = names[0], (names[1] if len(names) == 2 else "stdout")
        if channel not in ("stdout", "stderr"):
            raise UsageError(f"bad channel {channel!r}")
        method = (
            "supervisor.readProcessStdoutLog"
            if channel == "stdout"
            else "supervisor.readProcessStderrLog"
        )
        try:
            return self._tail(
                words,
                f"/logtail/{name}/{channel}",
                lambda n: str(self.session.call(method, name, -n, 0)),
            )
        except xmlrpc.client.Fault as fault:
            self.session.emit(
                f"{name}: ERROR ({FAULT_WORDS.get(fault.faultCode, fault.faultString)})"
            )
            return FAILED

    def do_maintail(self, words: list[str]) -> int:
        """``maintail [-f] [-N]``: the end of the daemon's main log."""
        return self._tail(
            words, "/mainlogtail", lambda n: str(self.session.call("supervisor.readLog", -n, 0))
        )
