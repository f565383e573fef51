"""Run-time choices the daemon keeps across reloads and re-execs: ``scale``, ``disable``,
``enable`` (supervise's own XML-RPC methods: supervise.scaleGroup, disableProcess,
enableProcess)."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from attrs import define

from supervise.ctl.session import FAILED, OK, Session, UsageError


@define(eq=False)
class ChoiceCommands:
    """Scale a program; disable and enable processes."""

    session: Session

    def do_scale(self, words: list[str]) -> int:
        """``scale NAME N``: run N processes (0 to 1000) of the program NAME, whose
        process_name has %(process_num): new ones are started, the highest numbers are
        stopped and removed, the others are untouched. Kept across reload and reexec until
        the file's numprocs is edited.

        Example: ``supervisectl scale worker 8``
        """
        if len(words) != 2:
            raise UsageError("scale requires a program name and a number of processes")
        name, count = words
        try:
            number = int(count)
        except ValueError:
            raise UsageError(f"scale: {count!r} is not a number of processes") from None
        session = self.session
        result = session.call("supervise.scaleGroup", name, number)
        if session.as_json:
            session.emit_json(result)
        else:
            session.emit(
                f"{name}: scaled from {result['previous']} to {result['count']} processes"
                f" (configured: {result['declared']})"
            )
        return OK

    def do_disable(self, words: list[str]) -> int:
        """``disable NAME…``: stop each process (a group name: each of its processes) and
        keep it from starting (autostart, start, start all, its schedule, a reload, a
        reexec) until enabled.

        Example: ``supervisectl disable worker:* cleanup``
        """
        return self._each(words, "supervise.disableProcess", "disabled")

    def do_enable(self, words: list[str]) -> int:
        """``enable NAME…``: allow each disabled process to start again (none is started).

        Example: ``supervisectl enable cleanup``
        """
        return self._each(words, "supervise.enableProcess", "enabled")

    def _each(self, words: list[str], method: str, verb: str) -> int:
        if not words:
            raise UsageError(f"{verb[:-1]} requires a process or group name")
        session = self.session
        infos = session.processes()
        results: list[dict[str, Any]] = []
        for word in words:
            matched, unknown = session.resolve([word], infos)
            if unknown and any(i["group"] == word for i in infos):
                names = [f"{word}:*"]
            else:
                names = [i["namespec"] for i in matched] or [word]
            for name in names:
                try:
                    done = session.call(method, name)
                    results += [{"name": n, "ok": True, "error": None} for n in done]
                except xmlrpc.client.Fault as fault:
                    results.append({"name": name, "ok": False, "error": _words(fault)})
        if session.as_json:
            session.emit_json(results)
        else:
            for result in results:
                if result["ok"]:
                    session.emit(f"{result['name']}: {verb}")
                else:
                    session.emit(f"{result['name']}: ERROR ({result['error']})")
        return OK if all(r["ok"] for r in results) else FAILED


def _words(fault: xmlrpc.client.Fault) -> str:
    """The fault's own explanation (``BAD_NAME: x`` reads as ``no such process``)."""
    if fault.faultCode == 10:
        return "no such process"
    return str(fault.faultString).split(": ", 1)[-1]
