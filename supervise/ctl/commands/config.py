"""The configuration read again and applied: ``reread``, ``update``, ``add``, ``remove``.

As supervisorctl: ``reread`` only reports which groups are available, changed or
disappeared; ``update [GROUP…]`` stops and removes the changed and removed ones, then
adds the changed and added ones; ``add``/``remove`` act on one group at a time.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from attrs import define

from supervise.ctl.session import FAILED, OK, Session, UsageError


@define(eq=False)
class ConfigCommands:
    """Read the configuration again and add, change or remove process groups."""

    session: Session

    def _reread(self) -> tuple[list[str], list[str], list[str]] | None:
        try:
            [[added, changed, removed]] = self.session.call("supervisor.reloadConfig")
        except xmlrpc.client.Fault as fault:
            self.session.fail(fault.faultString, fault.faultCode)
            return None
        return added, changed, removed

    def do_reread(self, words: list[str]) -> int:
        """``reread``: which groups the configuration files add, change or drop (nothing
        is applied; ``update`` does that).

        Example: ``supervisectl reread``
        """
        session = self.session
        found = self._reread()
        if found is None:
            return FAILED
        added, changed, removed = found
        if session.as_json:
            session.emit_json({"added": added, "changed": changed, "removed": removed})
            return OK
        lines = [f"{g}: available" for g in added] + [f"{g}: changed" for g in changed]
        lines += [f"{g}: disappeared" for g in removed]
        for line in sorted(lines) or ["No config updates to processes"]:
            session.emit(line)
        return OK

    def do_update(self, words: list[str]) -> int:
        """``update [all | GROUP…]``: apply what ``reread`` reports (to these groups only):
        stop and remove the changed and removed groups, add the changed and added ones.

        Example: ``supervisectl update web``
        """
        session = self.session
        found = self._reread()
        if found is None:
            return FAILED
        added, changed, removed = found
        wanted = set(words) - {"all"}
        results: list[dict[str, Any]] = []
        for group in sorted(removed + changed):
            if wanted and group not in wanted:
                continue
            session.call("supervisor.stopProcessGroup", group, True)
            session.call("supervisor.removeProcessGroup", group)
            if group in removed:
                results.append({"name": group, "action": "removed", "ok": True, "error": None})
                if not session.as_json:
                    session.emit(f"{group}: stopped\n{group}: removed process group")
        for group in sorted(added + changed):
            if wanted and group not in wanted:
                continue
            action = "updated" if group in changed else "added"
            try:
                session.call("supervisor.addProcessGroup", group)
            except xmlrpc.client.Fault as fault:
                results.append(
                    {"name": group, "action": action, "ok": False, "error": fault.faultString}
                )
                if not session.as_json:
                    session.emit(f"ERROR: {fault.faultString}")
                continue
            results.append({"name": group, "action": action, "ok": True, "error": None})
            if not session.as_json:
                session.emit(f"{group}: {action} process group")
        if session.as_json:
            session.emit_json(results)
        return OK if all(r["ok"] for r in results) else FAILED

    def _group_call(self, words: list[str], method: str, done: str) -> int:
        if not words:
            raise UsageError("a group name is required")
        session = self.session
        results: list[dict[str, Any]] = []
        for group in words:
            try:
                session.call(method, group)
                results.append({"name": group, "ok": True, "error": None})
                if not session.as_json:
                    session.emit(f"{group}: {done}")
            except xmlrpc.client.Fault as fault:
                results.append({"name": group, "ok": False, "error": fault.faultString})
                if not session.as_json:
                    session.emit(f"ERROR: {fault.faultString}")
        if session.as_json:
            session.emit_json(results)
        return OK if all(r["ok"] for r in results) else FAILED

    def do_add(self, words: list[str]) -> int:
        """``add GROUP…``: add each group the configuration files define but the daemon
        does not run yet.

        Example: ``supervisectl add web``
        """
        return self._group_call(words, "supervisor.addProcessGroup", "added process group")

    def do_remove(self, words: list[str]) -> int:
        """``remove GROUP…``: remove each group whose processes are all stopped.

        Example: ``supervisectl remove web``
        """
        return self._group_call(words, "supervisor.removeProcessGroup", "removed process group")
