"""How the daemon restarts itself: the command line of a re-exec, which runs this
daemon again, in the foreground, in this same pid.

Whatever started the daemon (``twistd [-n] supervise …``, ``supervise [-n] …``, each
perhaps as ``python -m``), the copy must not daemonize (a fork would lose the children)
and twistd must not check or write its own pidfile (it would find its own pid there; the
daemon takes that pidfile over itself). The command line is parsed with the front end's
own option table and written back in one canonical form, so re-executing a re-executed
daemon gives the same command line again: nothing is ever added twice.
"""

from __future__ import annotations

import getopt
import os
from collections.abc import Sequence
from functools import cache

from attrs import frozen

from supervise.options import LONG as SUPERVISE_LONG
from supervise.options import SHORT as SUPERVISE_SHORT


@frozen
class OptionTable:
    """One front end's getopt table, and how its command line becomes a foreground one."""

    short: str
    long: tuple[str, ...]
    drop: frozenset[str]  # options removed (with their values)
    add: tuple[str, ...]  # words put first instead
    gnu: bool  # gnu_getopt (options anywhere) or getopt (stop at the first word)

    def takes_value(self, flag: str) -> bool:
        """True if ``-x``/``--name`` takes a value."""
        if flag.startswith("--"):
            return f"{flag[2:]}=" in self.long
        return f"{flag[1]}:" in self.short

    def foreground(self, args: Sequence[str]) -> list[str]:
        """``args`` in canonical form, with ``drop`` removed and ``add`` in front."""
        parse = getopt.gnu_getopt if self.gnu else getopt.getopt
        options, rest = parse(list(args), self.short, list(self.long))
        words = list(self.add)
        for flag, value in options:
            if flag in self.drop:
                continue
            if not self.takes_value(flag):
                words.append(flag)
            elif flag.startswith("--"):
                words.append(f"{flag}={value}")
            else:
                words += [flag, value]
        return words + rest


@cache
def twistd_table() -> OptionTable:
    """twistd's options, read from the twistd that runs (so a new option is known)."""
    from twisted.scripts._twistd_unix import ServerOptions

    options = ServerOptions()
    return OptionTable(
        options.shortOpt,
        tuple(options.longOpt),
        frozenset({"-n", "--nodaemon", "--pidfile"}),
        ("--nodaemon", "--pidfile="),
        gnu=False,
    )


SUPERVISE_TABLE = OptionTable(
    SUPERVISE_SHORT,
    tuple(SUPERVISE_LONG),
    frozenset({"-n", "--nodaemon"}),
    ("-n",),
    gnu=True,
)

TWISTD_NAMES = frozenset({"twistd"})
TWISTD_MODULES = frozenset({"twisted", "twisted.scripts.twistd"})
SUPERVISE_NAMES = frozenset({"supervise"})
SUPERVISE_MODULES = frozenset({"supervise.cli"})


def reexec_argv(
    orig_argv: Sequence[str], executable: str, twistd: OptionTable | None = None
) -> list[str]:
    """The foreground command line for ``orig_argv`` (``sys.orig_argv``), run by
    ``executable``; interpreter options and the script or ``-m`` module are kept.

    Raises ValueError if ``orig_argv`` names neither twistd nor supervise.
    """
    argv = [executable, *orig_argv[1:]]
    for index in range(1, len(argv)):
        word, before = argv[index], argv[index - 1]
        module = before == "-m"
        if (module and word in TWISTD_MODULES) or (
            not module and os.path.basename(word) in TWISTD_NAMES
        ):
            table = twistd or twistd_table()
        elif (module and word in SUPERVISE_MODULES) or (
            not module and os.path.basename(word) in SUPERVISE_NAMES
        ):
            table = SUPERVISE_TABLE
        else:
            continue
        try:
            return [*argv[: index + 1], *table.foreground(argv[index + 1 :])]
        except getopt.GetoptError as problem:
            raise ValueError(f"cannot re-execute {' '.join(orig_argv)}: {problem}") from None
    raise ValueError(f"cannot re-execute {' '.join(orig_argv)}: neither twistd nor supervise")
