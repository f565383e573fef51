"""Layer 3: what is refused before forking: a served socket or port, an unusable log."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from supervise.config.model import ConfigModel, ServerConfig, SocketConfig, SupervisordOptions
from supervise.daemon import preflight
from supervise.daemon.errors import StartupError
from supervise.sockets import open_listening


def model(folder: Path, logfile: str | None = None, **parts: object) -> ConfigModel:
    options = SupervisordOptions(logfile=logfile or str(folder / "main.log"))
    return ConfigModel(str(folder / "c.conf"), str(folder), options, (), **parts)  # type: ignore[arg-type]


def test_a_served_unix_socket_is_named(tmp_path: Path) -> None:
    """Another program listening on the socket file: refused, naming the file."""
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        config = ServerConfig("unix", "unix_http_server", file=str(path))
        with pytest.raises(StartupError, match=f"Another program is already listening.*{path}"):
            preflight.check(model(tmp_path, servers=(config,)))
    assert path.exists()


def test_a_stale_unix_socket_is_no_obstacle(tmp_path: Path) -> None:
    """A socket file nobody listens on (a crashed daemon's) does not stop the start."""
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))
    preflight.check(model(tmp_path, servers=(ServerConfig("unix", "u", file=str(path)),)))


def test_a_served_port_is_named(tmp_path: Path) -> None:
    """A TCP port in use: refused, naming the port."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        config = ServerConfig("inet", "inet_http_server", host="127.0.0.1", port=port)
        with pytest.raises(StartupError, match=f"port 127.0.0.1:{port} is in use"):
            preflight.check(model(tmp_path, servers=(config,)))


def test_a_served_socket_section_is_left_alone(tmp_path: Path) -> None:
    """A ``[socket:x]`` unix path another program serves is neither checked-and-passed
    nor stolen by unlinking it."""
    path = tmp_path / "app.sock"
    config = SocketConfig("app", f"unix:{path}")
    first = open_listening(config)
    try:
        with pytest.raises(StartupError, match=r"\[socket:app\]"):
            preflight.check(model(tmp_path, sockets=(config,)))
        with pytest.raises(OSError):
            open_listening(config)
        assert path.exists()
    finally:
        first.close()


def test_a_main_log_that_is_a_directory(tmp_path: Path) -> None:
    """The main log naming a directory: refused, naming it."""
    with pytest.raises(StartupError, match=f"main log file {tmp_path}: Is a directory"):
        preflight.check(model(tmp_path, logfile=str(tmp_path)))


def test_a_main_log_in_a_missing_folder(tmp_path: Path) -> None:
    """The main log in a folder that does not exist: refused with supervisord's words."""
    missing = tmp_path / "nope" / "main.log"
    with pytest.raises(StartupError, match="The directory named as part of the path"):
        preflight.check(model(tmp_path, logfile=str(missing)))
    assert not missing.parent.exists()
