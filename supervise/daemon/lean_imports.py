"""Twisted's import-time weight that a daemon never uses, left unloaded.

Importing Twisted's reactor and Deferred loads, through modules the daemon does not use:

- pyOpenSSL and cryptography (about 12 MiB and 60 ms): the reactor's module imports
  ``twisted.protocols.tls`` and ``twisted.internet.ssl`` for ``listenSSL``/``connectSSL``,
  and ``twisted.internet.tcp`` imports ``_newtls`` for ``startTLS``;
- the standard library's ``ssl``, ``email``, ``http.client`` and ``urllib.request``
  (about 9 MiB): ``twisted.python.compat`` imports ``http.cookiejar`` for a deprecated
  alias;
- ``asyncio`` (about 4 MiB and 30 ms): ``twisted.internet.defer`` imports three names of
  it, two of them for annotations only.

:func:`defer_unused_imports` imports those Twisted modules with the TLS modules and
``http.cookiejar`` made lazy (loaded by their first use: ``listenSSL`` for a
``certfile``, cluster TLS, treq), ``startTLS`` on plain TCP connections left out (nothing
in supervise, treq or txredisapi upgrades a connection), and Deferred's
``asyncio.iscoroutine`` replaced by the same test written out, so that ``asyncio`` loads
only if something imports it. Called by the ``supervise`` command before any Twisted
import; it does nothing if those modules are already loaded (``twistd supervise``, tests).
"""

from __future__ import annotations

import collections.abc
import importlib
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.abc import Loader
from importlib.machinery import ModuleSpec
from typing import Any

LAZY = frozenset(
    {
        "twisted.protocols.tls",
        "twisted.internet.ssl",
        "http.cookiejar",
        "urllib.request",
        "twisted.web.util",
        "ssl",
        "pdb",
    }
)
LEFT_OUT = frozenset({"twisted.internet._newtls"})
ASYNCIO = "asyncio"
ALREADY_LOADED = ("twisted.internet.defer", "twisted.internet.tcp", "twisted.python.compat")

# asyncio.iscoroutine's own test: coroutines, generators before Python 3.12.
_COROUTINE_TYPES: tuple[type, ...] = (types.CoroutineType, collections.abc.Coroutine) + (
    (types.GeneratorType,) if sys.version_info < (3, 12) else ()
)


def iscoroutine(obj: object) -> bool:
    """``asyncio.iscoroutine`` without importing asyncio."""
    return isinstance(obj, _COROUTINE_TYPES)


class _Placeholder:
    """Stands for ``asyncio.AbstractEventLoop``/``Future`` in Deferred's annotations."""


def _asyncio_stand_in() -> types.ModuleType:
    module = types.ModuleType(ASYNCIO, "Deferred's view of asyncio while it is imported.")
    module.iscoroutine = iscoroutine  # type: ignore[attr-defined]
    module.AbstractEventLoop = _Placeholder  # type: ignore[attr-defined]
    module.Future = _Placeholder  # type: ignore[attr-defined]
    return module


# What the import system reads of a module it already has: answered without loading
# it, so that a second ``import ssl`` does not load the module either.
IMPORT_SYSTEM_ATTRIBUTES = frozenset(
    {"__spec__", "__name__", "__loader__", "__package__", "__file__", "__class__", "__dict__"}
)


class LazyModule(types.ModuleType):
    """A module whose code runs on the first use of one of its names."""

    def __getattribute__(self, name: str) -> Any:
        if name in IMPORT_SYSTEM_ATTRIBUTES:
            return super().__getattribute__(name)
        load(self)
        return getattr(self, name)


def load(module: types.ModuleType) -> None:
    """Run a lazy module's code (it becomes a plain module first)."""
    module.__class__ = types.ModuleType
    spec = module.__spec__
    assert spec is not None and isinstance(spec.loader, LazyLoader)
    loader = spec.loader.loader
    spec.loader = module.__loader__ = loader
    loader.exec_module(module)


class LazyLoader(Loader):
    """Creates the module with its own loader; runs its code only on first use."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = LazyModule


class _Finder:
    """Makes LAZY modules lazy and LEFT_OUT ones unimportable, while installed."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: Any = None
    ) -> ModuleSpec | None:
        if name in LEFT_OUT:
            raise ImportError(f"{name} is left out of the daemon", name=name)
        if name not in LAZY:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = LazyLoader(spec.loader)
                return spec
        return None


@contextmanager
def _installed(finder: _Finder) -> Iterator[None]:
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def defer_unused_imports() -> bool:
    """Import the reactor's and Deferred's modules without what they never use here.

    Returns False (and does nothing) if any of them is already imported.
    """
    if any(name in sys.modules for name in (*ALREADY_LOADED, ASYNCIO)):
        return False
    stand_in = _asyncio_stand_in()
    sys.modules[ASYNCIO] = stand_in
    try:
        with _installed(_Finder()):
            for name in sorted(LAZY):
                importlib.import_module(name)  # in sys.modules, not yet run
            import twisted.internet.defer
            import twisted.internet.posixbase
            import twisted.internet.tcp
            import twisted.web.server  # noqa: F401
    finally:
        if sys.modules.get(ASYNCIO) is stand_in:
            del sys.modules[ASYNCIO]
    return True
