"""Readiness and health probes: ``tcp:HOST:PORT``, ``http(s)://…``, ``command:CMD``, ``notify``.

A probe answers one question — is the program ready (healthy) now? — with a Deferred that
fires True or False within a timeout. ``wait_ready`` retries a probe every interval until
it says yes or the deadline passes; ``notify`` needs no retries: the program itself says
``READY=1`` on the ``NOTIFY_SOCKET`` supervise gives it (systemd's sd_notify protocol).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from attrs import define, field
from twisted.internet import main
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.interfaces import IReadDescriptor
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.internet.utils import getProcessValue
from twisted.python.failure import Failure
from zope.interface import implementer


class NotReady(Exception):
    """The program did not become ready in time."""


def probe(
    spec: str, reactor: Any, timeout: float, env: dict[str, str] | None = None
) -> Deferred[bool]:
    """Run one probe of ``spec``; fire True if it passed, False otherwise (never fails)."""
    if spec.startswith("tcp:"):
        # Imported here: endpoints pulls in TLS (pyOpenSSL), megabytes few daemons need.
        from twisted.internet.endpoints import HostnameEndpoint, connectProtocol

        host, _, port = spec[len("tcp:") :].rpartition(":")
        attempt: Deferred[Any] = connectProtocol(
            HostnameEndpoint(reactor, host, int(port), timeout=timeout), Protocol()
        )
        attempt.addCallback(lambda proto: proto.transport.loseConnection() or True)
    elif spec.startswith(("http://", "https://")):
        import treq

        attempt = ensureDeferred(_http(treq, spec, reactor, timeout))
    elif spec.startswith("command:"):
        attempt = getProcessValue(
            "/bin/sh", ["-c", spec[len("command:") :]], env=env or dict(os.environ), reactor=reactor
        )
        attempt.addCallback(lambda code: code == 0)
    else:
        return succeed(False)
    attempt.addTimeout(timeout, reactor)
    return attempt.addErrback(lambda _: False)


async def _http(treq: Any, url: str, reactor: Any, timeout: float) -> bool:
    response = await treq.get(url, timeout=timeout, reactor=reactor)
    await treq.content(response)
    return bool(200 <= response.code < 300)


async def wait_ready(
    spec: str, reactor: Any, timeout: float, interval: float, env: dict[str, str] | None = None
) -> None:
    """Retry ``spec`` every ``interval`` s until it passes; NotReady after ``timeout`` s."""
    deadline = reactor.seconds() + timeout
    while True:
        remaining = deadline - reactor.seconds()
        if remaining <= 0:
            raise NotReady(f"not ready after {timeout:g}s ({spec})")
        if await probe(spec, reactor, min(remaining, max(interval, 1.0)), env):
            return
        await deferLater(
            reactor, min(interval, max(0.0, deadline - reactor.seconds())), lambda: None
        )


@implementer(IReadDescriptor)
@define(eq=False)
class NotifySocket:
    """A datagram socket for one program's sd_notify messages (``READY=1``, ``STATUS=…``).

    Bound in the abstract namespace; the program finds it in ``NOTIFY_SOCKET``.
    """

    reactor: Any
    name: str
    on_ready: Callable[[], None]
    on_watchdog: Callable[[], None] = lambda: None
    status: str = ""
    main_pid: int | None = None
    sock: socket.socket = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.sock.setblocking(False)
        self.reactor.addReader(self)

    @property
    def address(self) -> str:
        """The ``NOTIFY_SOCKET`` value (``@`` marks the abstract namespace)."""
        return "@" + self.name

    def fileno(self) -> int:
        return self.sock.fileno()

    def logPrefix(self) -> str:  # noqa: N802 - Twisted's name
        return "notify"

    def doRead(self) -> Failure | None:  # noqa: N802 - Twisted's name
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return None
        except OSError:
            return main.CONNECTION_LOST  # type: ignore[return-value]  # the reactor takes an exception here
        for line in data.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key == "READY" and value == "1":
                self.on_ready()
            elif key == "WATCHDOG" and value == "1":
                self.on_watchdog()
            elif key == "STATUS":
                self.status = value
            elif key == "MAINPID" and value.isdigit():
                self.main_pid = int(value)
        return None

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        self.close()

    def close(self) -> None:
        """Stop listening."""
        if self.sock.fileno() >= 0:
            self.reactor.removeReader(self)
            self.sock.close()


__all__ = ["NotReady", "NotifySocket", "probe", "wait_ready"]
