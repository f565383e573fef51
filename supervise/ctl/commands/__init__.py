"""supervisectl's commands: supervisorctl's, plus ``--json``, wildcards and ``wait``.

One module per family of commands, each a small class over the shared ``Session``:
``processes`` (start, stop, restart, signal, clear), ``status`` (status, pid, wait,
avail), ``logs`` (tail, maintail), ``config`` (reread, update, add, remove), ``daemon``
(reload, shutdown, reexec, version), ``choices`` (scale, disable, enable), ``top`` (the live
view). ``Controller`` finds a command's family.

Each ``do_<command>`` takes the command's words and returns the exit status: 0 when the
command did what it was asked (a start of a started program included), 1 when any part
failed, 2 for a usage error; ``status`` uses LSB codes (3 if any listed program is not
running, 4 for an unknown name).
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from supervise.ctl.commands.choices import ChoiceCommands
from supervise.ctl.commands.config import ConfigCommands
from supervise.ctl.commands.daemon import DaemonCommands
from supervise.ctl.commands.logs import LogCommands
from supervise.ctl.commands.processes import ProcessCommands
from supervise.ctl.commands.status import StatusCommands
from supervise.ctl.commands.top import TopCommands
from supervise.ctl.session import Session

Family = (
    StatusCommands
    | ProcessCommands
    | LogCommands
    | ConfigCommands
    | DaemonCommands
    | ChoiceCommands
    | TopCommands
)
FAMILIES: tuple[type[Family], ...] = (
    StatusCommands,
    ProcessCommands,
    LogCommands,
    ConfigCommands,
    DaemonCommands,
    ChoiceCommands,
    TopCommands,
)
COMMANDS = sorted(name[3:] for family in FAMILIES for name in dir(family) if name.startswith("do_"))


@frozen
class Controller:
    """Runs commands against one daemon and prints their results."""

    session: Session
    families: tuple[Family, ...]

    @classmethod
    def over(cls, session: Session) -> Controller:
        """Every family of commands, sharing ``session``."""
        return cls(session, tuple(family(session) for family in FAMILIES))

    def handler(self, command: str) -> Callable[[list[str]], int] | None:
        """The ``do_<command>`` method of the family that has it, else None."""
        for family in self.families:
            found: Callable[[list[str]], int] | None = getattr(family, f"do_{command}", None)
            if found is not None:
                return found
        return None
