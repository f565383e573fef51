"""Resolve a program's command line to an executable, as supervisord does before fork.

SUPERVISOR.md §3.7: these checks run in the parent so their errors become ``spawnerr``
texts and startProcess faults (NO_FILE, NOT_EXECUTABLE).
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Mapping

from supervise.errors import SpawnError

DEFAULT_PATH = "/bin:/usr/bin:/usr/local/bin"


def search_path(environment: Mapping[str, str], daemon_environ: Mapping[str, str]) -> list[str]:
    """The PATH a command is looked up in: the program's, else the daemon's, else a default."""
    path = environment.get("PATH") or daemon_environ.get("PATH") or DEFAULT_PATH
    return path.split(os.pathsep)


def resolve(command: str, path: list[str]) -> tuple[str, tuple[str, ...]]:
    """Return ``(filename, argv)`` for ``command`` or raise SpawnError with supervisord's text."""
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise SpawnError(f"can't parse command {command!r}: {error}", "NOT_EXECUTABLE") from None
    if not argv:
        raise SpawnError("command is empty", "NOT_EXECUTABLE")
    program = argv[0]
    filename = program
    st: os.stat_result | None = None
    if "/" in program:
        try:
            st = os.stat(program)
        except OSError:
            st = None
    else:
        for directory in path:
            candidate = os.path.join(directory, program)
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            filename = candidate
            break
    if st is None:
        raise SpawnError(f"can't find command {program!r}", "NO_FILE")
    if stat.S_ISDIR(st.st_mode):
        raise SpawnError(f"command at {filename!r} is a directory", "NOT_EXECUTABLE")
    if not st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        raise SpawnError(f"command at {filename!r} is not executable", "NOT_EXECUTABLE")
    if not os.access(filename, os.X_OK):
        raise SpawnError(f"no permission to run command {filename!r}", "NOT_EXECUTABLE")
    return filename, tuple(argv)
