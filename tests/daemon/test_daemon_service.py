"""Layer 3: the daemon's top service starts its parts in order, stops them in reverse
one after the other, and undoes a start that fails."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
import pytest_twisted
from twisted.application.service import Service
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from supervise.daemon.daemon import DaemonService
from supervise.daemon.errors import StartupError


class Part(Service):
    def __init__(self, name: str, journal: list[str], delay: float = 0.0, fail: bool = False):
        self.name = name
        self.journal = journal
        self.delay = delay
        self.fail = fail

    def startService(self) -> None:
        if self.fail:
            raise StartupError(f"{self.name} cannot start")
        super().startService()
        self.journal.append(f"start {self.name}")

    def stopService(self) -> Deferred[Any] | None:
        super().stopService()
        self.journal.append(f"stopping {self.name}")
        if not self.delay:
            self.journal.append(f"stopped {self.name}")
            return None
        return deferLater(reactor, self.delay, self.journal.append, f"stopped {self.name}")


def refuse(problem: StartupError) -> NoReturn:
    raise SystemExit(str(problem))


@pytest_twisted.ensureDeferred
async def test_parts_stop_in_reverse_each_after_the_last() -> None:
    """A slow part (the programs) has stopped before the one started before it (the HTTP
    servers) is asked to stop."""
    journal: list[str] = []
    top = DaemonService(refuse)
    for name, delay in (("servers", 0.0), ("programs", 0.05), ("signals", 0.0)):
        Part(name, journal, delay).setServiceParent(top)
    top.startService()
    await top.stopService()
    assert journal == [
        "start servers", "start programs", "start signals",
        "stopping signals", "stopped signals",
        "stopping programs", "stopped programs",
        "stopping servers", "stopped servers",
    ]  # fmt: skip


def test_a_failed_start_undoes_what_started_and_reports() -> None:
    """The parts started before the failing one are stopped; the error is reported."""
    journal: list[str] = []
    top = DaemonService(refuse)
    Part("log", journal).setServiceParent(top)
    Part("servers", journal, fail=True).setServiceParent(top)
    Part("programs", journal).setServiceParent(top)
    with pytest.raises(SystemExit, match="servers cannot start"):
        top.startService()
    assert journal == ["start log", "stopping log", "stopped log"]
    assert not top.running
