"""Cross-site request guard for the console's POSTs (the node's and the cluster's).

A POST must carry the page's token in ``X-Supervise-Token`` (a header a cross-site form
cannot set, and that a cross-site script cannot read from the page), and when the
browser names an ``Origin`` it must be this server's own. Credentials (basic auth on
the site) are checked before any of this, by twisted.cred.
"""

from __future__ import annotations

import base64
import os
from urllib.parse import urlsplit

from twisted.web.iweb import IRequest

TOKEN_HEADER = b"x-supervise-token"


def new_token() -> str:
    """A fresh token for one daemon run (``secrets.token_urlsafe(24)``'s recipe: the
    ``secrets`` module would load OpenSSL's libcrypto through ``hmac``, 3 MiB)."""
    return base64.urlsafe_b64encode(os.urandom(24)).rstrip(b"=").decode("ascii")


def refusal(request: IRequest, token: str) -> str | None:
    """Why this POST must be refused, or None when it may proceed."""
    origin = request.getHeader(b"origin")
    if origin is not None and origin != b"null":
        host = request.getHeader(b"host") or b""
        if urlsplit(origin.decode("latin-1")).netloc.encode("latin-1") != host:
            return "cross-site request refused: Origin does not match this server"
    elif origin == b"null":
        return "cross-site request refused: opaque Origin"
    given = request.getHeader(TOKEN_HEADER) or b""
    import hmac  # on the first POST, not at start-up (see new_token)

    if not hmac.compare_digest(given, token.encode()):
        return "cross-site request refused: missing or wrong X-Supervise-Token"
    return None
