"""INotifySockets: sd_notify datagram sockets, one per run, in the abstract namespace."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from attrs import define, field
from twisted.internet import main
from twisted.internet.interfaces import IReadDescriptor
from twisted.python.failure import Failure
from zope.interface import implementer

from supervise.process.interfaces import INotifyChannel, INotifySockets


@implementer(IReadDescriptor, INotifyChannel)
@define(eq=False)
class NotifySocket:
    """A datagram socket for one program's sd_notify messages (``READY=1``, ``STATUS=…``)."""

    reactor: Any
    name: str
    on_message: Callable[[str, str], None]
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
            self.on_message(key, value)
        return None

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        self.close()

    def close(self) -> None:
        """Stop listening."""
        if self.sock.fileno() >= 0:
            self.reactor.removeReader(self)
            self.sock.close()


@implementer(INotifySockets)
class NotifySockets:
    """Opens NotifySockets on the reactor, named after this daemon's pid."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    def open(self, label: str, on_message: Callable[[str, str], None]) -> NotifySocket:
        """A new socket for the run ``label``."""
        return NotifySocket(self.reactor, f"supervise-{os.getpid()}-{label}", on_message)
