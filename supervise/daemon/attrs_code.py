"""The methods attrs writes for each class, compiled once and kept like bytecode.

attrs writes each class's ``__init__``, ``__eq__``, ``__repr__``… as Python source and
compiles it when the class is defined: for the daemon's 160-odd classes that is about 55
ms of every start (a fifth of its imports). The ``supervise`` command keeps the compiled
code in the package's ``__pycache__`` (``attrs-code.<python>.marshal``, beside
the modules' own ``.pyc`` files, with the same trust), keyed by the exact source and
file name attrs gives it: a class whose source changed simply misses and is compiled as
before. The one part of a source that changes at every start, the salt of a frozen
class's ``__hash__`` (``hash()`` of a name, randomised per process), is left out of the
key and put back into the kept code as this process's. Nothing is written when bytecode
is not (``PYTHONDONTWRITEBYTECODE``) or the folder is read-only; an unreadable or
foreign file is ignored.

``install()`` before the daemon's modules are imported, ``finish()`` once its service is
built: it saves what was compiled and puts attrs back as it was.
``forget_generated_sources()`` then drops the source text attrs keeps in ``linecache``. Without the attrs
function this hooks (another attrs version), both do nothing.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
from collections.abc import Callable, Mapping
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType
from typing import Any

from attr import _make

_HOOKED = "_compile_and_eval"  # attr._make's compile(script) + eval, attrs 22.2 to 26.x
#: The salt line of attrs' ``__hash__``: ``return hash((`` then the salt on its own line.
_HASH_SALT = re.compile(r"hash\(\(\n[ \t]*(-?\d+),\n")
#: What stands for the salt in a key.
_SALT = "SALT"


class CodeCache:
    """Compiled attrs methods by (file name, source); what this run used is saved."""

    def __init__(self, path: Path, original: Callable[..., None]) -> None:
        self.path = path
        self.original = original
        self.kept = _read(path)
        self.used: dict[str, tuple[CodeType, int]] = {}
        self.compiled = 0

    def compile_and_eval(
        self,
        script: str,
        globs: dict[str, Any] | None,
        locs: Mapping[str, object] | None = None,
        filename: str = "",
    ) -> None:
        """attrs' ``_compile_and_eval``, compiling only what the cache lacks."""
        key, salt = _key(filename, script)
        found = self.kept.get(key)
        if found is None:
            code = compile(script, filename, "exec")
            self.compiled += 1
        else:
            code = found[0] if found[1] == salt else _with_constant(found[0], found[1], salt)
        self.used[key] = (code, salt)
        eval(code, globs, locs)

    def save(self) -> None:
        """Write what this run used, if anything was compiled (atomically; errors ignored)."""
        if not self.compiled or sys.dont_write_bytecode:
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(exist_ok=True)
            temporary.write_bytes(MAGIC_NUMBER + marshal.dumps(self.used))
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)


def _key(filename: str, script: str) -> tuple[str, int]:
    """The cache key of a source (its hash salt left out) and that salt (0: none)."""
    salts = _HASH_SALT.findall(script)
    if len(salts) != 1:
        return f"{filename}\0{script}", 0
    found = _HASH_SALT.search(script)
    assert found is not None
    unsalted = script[: found.start(1)] + _SALT + script[found.end(1) :]
    return f"{filename}\0{unsalted}", int(salts[0])


def _with_constant(code: CodeType, old: int, new: int) -> CodeType:
    """``code`` (and the functions' code in it) with the integer constant ``old`` as ``new``."""
    constants = tuple(
        new
        if type(value) is int and value == old
        else _with_constant(value, old, new)
        if isinstance(value, CodeType)
        else value
        for value in code.co_consts
    )
    return code.replace(co_consts=constants)


def _read(path: Path) -> dict[str, tuple[CodeType, int]]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(MAGIC_NUMBER):
        return {}
    try:
        found = marshal.loads(data[len(MAGIC_NUMBER) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        key: (value[0], value[1])
        for key, value in found.items()
        if isinstance(key, str)
        and isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], CodeType)
        and isinstance(value[1], int)
    }


def cache_path() -> Path:
    """The cache file for this Python, in supervise's ``__pycache__`` (any attrs: a code
    object depends only on its source, its file name and the Python that compiled it;
    ``attr.__version__`` would import ``importlib.metadata``)."""
    package = Path(__file__).resolve().parents[1]
    return package / "__pycache__" / f"attrs-code.{sys.implementation.cache_tag}.marshal"


_active: list[CodeCache] = []


def install(path: Path | None = None) -> bool:
    """Compile attrs' methods through the cache from now on; False if it cannot."""
    original = getattr(_make, _HOOKED, None)
    if _active or original is None:
        return False
    cache = CodeCache(path or cache_path(), original)
    setattr(_make, _HOOKED, cache.compile_and_eval)
    _active.append(cache)
    return True


def finish() -> CodeCache | None:
    """Save the cache and give attrs its own function back; the cache, if installed."""
    if not _active:
        return None
    cache = _active.pop()
    setattr(_make, _HOOKED, cache.original)
    cache.save()
    return cache


#: The pseudo file names attrs gives the methods it writes for each class.
ATTRS_GENERATED = "<attrs generated"


def forget_generated_sources() -> int:
    """Drop the source text attrs keeps in ``linecache`` for every method it wrote
    (about 0.5 MiB for the daemon's classes, kept only so that a debugger can show it);
    a traceback through such a method still names it and its line. Returns how many
    entries went."""
    import linecache

    names = [name for name in linecache.cache if name.startswith(ATTRS_GENERATED)]
    for name in names:
        del linecache.cache[name]
    return len(names)
