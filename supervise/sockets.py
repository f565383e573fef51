"""Listening sockets supervise owns (``[socket:x]``), taking them over after a re-exec,
and probing whether another program already serves an address."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping

from supervise.config.model import SocketConfig

#: supervisord's words (SUPERVISOR.md §2.9) when an HTTP server's address is taken: said
#: by the start-up check and by a server that cannot listen.
IN_USE = (
    "Another program is already listening on a port that one of our HTTP servers is "
    "configured to use.  Shut this program down first before starting supervisord."
)


def unix_in_use(path: str) -> bool:
    """True if something accepts connections on the unix socket ``path``."""
    if not os.path.exists(path):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def tcp_in_use(host: str, port: int) -> bool:
    """True if ``host:port`` cannot be bound because another socket listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host.strip("[]"), port))
        return False
    except OSError as problem:
        return problem.errno == errno.EADDRINUSE
    finally:
        probe.close()


def socket_address(config: SocketConfig) -> tuple[str, str, int]:
    """``("unix", path, 0)`` or ``("tcp", host, port)`` of a ``[socket:x]``."""
    if config.listen.startswith("unix:"):
        return "unix", config.listen[len("unix:") :], 0
    host, _, port = config.listen[len("tcp:") :].rpartition(":")
    return "tcp", host, int(port)


def open_listening(config: SocketConfig) -> socket.socket:
    """Bind and listen as a ``[socket:x]`` says; a unix path another program serves is
    left alone (OSError EADDRINUSE), a stale one replaced."""
    kind, address, port = socket_address(config)
    if kind == "unix":
        if unix_in_use(address):
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        if os.path.exists(address):
            os.unlink(address)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(address)
        if config.mode is not None:
            os.chmod(address, config.mode)
    else:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.strip("[]"), port))
    sock.listen(config.backlog)
    return sock


def inherited_sockets(fds: Mapping[str, int]) -> dict[str, socket.socket]:
    """The listening sockets a re-exec passed on (``[socket:x]`` name → fd)."""
    found: dict[str, socket.socket] = {}
    for name, fd in fds.items():
        try:
            sock = socket.socket(fileno=int(fd))
        except (OSError, ValueError):
            continue
        sock.set_inheritable(False)
        found[name] = sock
    return found
