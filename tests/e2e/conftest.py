"""Layer 4 fixtures: the real daemon as a subprocess, ready when it says READY=1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, tool

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
