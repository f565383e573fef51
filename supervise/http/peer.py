"""Who is asking, and from where: for the audit trail of every HTTP door."""

from __future__ import annotations

import pwd
import socket
import struct

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.web.iweb import IRequest

USER_AGENT_DOORS = (("supervisectl", "supervisectl"),)


def caller(request: IRequest) -> tuple[str, str]:
    """``(who, where)``: the basic-auth user (else the unix peer's uid, else
    ``anonymous``) and the peer address (or the unix socket)."""
    user = request.getUser()
    who = user.decode("utf-8", "replace") if user else ""
    address = request.getClientAddress()
    if isinstance(address, IPv4Address | IPv6Address):
        return who or "anonymous", f"{address.host}:{address.port}"
    if isinstance(address, UNIXAddress):
        host = request.getHost()
        path = getattr(host, "name", None) or b"?"
        where = "unix socket " + (path.decode() if isinstance(path, bytes) else str(path))
        return who or unix_peer(request) or "anonymous", where
    return who or "anonymous", str(address)


def unix_peer(request: IRequest) -> str:
    """``uid N (name)`` of the process at the other end of a unix socket, if known."""
    channel = getattr(request, "channel", None)
    transport = getattr(channel, "transport", None)
    handle = getattr(transport, "getHandle", lambda: None)()
    if not isinstance(handle, socket.socket):
        return ""
    try:
        raw = handle.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return ""
    _pid, uid, _gid = struct.unpack("3i", raw)
    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def door_of(request: IRequest, default: str) -> str:
    """The client program by its User-Agent (supervisectl), else ``default``."""
    agent = (request.getHeader(b"user-agent") or b"").decode("latin-1").lower()
    for word, door in USER_AGENT_DOORS:
        if word in agent:
            return door
    return default
