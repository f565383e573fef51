"""supervisectl's commands: supervisorctl's, plus ``--json``, wildcards and ``wait``.

Each ``do_<command>`` takes the command's words and returns the exit status: 0 when the
command did what it was asked (a start of a started program included), 1 when any part
failed, 2 for a usage error; ``status`` uses LSB codes (3 if any listed program is not
running, 4 for an unknown name).
"""

from __future__ import annotations

import fnmatch
import json
import sys
import xmlrpc.client
from collections.abc import Callable
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
class Controller:
    """Runs commands against one daemon and prints their results."""

    connection: Connection
    as_json: bool = False
    colour: bool = False
    out: IO[str] = field(factory=lambda: sys.stdout)

    # -- helpers -----------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        return self.connection.call(method, *params)

    def emit(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def emit_json(self, value: Any) -> None:
        self.emit(json.dumps(value, indent=2, sort_keys=True))

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
        padded = f"{state:<10}"
        if self.colour and state in COLOURS:
            return f"\x1b[{COLOURS[state]}m{state}\x1b[0m" + " " * (10 - len(state))
        return padded

    # -- commands ------------------------------------------------------------------------

    def do_status(self, words: list[str]) -> int:
        infos = self.processes()
        shown, unknown = self.resolve(words, infos) if words else (infos, [])
        if self.as_json:
            self.emit_json({"processes": shown, "unknown": unknown})
        else:
            width = max([30, *(len(i["namespec"]) for i in shown)]) + 3
            for info in shown:
                description = info["description"]
                if info.get("spawns", 0) > 1:
                    description += f", restarts {info['spawns'] - 1}"
                if info.get("health_failures"):
                    description += f", health check failing ({info['health_failures']})"
                if info.get("notify_status"):
                    description += f", status: {info['notify_status']}"
                self.emit(
                    f"{info['namespec']:<{width}}{self.state_word(info['statename'])}{description}".rstrip()
                )
            for word in unknown:
                self.emit(f"{word}: ERROR (no such process)")
        if unknown:
            return UNKNOWN_NAME
        return NOT_RUNNING if any(i["statename"] in STOPPED_STATES for i in shown) else OK

    def _each(
        self,
        words: list[str],
        verb: str,
        action: Callable[[dict[str, Any]], None],
        ok_codes: set[int],
    ) -> int:
        if not words:
            raise UsageError(f"{verb} requires a process name")
        matched, unknown = self.resolve(words, self.processes())
        results: list[dict[str, Any]] = []
        for info in matched:
            try:
                action(info)
                results.append({"name": info["namespec"], "ok": True, "error": None})
            except xmlrpc.client.Fault as fault:
                ok = fault.faultCode in ok_codes
                words_ = FAULT_WORDS.get(fault.faultCode, fault.faultString)
                results.append({"name": info["namespec"], "ok": ok, "error": words_})
        results += [{"name": w, "ok": False, "error": "no such process"} for w in unknown]
        if self.as_json:
            self.emit_json(results)
        else:
            for result in results:
                if result["error"] is None:
                    self.emit(f"{result['name']}: {verb}")
                else:
                    self.emit(f"{result['name']}: ERROR ({result['error']})")
        return OK if all(r["ok"] for r in results) else FAILED

    def do_start(self, words: list[str]) -> int:
        return self._each(
            words,
            "started",
            lambda i: self.call("supervisor.startProcess", i["namespec"], True),
            {60},
        )

    def do_stop(self, words: list[str]) -> int:
        return self._each(
            words,
            "stopped",
            lambda i: self.call("supervisor.stopProcess", i["namespec"], True),
            {70},
        )

    def do_restart(self, words: list[str]) -> int:
        if "--rolling" in words:
            return self._rolling([w for w in words if w != "--rolling"])

        def restart(info: dict[str, Any]) -> None:
            try:
                self.call("supervisor.stopProcess", info["namespec"], True)
            except xmlrpc.client.Fault as fault:
                if fault.faultCode != 70:
                    raise
            self.call("supervisor.startProcess", info["namespec"], True)

        return self._each(words, "restarted", restart, set())

    def _rolling(self, words: list[str]) -> int:
        """One process at a time: stop it, start it, wait until RUNNING, then the next."""
        if not words:
            raise UsageError("restart --rolling requires a group or process names")
        matched, unknown = self.resolve(words, self.processes())
        if unknown:
            raise UsageError(f"no such process: {' '.join(unknown)}")
        for info in matched:
            name = info["namespec"]
            try:
                try:
                    self.call("supervisor.stopProcess", name, True)
                except xmlrpc.client.Fault as fault:
                    if fault.faultCode != 70:
                        raise
                self.call("supervisor.startProcess", name, True)
            except xmlrpc.client.Fault as fault:
                self.emit(
                    f"{name}: ERROR ({FAULT_WORDS.get(fault.faultCode, fault.faultString)}); rolling restart halted"
                )
                return FAILED
            self.emit(f"{name}: restarted")
        return OK

    def do_signal(self, words: list[str]) -> int:
        if len(words) < 2:
            raise UsageError("signal requires a signal name and a process name")
        sig, names = words[0], words[1:]
        return self._each(
            names,
            "signalled",
            lambda i: self.call("supervisor.signalProcess", i["namespec"], sig),
            set(),
        )

    def do_clear(self, words: list[str]) -> int:
        return self._each(
            words,
            "cleared",
            lambda i: self.call("supervisor.clearProcessLogs", i["namespec"]),
            set(),
        )

    def do_pid(self, words: list[str]) -> int:
        if not words:
            pid = self.call("supervisor.getPID")
            self.emit_json({"pid": pid}) if self.as_json else self.emit(str(pid))
            return OK
        matched, unknown = self.resolve(words, self.processes())
        pids = {i["namespec"]: i["pid"] for i in matched}
        if self.as_json:
            self.emit_json({"pids": pids, "unknown": unknown})
        else:
            for name, pid in pids.items():
                self.emit(f"{name}: {pid}" if len(pids) > 1 else str(pid))
            for word in unknown:
                self.emit(f"{word}: ERROR (no such process)")
        if unknown:
            return FAILED
        return NOT_RUNNING if any(pid == 0 for pid in pids.values()) else OK

    def do_wait(self, words: list[str]) -> int:
        timeout, state, names = 60, "RUNNING", []
        iterator = iter(words)
        for word in iterator:
            if word == "--timeout":
                timeout = int(next(iterator, "60"))
            elif word == "--state":
                state = next(iterator, "RUNNING").upper()
            else:
                names.append(word)
        matched, unknown = self.resolve(names, self.processes())
        if unknown or not names:
            raise UsageError(f"wait: no such process: {' '.join(unknown) or '(none given)'}")
        missing = self.call(
            "supervise.waitForState", [i["namespec"] for i in matched], state, timeout
        )
        if self.as_json:
            self.emit_json({"state": state, "missing": missing})
        else:
            for name in missing:
                self.emit(f"{name}: ERROR (not {state} after {timeout}s)")
            if not missing:
                self.emit(f"all {state}")
        return OK if not missing else FAILED

    def _tail(self, words: list[str], path: str, read: Callable[[int], str]) -> int:
        follow = "-f" in words
        count = 1600
        for word in words:
            if word.startswith("-") and word[1:].isdigit():
                count = int(word[1:])
        if follow:
            self.emit("==> Press Ctrl-C to exit <==")
            try:
                for chunk in self.connection.stream(path):
                    self.out.write(chunk.decode("utf-8", "replace"))
                    self.out.flush()
            except KeyboardInterrupt:
                self.emit("")
            return OK
        self.out.write(read(count))
        return OK

    def do_tail(self, words: list[str]) -> int:
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
                words, f"/logtail/{name}/{channel}", lambda n: str(self.call(method, name, -n, 0))
            )
        except xmlrpc.client.Fault as fault:
            self.emit(f"{name}: ERROR ({FAULT_WORDS.get(fault.faultCode, fault.faultString)})")
            return FAILED

    def do_maintail(self, words: list[str]) -> int:
        return self._tail(
            words, "/mainlogtail", lambda n: str(self.call("supervisor.readLog", -n, 0))
        )

    def do_avail(self, words: list[str]) -> int:
        infos = self.call("supervisor.getAllConfigInfo")
        if self.as_json:
            self.emit_json(infos)
            return OK
        for info in infos:
            name = (
                info["name"] if info["name"] == info["group"] else f"{info['group']}:{info['name']}"
            )
            used = "in use" if info["inuse"] else "avail"
            auto = "auto" if info["autostart"] else "manual"
            self.emit(f"{name:<32} {used:<9} {auto:<9} {info['group_prio']}:{info['process_prio']}")
        return OK

    def do_reread(self, words: list[str]) -> int:
        try:
            [[added, changed, removed]] = self.call("supervisor.reloadConfig")
        except xmlrpc.client.Fault as fault:
            self.emit(f"ERROR: {fault.faultString}")
            return FAILED
        if self.as_json:
            self.emit_json({"added": added, "changed": changed, "removed": removed})
            return OK
        lines = [f"{g}: available" for g in added] + [f"{g}: changed" for g in changed]
        lines += [f"{g}: disappeared" for g in removed]
        for line in sorted(lines) or ["No config updates to processes"]:
            self.emit(line)
        return OK

    def do_update(self, words: list[str]) -> int:
        try:
            [[added, changed, removed]] = self.call("supervisor.reloadConfig")
        except xmlrpc.client.Fault as fault:
            self.emit(f"ERROR: {fault.faultString}")
            return FAILED
        wanted = set(words) - {"all"}
        status = OK
        for group in sorted(removed + changed):
            if wanted and group not in wanted:
                continue
            self.call("supervisor.stopProcessGroup", group, True)
            self.call("supervisor.removeProcessGroup", group)
            if group in removed:
                self.emit(f"{group}: stopped\n{group}: removed process group")
        for group in sorted(added + changed):
            if wanted and group not in wanted:
                continue
            try:
                self.call("supervisor.addProcessGroup", group)
            except xmlrpc.client.Fault as fault:
                self.emit(f"ERROR: {fault.faultString}")
                status = FAILED
                continue
            self.emit(f"{group}: {'updated' if group in changed else 'added'} process group")
        return status

    def _group_call(self, words: list[str], method: str, done: str) -> int:
        if not words:
            raise UsageError("a group name is required")
        status = OK
        for group in words:
            try:
                self.call(method, group)
                self.emit(f"{group}: {done}")
            except xmlrpc.client.Fault as fault:
                self.emit(f"ERROR: {fault.faultString}")
                status = FAILED
        return status

    def do_add(self, words: list[str]) -> int:
        return self._group_call(words, "supervisor.addProcessGroup", "added process group")

    def do_remove(self, words: list[str]) -> int:
        return self._group_call(words, "supervisor.removeProcessGroup", "removed process group")

    def do_reload(self, words: list[str]) -> int:
        self.call("supervisor.restart")
        self.emit("Restarted supervisord")
        return OK

    def do_shutdown(self, words: list[str]) -> int:
        self.call("supervisor.shutdown")
        self.emit("Shut down")
        return OK

    def do_reexec(self, words: list[str]) -> int:
        """Replace the daemon with a fresh copy of itself; every program keeps running."""
        self.call("supervise.reexec")
        self.emit("Re-executing supervise; programs keep running")
        return OK

    def do_version(self, words: list[str]) -> int:
        version = self.call("supervisor.getSupervisorVersion")
        self.emit_json({"version": version}) if self.as_json else self.emit(version)
        return OK


COMMANDS = sorted(name[3:] for name in dir(Controller) if name.startswith("do_"))
