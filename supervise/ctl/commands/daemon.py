"""The daemon itself: ``reload``, ``shutdown``, ``reexec``, ``version``, ``audit``."""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import datetime

from attrs import define

from supervise import __version__
from supervise.ctl.session import OK, Session


@define(eq=False)
class DaemonCommands:
    """Restart, stop or re-execute the daemon; print its version."""

    session: Session

    def _done(self, method: str, text: str) -> int:
        self.session.call(method)
        if self.session.as_json:
            self.session.emit_json({"ok": True})
        else:
            self.session.emit(text)
        return OK

    def do_reload(self, words: list[str]) -> int:
        """``reload``: read the configuration again and restart every program with it.

        A configuration that does not load is refused: the daemon keeps running the
        old one and the command says why (exit status 1).

        Example: ``supervisectl reload``
        """
        return self._done("supervisor.restart", "Restarted supervisord")

    def do_shutdown(self, words: list[str]) -> int:
        """``shutdown``: stop every program, then the daemon.

        Example: ``supervisectl shutdown``
        """
        return self._done("supervisor.shutdown", "Shut down")

    def do_reexec(self, words: list[str]) -> int:
        """``reexec``: replace the daemon with a fresh copy of itself; every program keeps
        running.

        Example: ``supervisectl reexec``
        """
        return self._done("supervise.reexec", "Re-executing supervise; programs keep running")

    def do_version(self, words: list[str]) -> int:
        """``version``: the daemon's supervise version and the supervisord version and
        XML-RPC API level it answers to clients (``getSupervisorVersion``).

        Example: ``supervisectl version``
        """
        session = self.session
        compatible = str(session.call("supervisor.getSupervisorVersion"))
        api = str(session.call("supervisor.getAPIVersion"))
        try:
            version = str(session.call("supervise.getVersion"))
        except xmlrpc.client.Fault:  # a real supervisord
            version = None
        if session.as_json:
            session.emit_json(
                {"supervise": version, "supervisord": compatible, "api": api, "client": __version__}
            )
        elif version is None:
            session.emit(f"supervisord {compatible} (XML-RPC API {api})")
        else:
            session.emit(f"supervise {version} (supervisord {compatible}, XML-RPC API {api})")
        return OK

    def do_audit(self, words: list[str]) -> int:
        """``audit [-n N]``: the daemon's latest N (100) actions from any door, oldest
        first: who, from where, through which door, what, on which node, and the result.
        With ``--json``, JSON lines: one record (docs/schemas/audit.json) a line.

        Example: ``supervisectl audit -n 20``
        """
        count = 100
        if words[:1] == ["-n"] and len(words) == 2 and words[1].isdigit():
            count = int(words[1])
        elif words:
            self.session.emit("Error: usage: audit [-n N]")
            return 2
        for entry in self.session.call("supervise.getAuditTrail", count):
            if self.session.as_json:
                self.session.emit(json.dumps(entry, separators=(",", ":")))
            else:
                self.session.emit(audit_line(entry))
        return OK


def audit_line(entry: dict[str, object]) -> str:
    """One audit record in words (the main log's wording, with its time)."""
    when = datetime.fromtimestamp(float(str(entry["time"]))).strftime("%Y-%m-%d %H:%M:%S")
    targets = " ".join(str(t) for t in entry["targets"]) or "-"  # type: ignore[attr-defined]
    return (
        f"{when} {entry['node']} {entry['who']} from {entry['where']} via {entry['door']}: "
        f"{entry['action']} {targets}: {entry['result']}"
    )
