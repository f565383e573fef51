"""Layer 4 fixtures: the real daemon as a subprocess, ready when it says READY=1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, tool
from tests.e2e.redis_server import RedisServer, require_redis

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["Daemon", "tool"]


class Daemon(RunningDaemon):
    """RunningDaemon running this checkout's code, plus the real supervisorctl."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(
            tmp, {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        )

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real supervisorctl against the daemon."""
        return subprocess.run(
            [tool("supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path)
    yield d
    d.close()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server (Debian's) for the cluster tests, gone after the test."""
    require_redis()
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop(save=False)
