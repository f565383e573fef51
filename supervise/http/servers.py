"""The HTTP servers of ``[unix_http_server]`` and ``[inet_http_server]``.

One ``twisted.web`` site per server; HTTP basic auth (``supervise.http.basic_auth``,
loaded only then) when the section has credentials.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.web import resource, server

from supervise.config.model import ServerConfig
from supervise.sockets import IN_USE, unix_in_use

log = Logger()


class ServerStartError(Exception):
    """An HTTP server could not be started."""


def protect(
    root: resource.IResource,
    config: ServerConfig,
    guests: Mapping[str, tuple[str, str]] | None = None,
    guest_tree: Callable[[str], resource.IResource] | None = None,
) -> resource.IResource:
    """Wrap ``root`` in basic auth when the server has credentials.

    :param guests: more users (cluster console users: name → (password, role)); they
        get ``guest_tree("role:name")`` instead of the whole root.
    """
    if config.username is None or config.password is None:
        return root
    # Imported only with credentials: twisted.cred and hmac load OpenSSL's libcrypto.
    from supervise.http.basic_auth import guarded

    users = {config.username: (config.password, "admin")}
    for name, entry in (guests or {}).items():
        users.setdefault(name, entry)

    def tree_for(avatar: str) -> resource.IResource:
        # The server's own user gets everything; guests (the cluster console's users,
        # whatever their role there) get the guest tree.
        if avatar == f"admin:{config.username}" or guest_tree is None:
            return root
        return guest_tree(avatar)

    return guarded(users, tree_for)


# Bounds every HTTP server keeps, whatever its clients do (docs/reliability.md).
MAX_CONNECTIONS = int(os.environ.get("SUPERVISE_HTTP_MAX_CONNECTIONS", "1024"))
IDLE_TIMEOUT = float(os.environ.get("SUPERVISE_HTTP_IDLE_TIMEOUT", "60"))


class QuietSite(server.Site):
    """A site that keeps no access log (the main log is for lifecycle lines), closes
    connections idle for IDLE_TIMEOUT seconds (a request being answered, such as a log
    stream, is not idle), and holds at most MAX_CONNECTIONS open: past the bound, the
    oldest connection with no request in progress is closed to make room, so a pile of
    idle clients never locks others out."""

    noisy = False

    def __init__(self, root: resource.IResource, name: str = "") -> None:
        # No route takes form uploads: skipping Twisted's form parsing of POST bodies
        # saves its costly Content-Type parse (email.message) on every XML-RPC call.
        super().__init__(root, timeout=IDLE_TIMEOUT, parsePOSTFormSubmission=False)
        self.name = name
        self.channels: dict[int, Any] = {}  # insertion order: oldest first
        self._said_full = False

    def log(self, request: Any) -> None:
        """Drop access-log lines."""

    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 - Twisted's name
        """A channel; past the bound, make room by closing the oldest idle one."""
        if len(self.channels) >= MAX_CONNECTIONS and not self._make_room():
            return None
        channel = super().buildProtocol(addr)
        if channel is None:
            return None
        key = id(channel)
        self.channels[key] = channel
        lost = channel.connectionLost

        def connection_lost(reason: Any) -> None:
            self.channels.pop(key, None)
            lost(reason)

        channel.connectionLost = connection_lost
        return channel

    def _make_room(self) -> bool:
        if not self._said_full:
            self._said_full = True
            log.warn(
                "HTTP server {name}: {n} connections open; closing the oldest idle ones to "
                "serve new clients",
                name=self.name,
                n=len(self.channels),
            )
        for key, channel in list(self.channels.items()):
            http_channel = getattr(channel, "_channel", channel)  # behind Twisted's wrapper
            transport = getattr(http_channel, "transport", None)
            if not http_channel.requests and transport is not None:
                del self.channels[key]
                transport.abortConnection()
                return True
        return False  # every connection is busy answering: refuse the newcomer


def listen(
    reactor: Any,
    config: ServerConfig,
    root: resource.IResource,
    guests: Mapping[str, tuple[str, str]] | None = None,
    guest_tree: Callable[[str], resource.IResource] | None = None,
) -> IListeningPort:
    """Start one server; raise ServerStartError with supervisord's wording."""
    site = QuietSite(protect(root, config, guests, guest_tree), config.section)
    site.displayTracebacks = False
    if config.username is None:
        log.critical(
            "Server {name!r} running without any HTTP authentication checking",
            name=config.section,
        )
    if config.kind == "unix":
        assert config.file is not None
        if os.path.exists(config.file):
            if unix_in_use(config.file):
                raise ServerStartError(IN_USE)
            os.unlink(config.file)
        try:
            port: IListeningPort = reactor.listenUNIX(
                config.file, site, mode=config.chmod, backlog=1024
            )
        except Exception as failure:
            raise ServerStartError(
                f"Cannot open an HTTP server: socket.error reported {failure}"
            ) from None
        if config.chown is not None:
            uid, gid = config.chown
            try:
                os.chown(config.file, uid, gid)
            except OSError as problem:
                raise ServerStartError(
                    f"Could not change ownership of socket file: {problem}"
                ) from None
        return port
    if config.certfile is not None and config.keyfile is not None:
        # Imported only here: TLS (pyOpenSSL, cryptography) costs a daemon ~80 ms and 11 MiB.
        from twisted.internet.ssl import PrivateCertificate

        try:
            with open(config.certfile, "rb") as cert, open(config.keyfile, "rb") as key:
                identity = PrivateCertificate.loadPEM(cert.read() + b"\n" + key.read())
        except Exception as problem:
            raise ServerStartError(
                f"Cannot open an HTTPS server: the certificate or key is unusable ({problem})"
            ) from None
        try:
            return reactor.listenSSL(  # type: ignore[no-any-return]
                config.port, site, identity.options(), backlog=1024, interface=config.host
            )
        except Exception:
            raise ServerStartError(IN_USE) from None
    try:
        return reactor.listenTCP(config.port, site, backlog=1024, interface=config.host)  # type: ignore[no-any-return]
    except Exception:
        raise ServerStartError(IN_USE) from None
