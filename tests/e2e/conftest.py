"""Layer 4 fixtures: the real daemon as a subprocess, ready when it says READY=1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A console script installed beside the running Python (twistd, supervisorctl)."""
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


class Daemon:
    """A running ``twistd -n supervise`` and the paths of its config."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.conf = tmp / "supervisord.conf"
        self.sock = tmp / "supervise.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def write(self, body: str) -> Path:
        head = f"""
        [supervisord]
        logfile = {self.tmp}/main.log
        pidfile = {self.tmp}/supervisord.pid
        childlogdir = {self.tmp}
        identifier = e2e
        [unix_http_server]
        file = {self.sock}
        [supervisorctl]
        serverurl = unix://{self.sock}
        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
        """
        self.conf.write_text(textwrap.dedent(head) + textwrap.dedent(body))
        return self.conf

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def start(self, body: str, timeout: float = 20) -> Daemon:
        """Start on a config with ``body`` after the standard sections; wait for READY=1."""
        self.write(body)
        notify = self.tmp / "notify.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify))
        listener.settimeout(timeout)
        env = self.env()
        env["NOTIFY_SOCKET"] = str(notify)
        self.process = subprocess.Popen(
            [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(self.conf)],
            env=env, cwd=self.tmp, stdout=open(self.tmp / "twistd.out", "wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            message = listener.recv(1024)
        except TimeoutError:
            self.stop()
            raise AssertionError(
                "daemon did not report READY=1:\n" + (self.tmp / "twistd.out").read_text()
            ) from None
        finally:
            listener.close()
        assert message.startswith(b"READY=1")
        return self

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real supervisorctl against the daemon."""
        return subprocess.run(
            [tool("supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def rpc(self):  # type: ignore[no-untyped-def]
        """An XML-RPC proxy over the unix socket, as supervisorctl makes it."""
        import xmlrpc.client

        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.sock}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM the daemon and wait for it to exit; return its status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.terminate()
        return self.process.wait(timeout)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path)
    yield d
    if d.process is not None and d.process.poll() is None:
        d.process.kill()
        d.process.wait(10)
