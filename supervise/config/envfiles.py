"""``environment_file``: dotenv files a program's environment is read from at each start.

The syntax is python-dotenv's (``KEY=VALUE``, ``export KEY=VALUE``, single quotes taken
literally, double quotes with backslash escapes, ``#`` comments, blank lines), without
its ``${VAR}`` interpolation: values are taken as written. Layering at spawn: the
daemon's environment (with ``[supervisord] environment``) < the files, in order < the
program's own ``environment =``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

from attrs import frozen


@frozen
class EnvironmentFiles:
    """The files of one program and which keys its own ``environment =`` sets.

    :ivar paths: absolute paths, each with a leading ``-`` when the file is optional.
    :ivar own_keys: the keys of the program's ``environment =`` (they win over files;
        ``[supervisord] environment`` keys the program does not set lose to them).
    """

    paths: tuple[str, ...]
    own_keys: tuple[str, ...] = ()


class EnvironmentFileError(ValueError):
    """A file could not be read or has a malformed line; the text names file and line."""


def parse_paths(text: str) -> tuple[str, ...]:
    """``PATH [PATH …]`` (shell quoting for spaces), each made absolute, ``-`` kept."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a list of paths: {error}") from None
    paths = []
    for word in words:
        optional = word.startswith("-")
        path = word[1:] if optional else word
        if not path:
            raise ValueError(f"{text!r} has a lone '-' without a path")
        if "\0" in path:
            raise ValueError(f"{text!r}: a path holds a NUL character")
        paths.append(("-" if optional else "") + os.path.abspath(path))
    return tuple(paths)


def read_file(path: str) -> dict[str, str]:
    """The variables of one dotenv file; EnvironmentFileError naming ``path:LINE``."""
    from dotenv.parser import parse_stream  # only programs with env files pay for it

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        line = text_line(error.object, error.start)
        raise EnvironmentFileError(f"environment file {path}:{line}: not UTF-8") from None
    except OSError as error:
        raise EnvironmentFileError(f"environment file {path}: {error.strerror or error}") from None
    import io

    found: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        statement = binding.original.string
        body = statement.lstrip("\n")
        line = binding.original.line + len(statement) - len(body)
        where = f"environment file {path}:{line}"
        if binding.error:
            first = body.splitlines()[0] if body else ""
            raise EnvironmentFileError(f"{where}: cannot parse {first!r}")
        if binding.key is None:
            continue  # a comment or a blank line
        if binding.value is None:
            raise EnvironmentFileError(f"{where}: {binding.key!r} has no '=' and no value")
        if "\0" in binding.key or "\0" in binding.value:
            raise EnvironmentFileError(f"{where}: {binding.key!r} holds a NUL character")
        found[binding.key] = binding.value
    return found


def read_files(paths: tuple[str, ...]) -> dict[str, str]:
    """The variables of ``paths`` in order (later files win); a missing optional file
    (``-`` prefix) is skipped."""
    merged: dict[str, str] = {}
    for entry in paths:
        optional = entry.startswith("-")
        path = entry[1:] if optional else entry
        if optional and not os.path.exists(path):
            continue
        merged.update(read_file(path))
    return merged


def layered(environment: Mapping[str, str], files: EnvironmentFiles | None) -> Mapping[str, str]:
    """The program's environment with its files read now: ``environment`` keys that are
    not the program's own < the files < the program's own keys."""
    if files is None:
        return environment
    own = set(files.own_keys)
    result = {k: v for k, v in environment.items() if k not in own}
    result.update(read_files(files.paths))
    result.update({k: v for k, v in environment.items() if k in own})
    return result


def text_line(data: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset`` in ``data``."""
    return data.count(b"\n", 0, offset) + 1
