"""What every supervisectl command shares: the daemon's connection, the output, the
exit codes and the matching of names (``all``, ``group:*``, shell wildcards).
"""

from __future__ import annotations

import fnmatch
import json
import sys
import xmlrpc.client
from typing import IO, Any

from attrs import define, field

from supervise.ctl.client import Connection

OK, FAILED, USAGE, NOT_RUNNING, UNKNOWN_NAME = 0, 1, 2, 3, 4
STOPPED_STATES = {"STOPPED", "EXITED", "FATAL", "UNKNOWN"}
COLOURS = {
    "RUNNING": "32",
    "STARTING": "33",
    "BACKOFF": "33",
    "STOPPING": "33",
    "FATAL": "31",
    "EXITED": "31",
    "UNKNOWN": "31",
}
FAULT_WORDS = {
    10: "no such process",
    11: "bad signal name",
    20: "no such file",
    21: "file is not executable",
    30: "failed",
    40: "abnormal termination",
    50: "spawn error",
    60: "already started",
    70: "not running",
}


class UsageError(Exception):
    """The command's words are wrong."""


@define(eq=False)
class Session:
    """One daemon's connection and where (and how) results are printed."""

    connection: Connection
    as_json: bool = False
    colour: bool = False
    out: IO[str] = field(factory=lambda: sys.stdout)

    def call(self, method: str, *params: Any) -> Any:
        """Make one XML-RPC call to the daemon."""
        return self.connection.call(method, *params)

    def emit(self, text: str) -> None:
        """Print one line (flushed: output follows the commands as they run)."""
        self.out.write(text + "\n")
        self.out.flush()

    def emit_json(self, value: Any) -> None:
        """Print ``value`` as indented JSON with sorted keys."""
        self.emit(json.dumps(value, indent=2, sort_keys=True))

    def fail(self, message: str, code: int | None = None, text: str | None = None) -> None:
        """Say that a command failed as a whole: ``ERROR: message`` (or ``text``), or
        with ``--json`` the document ``{"error": {"code", "message"}}``
        (docs/schemas/error.json)."""
        if self.as_json:
            self.emit_json({"error": {"code": code, "message": message}})
        else:
            self.emit(f"ERROR: {message}" if text is None else text)

    def processes(self) -> list[dict[str, Any]]:
        """Every process, with ``namespec`` and ``spawns`` when the daemon is supervise."""
        try:
            return list(self.call("supervise.getAllProcessInfo"))
        except xmlrpc.client.Fault:
            infos = list(self.call("supervisor.getAllProcessInfo"))
            for info in infos:
                name, group = info["name"], info["group"]
                info["namespec"] = name if name == group else f"{group}:{name}"
            return infos

    def resolve(
        self, words: list[str], infos: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Match names, ``group:*``, ``all`` and shell wildcards; return (matched, unknown)."""
        matched: list[dict[str, Any]] = []
        unknown: list[str] = []
        for word in words:
            if word == "all":
                found = infos
            elif word.endswith(":*") or word.endswith(":"):
                group = word.rsplit(":", 1)[0]
                found = [i for i in infos if i["group"] == group]
            else:
                found = [
                    i
                    for i in infos
                    if fnmatch.fnmatchcase(i["namespec"], word)
                    or fnmatch.fnmatchcase(i["name"], word)
                ]
            if not found:
                unknown.append(word)
            for info in found:
                if info not in matched:
                    matched.append(info)
        return matched, unknown

    def state_word(self, state: str) -> str:
        """``state`` padded to ten columns, in colour when asked for."""
        padded = f"{state:<10}"
        if self.colour and state in COLOURS:
            return f"\x1b[{COLOURS[state]}m{state}\x1b[0m" + " " * (10 - len(state))
        return padded
