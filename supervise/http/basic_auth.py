"""HTTP basic auth for a server with credentials (realm ``default``), through
``twisted.cred``: clear or ``{SHA}`` passwords, each user given the resource tree of
their role. Imported only when a server has a username (it loads OpenSSL's libcrypto,
through ``hmac`` and ``hashlib``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from twisted.cred import credentials, error, portal
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer
from twisted.web import resource
from zope.interface import implementer


def password_matches(given: str, stored: str) -> bool:
    """Compare a clear password with a stored clear or ``{SHA}hex`` one, in constant time."""
    if stored.startswith("{SHA}"):
        return hmac.compare_digest(hashlib.sha1(given.encode()).hexdigest(), stored[5:])
    return hmac.compare_digest(given, stored)


@implementer(ICredentialsChecker)
class UsersChecker:
    """Checks a username and password against a table; the avatar id is ``role:name``."""

    credentialInterfaces = (credentials.IUsernamePassword,)  # noqa: N815 - Twisted's name

    def __init__(self, users: Mapping[str, tuple[str, str]]) -> None:
        self.users = dict(users)

    def requestAvatarId(self, creds: Any) -> defer.Deferred[bytes | tuple[()]]:  # noqa: N802 - Twisted's name
        name = creds.username.decode("utf-8", "replace")
        found = self.users.get(name)
        if found is not None and password_matches(
            creds.password.decode("utf-8", "replace"), found[0]
        ):
            return defer.succeed(f"{found[1]}:{name}".encode())
        return defer.fail(error.UnauthorizedLogin())


@implementer(portal.IRealm)
class RoleRealm:
    """Gives each authenticated user the resource tree of their role."""

    def __init__(self, tree_for: Callable[[str], resource.IResource]) -> None:
        self.tree_for = tree_for

    def requestAvatar(self, avatar_id: Any, mind: Any, *interfaces: Any) -> Any:  # noqa: N802
        if resource.IResource in interfaces:
            avatar = avatar_id.decode("utf-8", "replace")
            return resource.IResource, self.tree_for(avatar), lambda: None
        raise NotImplementedError()


def guarded(
    users: Mapping[str, tuple[str, str]], tree_for: Callable[[str], resource.IResource]
) -> resource.IResource:
    """Basic auth (realm ``default``) over ``users``; ``tree_for("role:name")`` gives
    each user the resource tree of their role."""
    # twisted.web.guard imports twisted.web.template, and through it xml.sax,
    # urllib.request and ssl (6 MiB): loaded when a request first needs it.
    from twisted.web import guard

    auth_portal = portal.Portal(RoleRealm(tree_for), [UsersChecker(users)])
    wrapper: resource.IResource = guard.HTTPAuthSessionWrapper(
        auth_portal, [guard.BasicCredentialFactory(b"default")]
    )
    return wrapper
