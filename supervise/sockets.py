"""Listening sockets supervise owns (``[socket:x]``), and taking them over after a re-exec."""

from __future__ import annotations

import os
import socket

from supervise.config.model import SocketConfig


def open_listening(config: SocketConfig) -> socket.socket:
    """Bind and listen as a ``[socket:x]`` says."""
    if config.listen.startswith("unix:"):
        path = config.listen[len("unix:") :]
        if os.path.exists(path):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        if config.mode is not None:
            os.chmod(path, config.mode)
    else:
        host, _, port = config.listen[len("tcp:") :].rpartition(":")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), int(port)))
    sock.listen(config.backlog)
    return sock


def inherited_sockets(handoff: str | None) -> dict[str, socket.socket]:
    """Listening sockets a re-exec passed on (their fds are noted beside the handoff file)."""
    found: dict[str, socket.socket] = {}
    if not handoff:
        return found
    folder, base = os.path.split(handoff)
    for entry in os.listdir(folder or "."):
        if entry.startswith(f"{base}.socket."):
            path = os.path.join(folder, entry)
            try:
                with open(path) as note:
                    fd = int(note.read())
                sock = socket.socket(fileno=fd)
                sock.set_inheritable(False)
                found[entry[len(f"{base}.socket.") :]] = sock
            except (OSError, ValueError):
                pass
            os.unlink(path)
    return found
