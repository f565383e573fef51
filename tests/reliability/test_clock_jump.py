"""The wall clock set back an hour (or forward) moves no timer of the daemon.

The daemon runs under libfaketime (Debian's ``faketime`` package) with the wall clock
faked and the monotonic clock left alone, which is what ``date -s`` does to a real
machine; the offset is changed while it runs. Stop timeouts, ``startsecs`` and
restarts must keep their real durations.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, wait_until
from tests.e2e.conftest import ROOT
from tests.reliability.conftest import CASES

pytestmark = pytest.mark.e2e

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
HOUR = 3600

if not LIBFAKETIME.exists():
    if os.environ.get("SUPERVISE_CI"):
        raise RuntimeError(f"{LIBFAKETIME} is missing: apt-get install faketime")
    pytest.skip("libfaketime is not installed (apt-get install faketime)", allow_module_level=True)

# Programs run without the fake clock (its sleep interception breaks `sleep`).
PROGRAMS = """
[program:stubborn]
command = sh -c "trap '' TERM; touch %(here)s/trapped; while :; do sleep 0.1; done"
stopwaitsecs = 2
startsecs = 0
environment = LD_PRELOAD=""
[program:slowstart]
command = sleep 1000
startsecs = 2
autostart = false
environment = LD_PRELOAD=""
[program:crasher]
command = sleep 1000
startsecs = 0
autorestart = true
environment = LD_PRELOAD=""
"""


@pytest.fixture
def faked(tmp_path: Path) -> Iterator[tuple[RunningDaemon, Path]]:
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    daemon = RunningDaemon(
        tmp_path,
        {
            "PYTHONPATH": str(ROOT),
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(offset),
            "FAKETIME_CACHE_DURATION": "0",
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        },
    )
    daemon.start(PROGRAMS, timeout=60)
    yield daemon, offset
    daemon.close()


def jump(daemon: RunningDaemon, offset: Path, seconds: int) -> None:
    """Set the daemon's wall clock ``seconds`` off the real one; wait until it sees it."""
    rpc = daemon.rpc()
    offset.write_text(f"{seconds:+d}\n")
    wait_until(
        lambda: abs(rpc.supervisor.getProcessInfo("crasher")["now"] - time.time() - seconds) < 60
    )
    CASES["clock jumps"] += 1


def test_setting_the_clock_back_an_hour_moves_no_timer(
    faked: tuple[RunningDaemon, Path],
) -> None:
    daemon, offset = faked
    rpc = daemon.rpc()
    # RUNNING at once (startsecs = 0), but deaf to SIGTERM only once its trap is set.
    wait_until(lambda: (daemon.tmp / "trapped").exists())

    # stopwaitsecs = 2, its timer set before the jump: SIGKILL follows SIGTERM after two
    # real seconds, not an hour and two seconds.
    began = time.monotonic()
    rpc.supervisor.stopProcess("stubborn", False)
    jump(daemon, offset, -HOUR)
    wait_until(
        lambda: rpc.supervisor.getProcessInfo("stubborn")["statename"] == "STOPPED", timeout=15
    )
    assert 1.5 <= time.monotonic() - began < 10

    # startsecs = 2, counting when the clock goes back: RUNNING after two real seconds.
    began = time.monotonic()
    rpc.supervisor.startProcess("slowstart", False)
    jump(daemon, offset, -2 * HOUR)
    wait_until(
        lambda: rpc.supervisor.getProcessInfo("slowstart")["statename"] == "RUNNING", timeout=15
    )
    assert 1.5 <= time.monotonic() - began < 10

    # A crash is restarted at once.
    pid = rpc.supervisor.getProcessInfo("crasher")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: (
            rpc.supervisor.getProcessInfo("crasher")["pid"] not in (0, pid)
            and rpc.supervisor.getProcessInfo("crasher")["statename"] == "RUNNING"
        ),
        timeout=10,
    )


def test_setting_the_clock_forward_fires_no_timer_early(
    faked: tuple[RunningDaemon, Path],
) -> None:
    daemon, offset = faked
    rpc = daemon.rpc()
    began = time.monotonic()
    rpc.supervisor.startProcess("slowstart", False)
    jump(daemon, offset, HOUR)
    wait_until(
        lambda: rpc.supervisor.getProcessInfo("slowstart")["statename"] == "RUNNING", timeout=10
    )
    # startsecs = 2 real seconds, however far the wall clock went.
    assert time.monotonic() - began >= 1.9
