"""Process control: ``start``, ``stop``, ``restart`` (``--rolling`` too), ``signal``,
``clear``.

Names are process names, ``group:*``, ``all`` or shell wildcards. Each matched process
gets one line, ``NAME: started`` or ``NAME: ERROR (why)``; ``--json`` prints the list
of ``{name, ok, error}``. Starting a started process, or stopping a stopped one, counts
as done.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from typing import Any

from attrs import define

from supervise.ctl.session import FAILED, FAULT_WORDS, OK, Session, UsageError


@define(eq=False)
class ProcessCommands:
    """Start, stop, restart, signal processes and clear their logs."""

    session: Session

    def _each(
        self,
        words: list[str],
        verb: str,
        action: Callable[[dict[str, Any]], None],
        ok_codes: set[int],
    ) -> int:
        if not words:
            raise UsageError(f"{verb} requires a process name")
        session = self.session
        matched, unknown = session.resolve(words, session.processes())
        results: list[dict[str, Any]] = []
        for info in matched:
            try:
                action(info)
                results.append({"name": info["namespec"], "ok": True, "error": None})
            except xmlrpc.client.Fault as fault:
                ok = fault.faultCode in ok_codes
                words_ = FAULT_WORDS.get(fault.faultCode, fault.faultString)
                if fault.faultCode == 30 and ": " in fault.faultString:
                    words_ = fault.faultString.split(": ", 1)[1]  # FAILED's own reason
                results.append({"name": info["namespec"], "ok": ok, "error": words_})
        results += [{"name": w, "ok": False, "error": "no such process"} for w in unknown]
        if session.as_json:
            session.emit_json(results)
        else:
            for result in results:
                if result["error"] is None:
                    session.emit(f"{result['name']}: {verb}")
                else:
                    session.emit(f"{result['name']}: ERROR ({result['error']})")
        return OK if all(r["ok"] for r in results) else FAILED

    def do_start(self, words: list[str]) -> int:
        """``start NAME…``: start each process and wait until it is running (an already
        started process counts as done).

        Example: ``supervisectl start 'web-*' worker:*``
        """
        return self._each(
            words,
            "started",
            lambda i: self.session.call("supervisor.startProcess", i["namespec"], True),
            {60},
        )

    def do_stop(self, words: list[str]) -> int:
        """``stop NAME…``: stop each process and wait until it has stopped.

        Example: ``supervisectl stop all``
        """
        return self._each(
            words,
            "stopped",
            lambda i: self.session.call("supervisor.stopProcess", i["namespec"], True),
            {70},
        )

    def do_restart(self, words: list[str]) -> int:
        """``restart [--rolling] NAME…``: stop then start each process; ``--rolling`` does
        one at a time, waits until each is RUNNING and halts at the first failure.

        Example: ``supervisectl restart --rolling worker:*``
        """
        if "--rolling" in words:
            return self._rolling([w for w in words if w != "--rolling"])

        def restart(info: dict[str, Any]) -> None:
            try:
                self.session.call("supervisor.stopProcess", info["namespec"], True)
            except xmlrpc.client.Fault as fault:
                if fault.faultCode != 70:
                    raise
            self.session.call("supervisor.startProcess", info["namespec"], True)

        return self._each(words, "restarted", restart, set())

    def _rolling(self, words: list[str]) -> int:
        """One process at a time: stop it, start it, wait until RUNNING, then the next."""
        if not words:
            raise UsageError("restart --rolling requires a group or process names")
        session = self.session
        matched, unknown = session.resolve(words, session.processes())
        if unknown:
            raise UsageError(f"no such process: {' '.join(unknown)}")
        results: list[dict[str, Any]] = []
        for info in matched:
            name = info["namespec"]
            try:
                try:
                    session.call("supervisor.stopProcess", name, True)
                except xmlrpc.client.Fault as fault:
                    if fault.faultCode != 70:
                        raise
                session.call("supervisor.startProcess", name, True)
            except xmlrpc.client.Fault as fault:
                why = FAULT_WORDS.get(fault.faultCode, fault.faultString)
                results.append({"name": name, "ok": False, "error": why})
                if not session.as_json:
                    session.emit(f"{name}: ERROR ({why}); rolling restart halted")
                break
            results.append({"name": name, "ok": True, "error": None})
            if not session.as_json:
                session.emit(f"{name}: restarted")
        if session.as_json:
            session.emit_json(results)
        return OK if all(r["ok"] for r in results) else FAILED

    def do_signal(self, words: list[str]) -> int:
        """``signal SIGNAL NAME…``: send SIGNAL (a name or number) to each process.

        Example: ``supervisectl signal HUP web``
        """
        if len(words) < 2:
            raise UsageError("signal requires a signal name and a process name")
        sig, names = words[0], words[1:]
        return self._each(
            names,
            "signalled",
            lambda i: self.session.call("supervisor.signalProcess", i["namespec"], sig),
            set(),
        )

    def do_clear(self, words: list[str]) -> int:
        """``clear NAME…``: empty each process's log files.

        Example: ``supervisectl clear web``
        """
        return self._each(
            words,
            "cleared",
            lambda i: self.session.call("supervisor.clearProcessLogs", i["namespec"]),
            set(),
        )
