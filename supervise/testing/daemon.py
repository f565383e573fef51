"""The real daemon for end-to-end tests: RunningDaemon, and what talks to it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import xmlrpc.client
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def wait_until(
    condition: Callable[[], object],
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    """Check ``condition`` in the test (never in the daemon) until true; fail after
    ``timeout`` s, saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout:g}s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ini_section(name: str, **options: object) -> str:
    """A config section from keyword options: ``ini_section("program:web", command="x")``."""
    return f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in options.items())


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost``/127.0.0.1 and its key, in ``folder`` (openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tool(name: str) -> str:
    """A console script beside the running Python (twistd, supervisorctl …), else on PATH."""
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else (shutil.which(name) or name)


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over a unix-domain socket."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def make_connection(self, host: Any) -> Any:
        from supervise.ctl.client import UnixHTTPConnection

        return UnixHTTPConnection(self.path)


def raw_xmlrpc(socket_path: str | Path, method: str, *params: Any) -> bytes:
    """One XML-RPC call over a unix socket as a raw HTTP/1.0 request: the whole answer,
    status line to end, unparsed (what the daemon sent, not what a client made of it)."""
    body = xmlrpc.client.dumps(params, method).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(60)
        connection.connect(str(socket_path))
        connection.sendall(
            b"POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        chunks = []
        while chunk := connection.recv(1 << 20):
            chunks.append(chunk)
    return b"".join(chunks)


class RunningDaemon:
    """The real daemon in ``folder``: write a config, start, talk to it, stop it.

    :ivar environ: extra environment for the daemon (``PYTHONPATH`` for a plugin under test).
    :ivar front: the command that runs it: ``twistd`` (``twistd -n supervise``) or
        ``supervise`` (``python -m supervise.cli -n``, which loads fewer modules).
    """

    def __init__(
        self, folder: Path, environ: Mapping[str, str] | None = None, front: str = "twistd"
    ) -> None:
        self.front = front
        self.tmp = Path(folder)
        self.conf = self.tmp / "supervisord.conf"
        self.sock = self.tmp / "supervise.sock"
        self.extra_environ = dict(environ or {})
        self.process: subprocess.Popen[bytes] | None = None

    def write(self, body: str) -> Path:
        """Write the config: standard sections (logs and socket in the folder) plus ``body``."""
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
        """The daemon's environment: this one, plus the checkout on ``PYTHONPATH`` when
        supervise runs from one (an editable install's twistd finds the ``supervise``
        twistd plugin only there)."""
        env = dict(os.environ)
        env.update(self.extra_environ)
        checkout = Path(__file__).resolve().parents[2]
        if (checkout / "twisted" / "plugins" / "supervise_plugin.py").exists():
            env["PYTHONPATH"] = os.pathsep.join(
                [str(checkout), *filter(None, [env.get("PYTHONPATH")])]
            )
        return env

    def start(self, body: str | None, timeout: float = 20) -> RunningDaemon:
        """Start on a config with ``body`` (None: the config already written); return
        once the daemon sent READY=1."""
        if body is not None:
            self.write(body)
        notify = self.tmp / "notify.sock"
        if notify.exists():
            notify.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify))
        os.chmod(notify, 0o777)  # a daemon that drops privileges must still reach it
        env = self.env()
        env["NOTIFY_SOCKET"] = str(notify)
        with open(self.tmp / "twistd.out", "wb") as out:
            self.process = subprocess.Popen(
                self.argv(),
                env=env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        listener.settimeout(0.2)
        deadline = time.monotonic() + timeout
        message = b""
        try:
            while not message:
                try:
                    message = listener.recv(1024)
                except TimeoutError:
                    # Bounded wait on the daemon's own word; give up early if it died.
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.kill()
                        output = (self.tmp / "twistd.out").read_text()
                        raise AssertionError(f"daemon did not report READY=1:\n{output}") from None
        finally:
            listener.close()
        assert message.startswith(b"READY=1")
        return self

    def argv(self) -> list[str]:
        """The daemon's command line, in the foreground."""
        if self.front == "supervise":
            return [sys.executable, "-m", "supervise.cli", "-n", "-c", str(self.conf)]
        return [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(self.conf)]

    def rpc(self) -> Any:
        """An XML-RPC proxy over the unix socket."""
        return xmlrpc.client.ServerProxy(
            "http://localhost", transport=UnixTransport(str(self.sock))
        )

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM the daemon; return its exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the daemon if it still runs (its programs survive, as after a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def close(self, timeout: float = 30) -> None:
        """Stop the daemon and its programs (SIGTERM); SIGKILL it if it hangs. What a
        killed daemon left behind goes too: its programs (found by the owner mark in
        their environment) and its descriptor keeper."""
        try:
            self.stop(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        from supervise.process.linux.keeper import KeeperError, connect
        from supervise.process.linux.proctable import owned_survivors

        for copies in owned_survivors(str(self.tmp / "supervisord.pid.state")).values():
            for pid, _ in copies:
                for kill in (os.killpg, os.kill):  # its process group, else itself
                    try:
                        kill(pid, signal.SIGKILL)
                        break
                    except OSError:
                        continue
        try:
            keeper = connect(str(self.tmp / "supervisord.pid.state.keeper"))
            if keeper is not None:
                keeper.quit()
        except KeeperError:
            pass
