"""The webhook plugin, end to end: the real daemon POSTs to a real local receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, wait_until


class Receiver:
    """A local HTTP server recording POSTed JSON; fails the first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.bodies: list[dict] = []
        self.failures = failures
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.bodies.append(json.loads(data))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver(failures=2)
    yield r
    r.close()


def test_events_arrive_in_order_after_retries(tmp_path: Path, receiver: Receiver) -> None:
    """Generic JSON bodies arrive in order; failed deliveries are retried with backoff."""
    daemon = RunningDaemon(tmp_path)
    try:
        daemon.start(
            "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
            "[program:db]\ncommand = sleep 300\nstartsecs = 0\n"
            f"[plugin:webhook]\nurl = {receiver.url}\nbackoff = 0.1\nprograms = web\n"
        )
        daemon.rpc().supervisor.stopProcess("web")
        wait_until(lambda: len(receiver.bodies) >= 4)
        names = [(b["event"], b["fields"]["process"]) for b in receiver.bodies]
        assert names == [
            ("PROCESS_STATE_STARTING", "web"),
            ("PROCESS_STATE_RUNNING", "web"),
            ("PROCESS_STATE_STOPPING", "web"),
            ("PROCESS_STATE_STOPPED", "web"),
        ]
        assert receiver.attempts == 6
        assert receiver.bodies[1]["payload"].startswith(
            "processname:web groupname:web from_state:STARTING pid:"
        )
    finally:
        daemon.close()


def test_slack_format(tmp_path: Path) -> None:
    """format = slack sends one readable line of text."""
    receiver = Receiver()
    daemon = RunningDaemon(tmp_path)
    try:
        daemon.start(
            "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
            f"[plugin:webhook]\nurl = {receiver.url}\nformat = slack\nevents = PROCESS_STATE_EXITED\n"
        )
        daemon.rpc().supervisor.signalProcess("web", "KILL")
        wait_until(lambda: len(receiver.bodies) == 1)
        assert receiver.bodies[0]["text"].endswith("web: RUNNING → EXITED (unexpected)")
    finally:
        daemon.close()
        receiver.close()
