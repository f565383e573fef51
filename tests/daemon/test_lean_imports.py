"""What the supervise command leaves unloaded stays usable: loaded on first use."""

from __future__ import annotations

import asyncio
import collections.abc
import linecache
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Generator
from typing import Any

import attrs
import pytest

from supervise.daemon.attrs_code import ATTRS_GENERATED, forget_generated_sources
from supervise.daemon.lean_imports import defer_unused_imports, iscoroutine


async def _coroutine() -> None:
    return None


def _generator() -> Generator[int]:
    yield 1


async def _async_generator() -> AsyncIterator[int]:
    yield 1


class _Awaitable(collections.abc.Coroutine):  # type: ignore[type-arg]
    def send(self, value: Any) -> Any:
        raise StopIteration

    def throw(self, *args: Any) -> Any:
        raise StopIteration

    def __await__(self) -> Any:
        return iter(())


def test_deferreds_coroutine_test_is_asyncios() -> None:
    coroutine = _coroutine()
    values = [coroutine, _generator(), _async_generator(), _Awaitable(), 1, None, _coroutine]
    assert [iscoroutine(v) for v in values] == [asyncio.iscoroutine(v) for v in values]
    coroutine.close()


def test_nothing_is_changed_once_twisted_is_loaded() -> None:
    import twisted.internet.defer  # noqa: F401 - loaded in this process already

    assert defer_unused_imports() is False


def test_what_is_left_unloaded_loads_on_first_use() -> None:
    script = """
import sys
from supervise.daemon.lean_imports import defer_unused_imports
assert defer_unused_imports()
for name in ("twisted.spread.pb", "twisted.cred.credentials", "hashlib", "asyncio", "email"):
    assert name not in sys.modules, name
import ssl  # a second import leaves it unloaded
assert type(sys.modules["ssl"]).__name__ == "LazyModule", "ssl"
assert "OpenSSL" not in sys.modules and "asyncio" not in sys.modules
from twisted.internet import reactor
from twisted.internet.interfaces import IReactorSSL
assert IReactorSSL.providedBy(reactor)
assert ssl.PROTOCOL_TLS_CLIENT  # used: loaded
assert type(sys.modules["ssl"]).__name__ == "module"
from twisted.internet.ssl import CertificateOptions
assert "OpenSSL" in sys.modules
import asyncio
assert asyncio.iscoroutine is not None and "asyncio.base_events" in sys.modules
from twisted.web import http, iweb, server
assert http._parseContentType(b"text/plain; charset=utf-8") == b"text/plain"  # loads email
boundary = b"multipart/form-data; boundary=x"
crlf = bytes((13, 10))
form = crlf.join([b"--x", b'Content-Disposition: form-data; name="a"', b"", b"1", b"--x--", b""])
assert http._getMultiPartArgs(form, boundary) == {b"a": [b"1"]}
from twisted.spread import pb  # the real one, when something asks for it
assert pb.__file__ and pb.PBServerFactory and pb.Copyable.__module__.startswith("twisted.spread")
from twisted.cred.credentials import IUsernameDigestHash
assert iweb.IUsernameDigestHash is IUsernameDigestHash  # read: the real interface
import tempfile, http.client, gzip
assert tempfile.gettempdir() and http.client.HTTPConnection and gzip.compress(b"x")
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "ok", run.stderr


def test_attrs_sources_are_forgotten_and_tracebacks_still_name_the_method() -> None:
    @attrs.define
    class Port:
        number: int = attrs.field(converter=int)

    assert any(name.startswith(ATTRS_GENERATED) for name in linecache.cache)
    assert forget_generated_sources() > 0
    assert not any(name.startswith(ATTRS_GENERATED) for name in linecache.cache)
    assert Port("80").number == 80  # the class works as before
    with pytest.raises(ValueError) as raised:
        Port("eighty")
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert any(
        frame.filename.startswith(ATTRS_GENERATED) and frame.name == "__init__" for frame in frames
    )
