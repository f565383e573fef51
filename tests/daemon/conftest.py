"""Shared pieces of the daemon's layer-2/3 tests: a runtime on a fake reactor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from supervise.config.model import ConfigModel, SupervisordOptions
from supervise.daemon.runtime import Runtime
from supervise.options import DaemonOptions


class FakeReactor(Clock):
    """A Clock that also records ``stop`` and runs ``callWhenRunning`` at once."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def callWhenRunning(self, f: Any, *args: Any) -> None:
        f(*args)

    def callFromThread(self, f: Any, *args: Any) -> None:
        self.callLater(0, f, *args)


def runtime_in(folder: Path, **supervisord: Any) -> Runtime:
    """A Runtime whose pidfile and logs live in ``folder``."""
    options = SupervisordOptions(
        logfile=str(folder / "main.log"), pidfile=str(folder / "supervisord.pid"), **supervisord
    )
    model = ConfigModel(str(folder / "supervisord.conf"), str(folder), options, ())
    return Runtime(
        DaemonOptions(str(folder / "supervisord.conf"), environ={}), model, FakeReactor()
    )


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """Every log event emitted during the test."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)
