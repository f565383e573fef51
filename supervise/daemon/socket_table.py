"""The listening sockets the daemon owns: ``[socket:x]`` and each fcgi group's socket."""

from __future__ import annotations

import os
import socket

from twisted.application.service import Service
from twisted.logger import Logger

from supervise.config.model import GroupConfig, SocketConfig
from supervise.daemon.errors import StartupError
from supervise.daemon.runtime import Runtime
from supervise.sockets import inherited_sockets, open_listening

log = Logger(namespace="supervise.service")


class SocketTable(Service):
    """Opens every ``[socket:x]`` (or takes it over from a re-exec) before privileges are
    dropped, opens fcgi sockets when their group is added, closes all at the end."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.listening: dict[str, socket.socket] = {}
        self.fcgi: dict[str, socket.socket] = {}

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        handoff = self.runtime.handoff
        fds = handoff.extra.get("sockets", {}) if handoff is not None else {}
        inherited = inherited_sockets(fds if isinstance(fds, dict) else {})
        for config in self.runtime.model.sockets:
            if config.name in inherited:
                self.listening[config.name] = inherited.pop(config.name)
                continue
            try:
                self.listening[config.name] = open_listening(config)
            except OSError as problem:
                raise StartupError(
                    f"cannot open [socket:{config.name}] {config.listen}: {problem.strerror}"
                ) from None
        for leftover in inherited.values():
            leftover.close()

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        for sock in [*self.fcgi.values(), *self.listening.values()]:
            sock.close()
        self.fcgi.clear()
        self.listening.clear()

    def fds(self) -> dict[str, int]:
        """``[socket:x]`` name → fd, for the spawn context."""
        return {name: sock.fileno() for name, sock in self.listening.items()}

    def handoff(self) -> dict[str, int]:
        """Make every ``[socket:x]`` survive an exec; name → fd."""
        for sock in self.listening.values():
            sock.set_inheritable(True)
        return self.fds()

    def fcgi_fd(self, group: GroupConfig) -> int | None:
        """The listening socket an fcgi group's processes get on stdin (opened once)."""
        sock_config = group.fcgi_socket
        if sock_config is None:
            return None
        if group.name in self.fcgi:
            return self.fcgi[group.name].fileno()
        url = sock_config.url
        scheme, _, address = url.partition("://")
        listen = f"{scheme}:{address}"  # unix:///p -> unix:/p, tcp://h:p -> tcp:h:p
        config = SocketConfig(
            group.name, listen, sock_config.backlog or socket.SOMAXCONN, sock_config.mode
        )
        try:
            sock = open_listening(config)
            if sock_config.owner is not None and listen.startswith("unix:"):
                os.chown(listen[len("unix:") :], *sock_config.owner)
        except OSError as problem:
            log.error("Could not create FastCGI socket {url}: {problem}", url=url, problem=problem)
            return None
        sock.set_inheritable(True)
        self.fcgi[group.name] = sock
        return sock.fileno()
