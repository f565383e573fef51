"""Layer 4: supervise as PID 1 of a new PID namespace, as in a container: it reaps every
orphan, turns SIGTERM into an ordered stop and exit 0, and exits with a critical
program's status. Run with ``unshare --pid --fork --mount-proc`` (plus ``--user
--map-root-user`` when not root)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon


def unshare_prefix() -> list[str]:
    """The unshare command line that makes a new PID namespace here."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--pid", "--fork", "--mount-proc"]


def namespace_refusal() -> str | None:
    """Why no PID namespace can be made on this machine (None: it can)."""
    if shutil.which("unshare") is None:
        return "no unshare command (util-linux) on this machine"
    try:
        done = subprocess.run(
            [*unshare_prefix(), "true"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as problem:
        return f"unshare failed: {problem}"
    if done.returncode != 0:
        return f"the kernel refuses a new PID namespace here: {done.stderr.strip()}"
    return None


REFUSAL = namespace_refusal() if sys.platform.startswith("linux") else "Linux only"
# Never skipped in CI (root there): a refusal must fail the run, not hide it.
pytestmark = pytest.mark.skipif(
    REFUSAL is not None and not os.environ.get("CI"), reason=f"skipped: {REFUSAL}"
)


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(n) for n in task.read_text().split()]
        except OSError:
            continue
    return found


def process_state(pid: int) -> str:
    """The one-letter state of ``pid`` (``Z`` for a zombie), ``gone`` if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat.rsplit(")", 1)[1].split()[0]


class Pid1Daemon(Daemon):
    """The daemon as PID 1 of its own PID namespace, started by the ``supervise`` command
    (``unshare`` is ``process``; the daemon is its only child)."""

    def argv(self) -> list[str]:
        return [
            *unshare_prefix(),
            sys.executable,
            "-m",
            "supervise.cli",
            "-n",
            "-c",
            str(self.conf),
        ]

    @property
    def daemon_pid(self) -> int:
        """The daemon's pid as this (outer) namespace sees it."""
        assert self.process is not None
        (pid,) = children_of(self.process.pid)
        return pid

    def stop(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int:
        """Signal the daemon itself (unshare forwards no signal); its exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            for pid in children_of(self.process.pid):
                os.kill(pid, sig)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the namespace's PID 1: the kernel then kills everything in it."""
        if self.process is not None and self.process.poll() is None:
            for pid in children_of(self.process.pid):
                os.kill(pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def pid1(tmp_path: Path) -> Iterator[Pid1Daemon]:
    d = Pid1Daemon(tmp_path)
    yield d
    d.close()


def script(folder: Path, name: str, body: str) -> Path:
    """An executable shell script (no ``;`` in the config: it starts a comment there)."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def stops_recorded(folder: Path, name: str) -> Path:
    """A program that, on SIGTERM, notes its name in ``order`` and exits 0."""
    return script(
        folder,
        name,
        f"trap 'echo {name} >> {folder}/order; exit 0' TERM\nwhile :; do sleep 0.05; done\n",
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_pid1_reaps_orphans_and_stops_in_order(
    pid1: Pid1Daemon, tmp_path: Path, stop_signal: int
) -> None:
    """As PID 1: orphans re-parented to the daemon are reaped (no zombie is left), and
    SIGTERM (docker stop) or SIGINT (Ctrl-C) stops the programs in priority order before
    the daemon exits 0."""
    orphans = script(
        tmp_path, "orphans", "for i in 1 2 3\ndo (sleep 0.1 &)\ndone\nexec sleep 1000\n"
    )
    pid1.start(
        f"""
        [program:orphans]
        command = {orphans}
        startsecs = 0

        [program:first]
        command = {stops_recorded(tmp_path, "first")}
        startsecs = 0
        priority = 1

        [program:last]
        command = {stops_recorded(tmp_path, "last")}
        startsecs = 0
        priority = 999
        """
    )
    assert pid1.rpc().supervisor.getPID() == 1
    main_log = tmp_path / "main.log"
    wait_until(lambda: main_log.read_text().count("reaped unknown pid") >= 3)
    daemon = pid1.daemon_pid
    wait_until(lambda: all(process_state(p) != "Z" for p in children_of(daemon)))
    assert pid1.stop(sig=stop_signal) == 0
    assert (tmp_path / "order").read_text().split() == ["last", "first"]
    log = main_log.read_text()
    assert "stopped: last (exit status 0)" in log and "stopped: first (exit status 0)" in log
    assert "SIGKILL" not in log


def test_pid1_exits_with_a_critical_programs_status(pid1: Pid1Daemon, tmp_path: Path) -> None:
    """As PID 1: a critical program exits 9, the others are stopped, the container's
    PID 1 exits 9 (what ``docker run`` returns)."""
    go = tmp_path / "go"
    app = script(tmp_path, "app", f"while [ ! -e {go} ]\ndo sleep 0.05\ndone\nexit 9\n")
    pid1.start(
        f"""
        [program:app]
        command = {app}
        startsecs = 0
        autorestart = false
        critical = true

        [program:sidecar]
        command = {stops_recorded(tmp_path, "sidecar")}
        startsecs = 0
        """
    )
    go.touch()
    assert pid1.process is not None
    assert pid1.process.wait(60) == 9
    assert (tmp_path / "order").read_text().split() == ["sidecar"]
    assert (
        "exiting with status 9: critical program app exit status 9"
        in (tmp_path / "main.log").read_text()
    )
