"""Namespecs to live groups and processes: the one resolver every control command uses.

supervisord's names are ``name``, ``group:name`` and ``group:*`` (``group:`` too); one
that designates nothing is ``BadName`` with the name as given (SUPERVISOR.md §6.2).
"""

from __future__ import annotations

from attrs import define

from supervise.errors import BadName
from supervise.process.group import ProcessGroup
from supervise.process.program import Program
from supervise.results import Target
from supervise.supervisor import Supervisor

__all__ = ["ProcessLookup", "split_namespec"]


def split_namespec(namespec: str) -> tuple[str, str | None]:
    """``g:p`` → (g, p); ``g:*`` or ``g:`` → (g, None); ``name`` → (name, name)."""
    group, sep, process = namespec.partition(":")
    if not sep:
        return namespec, namespec
    if process in ("*", ""):
        return group, None
    return group, process


@define(eq=False)
class ProcessLookup:
    """The groups and processes of a Supervisor, found by supervisord's names."""

    supervisor: Supervisor

    def resolve(self, name: str) -> Target:
        """What ``name`` designates (BadName with the name as given otherwise)."""
        group_name, process_name = split_namespec(name)
        group = self.supervisor.groups.get(group_name)
        if group is None:
            raise BadName(name)
        if process_name is None:
            return Target(group_name, tuple(p.namespec for p in group.ordered()), True)
        program = group.processes.get(process_name)
        if program is None:
            raise BadName(name)
        return Target(group_name, (program.namespec,))

    def group(self, name: str) -> ProcessGroup:
        """The active group called ``name`` (BadName otherwise)."""
        try:
            return self.supervisor.groups[name]
        except KeyError:
            raise BadName(name) from None

    def program(self, namespec: str) -> Program:
        """The process a namespec names; a group form is BadName."""
        group_name, process_name = split_namespec(namespec)
        group = self.supervisor.groups.get(group_name)
        if group is None or process_name is None or process_name not in group.processes:
            raise BadName(namespec)
        return group.processes[process_name]

    def all_programs(self) -> list[Program]:
        """Every process, group by group in start order."""
        return [p for g in self.supervisor.ordered_groups() for p in g.ordered()]
