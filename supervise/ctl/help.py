"""``supervisectl help [COMMAND]``: each command's usage, what it does and an example,
taken from its ``do_<command>`` docstring, which must read::

    ``usage``: what it does.

    Example: ``supervisectl …``
"""

from __future__ import annotations

import inspect
import re

from attrs import frozen

from supervise.ctl.commands import COMMANDS, FAMILIES

_USAGE = re.compile(r"^``(?P<usage>[^`]+)``:\s*(?P<what>.*)$", re.DOTALL)
_EXAMPLE = re.compile(r"^Example:\s*``(?P<example>[^`]+)``\s*$", re.MULTILINE)


@frozen
class CommandHelp:
    """One command's usage line, description and example."""

    name: str
    usage: str
    what: str
    example: str

    def render(self) -> str:
        """The text ``help COMMAND`` prints."""
        return (
            f"Usage: {self.usage}\n\n{self.what}\n\nExample: {self.example}\n"
            f"With --json: the document docs/schemas/{self.name}.json describes."
        )


def command_help(name: str) -> CommandHelp | None:
    """The help of ``name``, or None for an unknown command or an undocumented one."""
    for family in FAMILIES:
        method = getattr(family, f"do_{name}", None)
        if method is not None:
            return _parse(name, inspect.getdoc(method) or "")
    return None


def _parse(name: str, doc: str) -> CommandHelp | None:
    first, _, rest = doc.partition("\n\n")
    usage = _USAGE.match(first)
    example = _EXAMPLE.search(rest)
    if usage is None or example is None:
        return None
    what = " ".join((usage.group("what") + "\n" + _EXAMPLE.sub("", rest)).split())
    return CommandHelp(name, usage.group("usage"), what, example.group("example"))


def overview() -> str:
    """``help`` alone: every command with its usage."""
    lines = ["commands (help COMMAND for details and an example):"]
    for name in COMMANDS:
        found = command_help(name)
        lines.append(f"  {found.usage if found else name}")
    lines.append("  help [COMMAND]")
    return "\n".join(lines)
