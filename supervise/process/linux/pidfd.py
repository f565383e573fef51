"""A pidfd as a reactor reader: one process's exit, with no polling (Linux >= 5.3)."""

from __future__ import annotations

from collections.abc import Callable

from attrs import define
from twisted.internet.interfaces import IReadDescriptor
from twisted.python.failure import Failure
from zope.interface import implementer


@implementer(IReadDescriptor)
@define(eq=False)
class ExitWatcher:
    """A pidfd registered with the reactor: readable once, when the process exits."""

    pidfd: int
    on_exit: Callable[[], None]

    def fileno(self) -> int:
        return self.pidfd

    def logPrefix(self) -> str:  # noqa: N802 - Twisted's name
        return "pidfd"

    def doRead(self) -> Failure | None:  # noqa: N802 - Twisted's name
        self.on_exit()
        return None

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        pass
