"""A real redis-server (Debian's) on a free loopback port, for the cluster tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from supervise.testing import free_port, wait_until

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def require_redis() -> None:
    """Skip (or fail in CI, where it must be installed) without redis-server."""
    import os

    if not Path(REDIS).exists():
        if os.environ.get("SUPERVISE_CI"):
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        pytest.skip("redis-server is not installed")


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
            return answer.startswith(b"+PONG") or b"NOAUTH" in answer
    except OSError:
        return False


class RedisServer:
    """One redis-server; ``stop()`` saves and exits, ``start()`` brings it back with its data."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> RedisServer:
        self.process = subprocess.Popen(
            [
                REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                "--save", "", "--appendonly", "no", "--protected-mode", "no", *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: ping(self.port), timeout=10)
        return self

    def cli(self, *args: str) -> str:
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10
        ).stdout.strip()

    def stop(self, save: bool = True) -> None:
        """Shut down (saving to the dump file first, so ``start()`` restores the data)."""
        if self.process is None or self.process.poll() is not None:
            return
        if save:
            self.cli("SAVE")
        self.process.terminate()
        self.process.wait(10)
        started = time.monotonic()
        while ping(self.port) and time.monotonic() - started < 5:
            time.sleep(0.05)

    def restart_with_data(self) -> None:
        self.stop(save=True)
        self.start()


class SentinelSetup:
    """A primary, a replica and one Sentinel watching them (service ``mymaster``)."""

    def __init__(self, folder: Path) -> None:
        for name in ("primary", "replica", "sentinel"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.primary = RedisServer(folder / "primary")
        self.replica = RedisServer(folder / "replica")
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen[bytes] | None = None

    def start(self) -> SentinelSetup:
        self.primary.start("--repl-diskless-sync-delay", "0")
        self.replica.start("--replicaof", "127.0.0.1", str(self.primary.port))
        wait_until(lambda: "master_link_status:up" in self.replica.cli("INFO", "replication"))
        config = self.folder / "sentinel" / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.folder / 'sentinel'}\n"
            f"sentinel monitor mymaster 127.0.0.1 {self.primary.port} 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 5000\n"
        )
        self.sentinel = subprocess.Popen(
            [REDIS, str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(lambda: ping(self.sentinel_port), timeout=10)
        wait_until(lambda: "connected_slaves:1" in self.primary.cli("INFO", "replication"))
        return self

    def current_primary(self) -> int:
        answer = subprocess.run(
            ["redis-cli", "-p", str(self.sentinel_port), "SENTINEL", "get-master-addr-by-name", "mymaster"],
            capture_output=True, text=True, timeout=10,
        ).stdout.split()  # fmt: skip
        return int(answer[1]) if len(answer) == 2 else 0

    def stop(self) -> None:
        if self.sentinel is not None and self.sentinel.poll() is None:
            self.sentinel.terminate()
            self.sentinel.wait(10)
        self.primary.stop(save=False)
        self.replica.stop(save=False)
