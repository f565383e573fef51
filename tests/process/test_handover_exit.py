"""Layer 3: a child handed over by a re-exec that exited during the hand-off is reported
exited with its real status once its program takes it over, output included."""

from __future__ import annotations

import os
import subprocess

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from supervise.process.linux.reaper import Reaper
from supervise.process.linux.spawner import ReactorSpawner


class Protocol:
    """Records what the adopted child reports."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.done: Deferred[int] = Deferred()

    def output(self, stream: str, data: bytes) -> None:
        self.chunks.append(data)

    def exited(self, status: int) -> None:
        self.done.callback(status)


@pytest_twisted.ensureDeferred
async def test_exit_during_handover_reaches_the_program_with_status_and_output(monkeypatch):
    """The reaper keeps the status of an expected pid; adopting it reports that exit
    after the pipe's last bytes."""
    child = subprocess.Popen(["sh", "-c", "echo last words; exit 7"], stdout=subprocess.PIPE)
    read_end = os.dup(child.stdout.fileno())  # type: ignore[union-attr]
    child.stdout.close()  # type: ignore[union-attr]
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # it has exited, not reaped
    real_waitid = os.waitid
    # The reaper looks at every child (P_ALL); here only at this test's own.
    monkeypatch.setattr(
        os, "waitid", lambda _t, _i, options: real_waitid(os.P_PID, child.pid, options)
    )
    reaper = Reaper()
    reaper.expect([child.pid])
    reaper.reap(limit=5)
    monkeypatch.undo()
    assert reaper.reaped_unknown == 0
    child.returncode = 7  # reaped by the reaper, not by Popen
    protocol = Protocol()
    spawner = ReactorSpawner(reactor, reaper)
    spawner.adopt(child.pid, protocol, {"stdout": read_end}, label="job")
    status = await protocol.done
    assert os.WEXITSTATUS(status) == 7
    assert b"".join(protocol.chunks) == b"last words\n"
