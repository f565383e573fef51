"""Twisted's import-time weight that a daemon never uses, left unloaded.

Importing Twisted's reactor and Deferred loads, through modules the daemon does not use:

- pyOpenSSL and cryptography (about 12 MiB and 60 ms): the reactor's module imports
  ``twisted.protocols.tls`` and ``twisted.internet.ssl`` for
  ``listenSSL``/``connectSSL``, and ``twisted.internet.tcp`` imports ``_newtls`` for
  ``startTLS``;
- the standard library's ``ssl``, ``email``, ``http.client`` and ``urllib.request``
  (about 9 MiB): ``twisted.python.compat`` imports ``http.cookiejar`` for a deprecated
  alias;
- ``asyncio`` (about 4 MiB and 30 ms): ``twisted.internet.defer`` imports three names of
  it, two of them for annotations only;
- Perspective Broker, ``twisted.cred`` and OpenSSL's ``libcrypto`` through ``hashlib``
  (about 4 MiB and 15 ms): ``twisted.web.server`` imports two class names of
  ``twisted.spread.pb``, for remote views of a request that nothing here makes, and
  ``twisted.web.iweb`` re-exports one interface of ``twisted.cred.credentials``;
- ``email`` (13 modules, 0.4 MiB of code): ``twisted.web.http`` imports three of its
  names for parsing form uploads and Content-Type headers of form posts, which no route
  here takes (``parsePOSTFormSubmission=False``);
- ``http.client``, ``gzip``, ``calendar``, ``getpass``, ``pty`` and ``tempfile``,
  imported at the top of modules that use them only in functions the daemon does not
  call on a plain config.

:func:`defer_unused_imports` imports those Twisted modules with the TLS modules and
``http.cookiejar`` made lazy (loaded by their first use: ``listenSSL`` for a
``certfile``, cluster TLS, treq), ``startTLS`` on plain TCP connections left out
(nothing in supervise, treq or txredisapi upgrades a connection), and Deferred's
``asyncio.iscoroutine`` replaced by the same test written out, so that ``asyncio`` loads
only if something imports it; the Perspective Broker names Twisted's web server
subclasses are stand-ins while it is imported (the real module loads if anything imports
it later), ``twisted.web.iweb.IUsernameDigestHash`` is the real interface, loaded when
first read, and the web server's ``email`` names load ``email`` when first called.
Called by the ``supervise`` command before any Twisted import; it does nothing if those
modules are already loaded (``twistd supervise``, tests).
"""

from __future__ import annotations

import collections.abc
import importlib
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        "http.client",
        "gzip",
        "calendar",
        "getpass",
        "pty",
        "tempfile",
    }
)
LEFT_OUT = frozenset({"twisted.internet._newtls"})
ASYNCIO = "asyncio"
PERSPECTIVE_BROKER = "twisted.spread.pb"
CREDENTIALS = "twisted.cred.credentials"
EMAIL, EMAIL_MESSAGE = "email", "email.message"
RE_EXPORTED = "IUsernameDigestHash"  # twisted.web.iweb's name from CREDENTIALS
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


class Copyable:
    """Stands for ``twisted.spread.pb.Copyable``, a base of ``twisted.web.server.Request``
    (for sending a request to a Perspective Broker peer, which nothing here does)."""


class ViewPoint:
    """Stands for ``twisted.spread.pb.ViewPoint`` (used only by that sending)."""


def _perspective_broker_stand_in() -> types.ModuleType:
    module = types.ModuleType(PERSPECTIVE_BROKER, "The web server's view of pb while imported.")
    module.Copyable = Copyable  # type: ignore[attr-defined]
    module.ViewPoint = ViewPoint  # type: ignore[attr-defined]
    return module


class _NotYetImported:
    """Stands for ``IUsernameDigestHash`` while ``twisted.web.iweb`` is imported."""


def _credentials_stand_in() -> types.ModuleType:
    module = types.ModuleType(CREDENTIALS, "twisted.web.iweb's view of cred while imported.")
    setattr(module, RE_EXPORTED, _NotYetImported)
    return module


def message_from_bytes(data: bytes, *args: Any, **kwargs: Any) -> Any:
    """``email.message_from_bytes``, loading ``email`` on the first call."""
    return importlib.import_module(EMAIL).message_from_bytes(data, *args, **kwargs)


def email_message(*args: Any, **kwargs: Any) -> Any:
    """A new ``email.message.EmailMessage``, loading ``email`` on the first call."""
    return importlib.import_module(EMAIL_MESSAGE).EmailMessage(*args, **kwargs)


class _MessageAnnotation:
    """Stands for ``email.message.Message`` in an annotation of the web server's."""


def _email_stand_ins() -> tuple[types.ModuleType, types.ModuleType]:
    email = types.ModuleType(EMAIL, "twisted.web.http's view of email while imported.")
    message = types.ModuleType(EMAIL_MESSAGE, "twisted.web.http's view of email.message.")
    email.message_from_bytes = message_from_bytes  # type: ignore[attr-defined]
    email.message = message  # type: ignore[attr-defined]
    message.EmailMessage = email_message  # type: ignore[attr-defined]
    message.Message = _MessageAnnotation  # type: ignore[attr-defined]
    return email, message


def _re_export_on_first_read() -> None:
    """``twisted.web.iweb.IUsernameDigestHash``: the real one, imported when first read."""
    iweb = sys.modules.get("twisted.web.iweb")
    if iweb is None or iweb.__dict__.get(RE_EXPORTED) is not _NotYetImported:
        return
    del iweb.__dict__[RE_EXPORTED]

    def module_getattr(name: str) -> Any:
        if name != RE_EXPORTED:
            raise AttributeError(f"module 'twisted.web.iweb' has no attribute {name!r}")
        value = getattr(importlib.import_module(CREDENTIALS), RE_EXPORTED)
        setattr(iweb, RE_EXPORTED, value)
        return value

    iweb.__getattr__ = module_getattr  # type: ignore[method-assign]


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


class LazyLoader:
    """Creates the module with its own loader; runs its code only on first use.

    (A loader by its two methods: ``importlib.abc.Loader`` would import
    ``importlib.resources`` and ``tempfile``, 15 ms, for a base class.)
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

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
                spec.loader = LazyLoader(spec.loader)  # type: ignore[assignment]
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
    email, message = _email_stand_ins()
    stand_ins = {
        ASYNCIO: _asyncio_stand_in(),
        PERSPECTIVE_BROKER: _perspective_broker_stand_in(),
        CREDENTIALS: _credentials_stand_in(),
        EMAIL: email,
        EMAIL_MESSAGE: message,
    }
    if any(name in sys.modules for name in (*ALREADY_LOADED, *stand_ins)):
        return False
    sys.modules.update(stand_ins)
    try:
        with _installed(_Finder()):
            for name in sorted(LAZY):
                importlib.import_module(name)  # in sys.modules, not yet run
            import twisted.internet.defer
            import twisted.internet.posixbase
            import twisted.internet.tcp
            import twisted.web.server  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        _re_export_on_first_read()
    return True
