"""What operators chose at run time, kept across reloads and re-execs: disabled
processes and scaled process counts (written to the state file and the handoff)."""

from __future__ import annotations

from typing import Any

from attrs import define, evolve, field, frozen
from twisted.logger import Logger

from supervise.config.model import GroupConfig

log = Logger(namespace="supervise.supervisor")

#: The most processes one program may be scaled to.
MAX_PROCESSES = 1000


@frozen
class ScaledCount:
    """A program scaled to ``count`` processes while its file said ``declared``."""

    declared: int
    count: int


@define(eq=False)
class RuntimeChoices:
    """Disabled namespecs and scaled groups.

    A scaled count lasts while the file's ``numprocs`` stays what it was when the
    program was scaled: an edit of ``numprocs`` (then ``update`` or a reload) wins.
    """

    disabled: set[str] = field(factory=set)
    scaled: dict[str, ScaledCount] = field(factory=dict)

    def as_json(self) -> dict[str, Any]:
        """For the state file."""
        return {
            "disabled": sorted(self.disabled),
            "scaled": {n: [s.declared, s.count] for n, s in sorted(self.scaled.items())},
        }

    @classmethod
    def from_json(cls, data: object) -> RuntimeChoices:
        """From the state file; anything malformed is left out."""
        choices = cls()
        if not isinstance(data, dict):
            return choices
        disabled = data.get("disabled")
        if isinstance(disabled, list):
            choices.disabled = {name for name in disabled if isinstance(name, str)}
        scaled = data.get("scaled")
        if isinstance(scaled, dict):
            for name, pair in scaled.items():
                if (
                    isinstance(name, str)
                    and isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(n, int) and 0 <= n <= MAX_PROCESSES for n in pair)
                ):
                    choices.scaled[name] = ScaledCount(pair[0], pair[1])
        return choices

    def record_scale(self, declared: GroupConfig, count: int) -> None:
        """Remember that ``declared``'s program now runs ``count`` processes."""
        if count == len(declared.processes):
            self.scaled.pop(declared.name, None)
        else:
            self.scaled[declared.name] = ScaledCount(len(declared.processes), count)

    def applied(self, declared: GroupConfig) -> GroupConfig:
        """The group as it should run: ``declared`` with its scaled count, if any."""
        scaled = self.scaled.get(declared.name)
        if scaled is None:
            return declared
        if scaled.declared != len(declared.processes) or declared.expand is None:
            log.info(
                "{group}: numprocs changed in the configuration ({before} to {after}); "
                "its number applies, not the {count} it was scaled to",
                group=declared.name,
                before=scaled.declared,
                after=len(declared.processes),
                count=scaled.count,
            )
            del self.scaled[declared.name]
            return declared
        try:
            processes = declared.expand(scaled.count)
        except ValueError as problem:
            log.warn(
                "{group}: cannot scale to {count} again ({problem}); running the configured number",
                group=declared.name,
                count=scaled.count,
                problem=str(problem),
            )
            del self.scaled[declared.name]
            return declared
        return evolve(declared, processes=processes)
