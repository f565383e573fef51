"""Looking at processes: ``status``, ``pid``, ``wait``, ``avail``.

``status`` exits with LSB codes: 0 when every listed process runs (or is disabled, or
scheduled and between runs), 3 when any is stopped, exited, fatal or unknown, 4 for a
name that matches nothing.
"""

from __future__ import annotations

import time
from typing import Any

from attrs import define

from supervise.ctl.session import (
    FAILED,
    NOT_RUNNING,
    OK,
    STOPPED_STATES,
    UNKNOWN_NAME,
    Session,
    UsageError,
)


def choice_words(info: dict[str, Any]) -> str:
    """What ``status`` adds for scaling and schedules (``disabled`` is in the
    description already)."""
    words = ""
    count, declared = info.get("numprocs", 0), info.get("numprocs_declared", 0)
    if count != declared:
        words += f", scaled to {count} from {declared}"
    if info.get("next_run"):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["next_run"]))
        words += f", next run {when}"
    return words


def not_running(info: dict[str, Any]) -> bool:
    """Stopped, exited, fatal or unknown when it should run: a disabled process and a
    scheduled one between its runs are where they should be."""
    if info.get("disabled") or (info.get("next_run") and info["statename"] != "FATAL"):
        return False
    return info["statename"] in STOPPED_STATES


@define(eq=False)
class StatusCommands:
    """Show processes' states, pids and configurations; wait for a state."""

    session: Session

    def do_status(self, words: list[str]) -> int:
        """``status [NAME…]``: one line per process: name, state, pid, uptime, restarts,
        a failing health check and the last sd_notify ``STATUS=``. Exit status 0 when all
        run, 3 when one is stopped, exited or fatal, 4 for a name that matches nothing.

        Example: ``supervisectl status 'web-*'``
        """
        session = self.session
        infos = session.processes()
        shown, unknown = session.resolve(words, infos) if words else (infos, [])
        if session.as_json:
            session.emit_json({"processes": shown, "unknown": unknown})
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
                description += choice_words(info)
                session.emit(
                    f"{info['namespec']:<{width}}{session.state_word(info['statename'])}{description}".rstrip()
                )
            for word in unknown:
                session.emit(f"{word}: ERROR (no such process)")
        if unknown:
            return UNKNOWN_NAME
        return NOT_RUNNING if any(not_running(i) for i in shown) else OK

    def do_pid(self, words: list[str]) -> int:
        """``pid [NAME…]``: the daemon's pid, or each process's (0 when not running).

        Example: ``supervisectl pid web``
        """
        session = self.session
        if not words:
            pid = session.call("supervisor.getPID")
            session.emit_json({"pid": pid}) if session.as_json else session.emit(str(pid))
            return OK
        matched, unknown = session.resolve(words, session.processes())
        pids = {i["namespec"]: i["pid"] for i in matched}
        if session.as_json:
            session.emit_json({"pids": pids, "unknown": unknown})
        else:
            for name, pid in pids.items():
                session.emit(f"{name}: {pid}" if len(pids) > 1 else str(pid))
            for word in unknown:
                session.emit(f"{word}: ERROR (no such process)")
        if unknown:
            return FAILED
        return NOT_RUNNING if any(pid == 0 for pid in pids.values()) else OK

    def do_wait(self, words: list[str]) -> int:
        """``wait [--state STATE] [--timeout SECONDS] NAME…``: block until each process is
        in STATE (RUNNING by default); exit status 1 naming the late ones after the timeout.

        Example: ``supervisectl wait --timeout 30 web``
        """
        session = self.session
        timeout, state, names = 60, "RUNNING", []
        iterator = iter(words)
        for word in iterator:
            if word == "--timeout":
                timeout = int(next(iterator, "60"))
            elif word == "--state":
                state = next(iterator, "RUNNING").upper()
            else:
                names.append(word)
        matched, unknown = session.resolve(names, session.processes())
        if unknown or not names:
            raise UsageError(f"wait: no such process: {' '.join(unknown) or '(none given)'}")
        missing = session.call(
            "supervise.waitForState", [i["namespec"] for i in matched], state, timeout
        )
        if session.as_json:
            session.emit_json({"state": state, "missing": missing})
        else:
            for name in missing:
                session.emit(f"{name}: ERROR (not {state} after {timeout}s)")
            if not missing:
                session.emit(f"all {state}")
        return OK if not missing else FAILED

    def do_avail(self, words: list[str]) -> int:
        """``avail``: every configured process, in use or not, auto or manual, and its
        group and process priorities.

        Example: ``supervisectl avail``
        """
        session = self.session
        infos = session.call("supervisor.getAllConfigInfo")
        if session.as_json:
            session.emit_json(infos)
            return OK
        for info in infos:
            name = (
                info["name"] if info["name"] == info["group"] else f"{info['group']}:{info['name']}"
            )
            used = "in use" if info["inuse"] else "avail"
            auto = "auto" if info["autostart"] else "manual"
            session.emit(
                f"{name:<32} {used:<9} {auto:<9} {info['group_prio']}:{info['process_prio']}"
            )
        return OK
