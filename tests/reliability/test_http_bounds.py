"""Clients that hang, crawl or pile up cost the daemon a bounded amount, and everyone
else is still served."""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Iterator

import pytest

from supervise.testing import RunningDaemon, wait_until
from tests.e2e.conftest import ROOT
from tests.reliability.conftest import CASES

pytestmark = pytest.mark.e2e


@pytest.fixture
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    started = RunningDaemon(
        tmp_path_factory.mktemp("http"),
        {
            "PYTHONPATH": str(ROOT),
            "SUPERVISE_HTTP_IDLE_TIMEOUT": "2",
            "SUPERVISE_HTTP_MAX_CONNECTIONS": "600",
        },
    )
    started.start("[program:p]\ncommand = sleep 3600\nstartsecs = 0\n")
    yield started
    started.close()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def quick_answer(daemon: RunningDaemon) -> float:
    began = time.monotonic()
    assert daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
    return time.monotonic() - began


def test_a_thousand_idle_connections_are_bounded_and_closed(daemon: RunningDaemon) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    assert daemon.process is not None
    pid = daemon.process.pid
    before = open_fds(pid)
    idle = []
    try:
        for _ in range(1000):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(daemon.sock))
            idle.append(sock)
        CASES["http: idle connections"] += len(idle)
        # Held: at most the bound are kept (the oldest idle ones closed); others are served.
        wait_until(lambda: open_fds(pid) <= before + 600 + 5)
        for _ in range(10):
            assert quick_answer(daemon) < 5
        # Idle ones are closed after the idle timeout.
        wait_until(lambda: open_fds(pid) <= before + 5, timeout=20)
        assert quick_answer(daemon) < 5
        assert "closing the oldest idle ones" in (daemon.tmp / "main.log").read_text()
    finally:
        for sock in idle:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_crawling_client_is_cut_off_and_others_are_served(daemon: RunningDaemon) -> None:
    crawler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crawler.connect(str(daemon.sock))
    crawler.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<methodCall>")
    CASES["http: slow clients"] += 1
    assert quick_answer(daemon) < 5
    # It sends nothing more: the connection is closed, not held forever.
    crawler.settimeout(30)
    began = time.monotonic()
    while crawler.recv(4096):
        pass
    assert time.monotonic() - began < 30
    crawler.close()


def test_a_client_that_never_reads_a_log_stream_costs_bounded_memory(daemon: RunningDaemon) -> None:
    """A tail -f reader that stops reading: the daemon keeps serving."""
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(str(daemon.sock))
    reader.sendall(b"GET /mainlogtail HTTP/1.1\r\nHost: x\r\n\r\n")
    CASES["http: stalled readers"] += 1
    for _ in range(20):
        assert quick_answer(daemon) < 5
    reader.close()
