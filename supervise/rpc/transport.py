"""The HTTP servers of ``[unix_http_server]`` and ``[inet_http_server]``.

One ``twisted.web`` site per server; HTTP basic auth through ``twisted.cred`` when the
section has credentials (clear or ``{SHA}`` passwords, realm ``default``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
from typing import Any

from twisted.cred import credentials, error, portal
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger
from twisted.web import guard, resource, server
from zope.interface import implementer

from supervise.config.model import ServerConfig

log = Logger()

IN_USE = (
    "Another program is already listening on a port that one of our HTTP servers is "
    "configured to use.  Shut this program down first before starting supervisord."
)


class ServerStartError(Exception):
    """An HTTP server could not be started."""


@implementer(ICredentialsChecker)
class PasswordChecker:
    """Checks one username and a clear or ``{SHA}`` password."""

    credentialInterfaces = (credentials.IUsernamePassword,)  # noqa: N815 - Twisted's name

    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password

    def requestAvatarId(self, creds: Any) -> defer.Deferred[bytes | tuple[()]]:  # noqa: N802 - Twisted's name
        given = creds.password.decode("utf-8", "replace")
        if self.password.startswith("{SHA}"):
            ok = hmac.compare_digest(hashlib.sha1(given.encode()).hexdigest(), self.password[5:])
        else:
            ok = hmac.compare_digest(given, self.password)
        if creds.username == self.username and ok:
            return defer.succeed(creds.username)
        return defer.fail(error.UnauthorizedLogin())


@implementer(portal.IRealm)
class RootRealm:
    """Every authenticated user gets the same root resource."""

    def __init__(self, root: resource.IResource) -> None:
        self.root = root

    def requestAvatar(self, avatar_id: Any, mind: Any, *interfaces: Any) -> Any:  # noqa: N802
        if resource.IResource in interfaces:
            return resource.IResource, self.root, lambda: None
        raise NotImplementedError()


def protect(root: resource.IResource, config: ServerConfig) -> resource.IResource:
    """Wrap ``root`` in basic auth when the server has credentials."""
    if config.username is None or config.password is None:
        return root
    checker = PasswordChecker(config.username, config.password)
    auth_portal = portal.Portal(RootRealm(root), [checker])
    return guard.HTTPAuthSessionWrapper(auth_portal, [guard.BasicCredentialFactory(b"default")])


class QuietSite(server.Site):
    """A site that keeps no access log (the main log is for lifecycle lines)."""

    noisy = False

    def log(self, request: Any) -> None:
        """Drop access-log lines."""


def _unix_in_use(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def listen(reactor: Any, config: ServerConfig, root: resource.IResource) -> IListeningPort:
    """Start one server; raise ServerStartError with supervisord's wording."""
    site = QuietSite(protect(root, config))
    site.displayTracebacks = False
    if config.username is None:
        log.critical(
            "Server {name!r} running without any HTTP authentication checking",
            name=config.section,
        )
    if config.kind == "unix":
        assert config.file is not None
        if os.path.exists(config.file):
            if _unix_in_use(config.file):
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
    try:
        return reactor.listenTCP(config.port, site, backlog=1024, interface=config.host)  # type: ignore[no-any-return]
    except Exception:
        raise ServerStartError(IN_USE) from None
