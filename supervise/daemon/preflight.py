"""What is checked before the daemon forks into the background, so that the command
the user typed (not a detached child with no terminal) says why it cannot start.

A second daemon on the same configuration stops here, before it touches anything of
the first one's: its socket file, pidfile, state file, AUTO logs or main log. To say so
within a second, this module imports little: ``supervise.tap`` runs it before it
imports the daemon's own code (the HTTP stack, TLS, the core), which costs more time
than everything else a refused start does.
"""

from __future__ import annotations

import os

from supervise.config.model import ConfigModel, ServerConfig
from supervise.daemon.errors import StartupError
from supervise.sockets import IN_USE, socket_address, tcp_in_use, unix_in_use


def in_use(server: ServerConfig) -> str | None:
    """What of ``server`` another program already serves, or None."""
    if server.kind == "unix":
        if server.file and unix_in_use(server.file):
            return f"[{server.section}] file {server.file}"
        return None
    if tcp_in_use(server.host, server.port):
        return f"[{server.section}] port {server.host or '*'}:{server.port}"
    return None


def check_servers(model: ConfigModel) -> None:
    """StartupError, with supervisord's wording, if a server's address is taken."""
    for server in model.servers:
        taken = in_use(server)
        if taken is not None:
            raise StartupError(f"{IN_USE}  ({taken} is in use.)")
    for config in model.sockets:
        kind, address, port = socket_address(config)
        if (kind == "unix" and unix_in_use(address)) or (
            kind == "tcp" and tcp_in_use(address, port)
        ):
            raise StartupError(f"cannot open [socket:{config.name}] {config.listen}: in use")


def check_main_log(model: ConfigModel) -> None:
    """StartupError naming the main log if it cannot be a file: a directory, or a
    folder that does not exist (checked without creating anything)."""
    path = model.supervisord.logfile
    if path.lower() == "syslog":
        return
    if os.path.isdir(path):
        raise StartupError(f"cannot open the main log file {path}: Is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StartupError(f"The directory named as part of the path {path} does not exist")


def check(model: ConfigModel) -> None:
    """Every check, in the order supervisord would meet the problems."""
    check_main_log(model)
    check_servers(model)
