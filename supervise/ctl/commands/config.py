"""The configuration read again and applied: ``reread``, ``update``, ``add``, ``remove``.

As supervisorctl: ``reread`` only reports which groups are available, changed or
disappeared; ``update [GROUP…]`` stops and removes the changed and removed ones, then
adds the changed and added ones; ``add``/``remove`` act on one group at a time.
"""

from __future__ import annotations

import xmlrpc.client

from attrs import define

from supervise.ctl.session import FAILED, OK, Session, UsageError


@define(eq=False)
class ConfigCommands:
    """Read the configuration again and add, change or remove process groups."""

    session: Session

    def do_reread(self, words: list[str]) -> int:
        """``reread``: which groups the configuration files add, change or drop."""
        session = self.session
        try:
            [[added, changed, removed]] = session.call("supervisor.reloadConfig")
        except xmlrpc.client.Fault as fault:
            session.emit(f"ERROR: {fault.faultString}")
            return FAILED
        if session.as_json:
            session.emit_json({"added": added, "changed": changed, "removed": removed})
            return OK
        lines = [f"{g}: available" for g in added] + [f"{g}: changed" for g in changed]
        lines += [f"{g}: disappeared" for g in removed]
        for line in sorted(lines) or ["No config updates to processes"]:
            session.emit(line)
        return OK

    def do_update(self, words: list[str]) -> int:
        """``update [all | GROUP…]``: apply what ``reread`` reports (to these groups)."""
        session = self.session
        try:
            [[added, changed, removed]] = session.call("supervisor.reloadConfig")
        except xmlrpc.client.Fault as fault:
            session.emit(f"ERROR: {fault.faultString}")
            return FAILED
        wanted = set(words) - {"all"}
        status = OK
        for group in sorted(removed + changed):
            if wanted and group not in wanted:
                continue
            session.call("supervisor.stopProcessGroup", group, True)
            session.call("supervisor.removeProcessGroup", group)
            if group in removed:
                session.emit(f"{group}: stopped\n{group}: removed process group")
        for group in sorted(added + changed):
            if wanted and group not in wanted:
                continue
            try:
                session.call("supervisor.addProcessGroup", group)
            except xmlrpc.client.Fault as fault:
                session.emit(f"ERROR: {fault.faultString}")
                status = FAILED
                continue
            session.emit(f"{group}: {'updated' if group in changed else 'added'} process group")
        return status

    def _group_call(self, words: list[str], method: str, done: str) -> int:
        if not words:
            raise UsageError("a group name is required")
        status = OK
        for group in words:
            try:
                self.session.call(method, group)
                self.session.emit(f"{group}: {done}")
            except xmlrpc.client.Fault as fault:
                self.session.emit(f"ERROR: {fault.faultString}")
                status = FAILED
        return status

    def do_add(self, words: list[str]) -> int:
        """``add GROUP…``: add each group from the configuration."""
        return self._group_call(words, "supervisor.addProcessGroup", "added process group")

    def do_remove(self, words: list[str]) -> int:
        """``remove GROUP…``: remove each group whose processes are all stopped."""
        return self._group_call(words, "supervisor.removeProcessGroup", "removed process group")
