"""Reading logs: ``tail`` (a process's stdout or stderr) and ``maintail`` (the daemon's).

``-N`` prints the last N bytes (1600 by default); ``-f`` follows the log until Ctrl-C.
With ``--json`` the text comes as ``{"name", "channel", "text"}``: one document, or one
line of JSON per chunk while following.
"""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Callable

from attrs import define

from supervise.ctl.session import FAILED, FAULT_WORDS, OK, Session, UsageError


@define(eq=False)
class LogCommands:
    """Print the end of a log, or follow it."""

    session: Session

    def _tail(
        self,
        words: list[str],
        path: str,
        read: Callable[[int], str],
        labels: dict[str, str | None],
    ) -> int:
        session = self.session
        follow = "-f" in words
        count = 1600
        for word in words:
            if word.startswith("-") and word[1:].isdigit():
                count = int(word[1:])
        if follow:
            if not session.as_json:
                session.emit("==> Press Ctrl-C to exit <==")
            try:
                for chunk in session.connection.stream(path):
                    text = chunk.decode("utf-8", "replace")
                    if session.as_json:
                        text = json.dumps({**labels, "text": text}, sort_keys=True) + "\n"
                    session.out.write(text)
                    session.out.flush()
            except KeyboardInterrupt:
                if not session.as_json:
                    session.emit("")
            return OK
        text = read(count)
        if session.as_json:
            session.emit_json({**labels, "text": text})
        else:
            session.out.write(text)
        return OK

    def do_tail(self, words: list[str]) -> int:
        """``tail [-f] [-N] NAME [stdout|stderr]``: the last N bytes (1600) of a process's
        log, or follow it (``-f``, across rotations) until Ctrl-C.

        Example: ``supervisectl tail -f -4000 web stderr``
        """
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
                {"name": name, "channel": channel},
            )
        except xmlrpc.client.Fault as fault:
            why = FAULT_WORDS.get(fault.faultCode, fault.faultString)
            self.session.fail(why, fault.faultCode, text=f"{name}: ERROR ({why})")
            return FAILED

    def do_maintail(self, words: list[str]) -> int:
        """``maintail [-f] [-N]``: the last N bytes (1600) of the daemon's main log, or
        follow it (``-f``) until Ctrl-C.

        Example: ``supervisectl maintail -200``
        """
        return self._tail(
            words,
            "/mainlogtail",
            lambda n: str(self.session.call("supervisor.readLog", -n, 0)),
            {"name": None, "channel": "main"},
        )
