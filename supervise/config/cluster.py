"""The ``[cluster]`` section: Redis, this node's name and labels, the console, the allow-list."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from supervise.config import values
from supervise.config.ini import RawConfig
from supervise.config.model import ClusterConfig, ConsoleUser, RedisAddress
from supervise.config.section import SectionReader

CLUSTER_OPTIONS = frozenset(
    {
        "redis", "sentinels", "sentinel_service", "username", "password", "tls_ca",
        "node", "labels", "prefix", "console", "viewers", "operators", "admins",
        "allow_users", "allow_directories", "allow_commands", "signing_key_file",
        "heartbeat", "unreachable_after", "command_timeout", "events_maxlen", "cache",
    }
)  # fmt: skip


def redis_url(text: str) -> RedisAddress:
    """``redis://[user:password@]host[:port][/db]``, or ``rediss://`` for TLS."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"{text!r} is not a redis:// or rediss:// URL")
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host")
    path = parts.path.strip("/")
    try:
        db = int(path) if path else 0
        port = parts.port or 6379
    except ValueError:
        raise ValueError(f"{text!r}: bad port or database number") from None
    return RedisAddress(
        host=parts.hostname,
        port=port,
        db=db,
        tls=parts.scheme == "rediss",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def host_ports(text: str) -> tuple[tuple[str, int], ...]:
    """A comma list of ``host:port``."""
    found = []
    for item in values.list_of_strings(text):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{item!r} is not host:port")
        found.append((host, int(port)))
    if not found:
        raise ValueError("no Sentinel addresses given")
    return tuple(found)


def users(text: str, role: str) -> tuple[ConsoleUser, ...]:
    """A comma list of ``name:password`` (``{SHA}hex`` passwords as for the HTTP servers)."""
    found = []
    for item in values.list_of_strings(text):
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            raise ValueError(f"{item!r} is not name:password")
        found.append(ConsoleUser(name, password, role))
    return tuple(found)


def positive_seconds(text: str) -> float:
    """A number of seconds above zero."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if number <= 0:
        raise ValueError(f"{text!r} must be above zero")
    return number


def build_cluster(
    raw: RawConfig, env_names: Mapping[str, object], pidfile: str
) -> ClusterConfig | None:
    """Build ``[cluster]`` if the configuration has one."""
    if "cluster" not in raw.sections:
        return None
    section = SectionReader(raw, "cluster", {"here": raw.here, **env_names})
    section.warn_unknown(CLUSTER_OPTIONS)
    url = section.text("redis", None)
    sentinels = section.optional("sentinels", host_ports)
    if url is None and sentinels is None:
        raise section.error("[cluster] needs redis = redis://host:port or sentinels = host:port,…")
    address = section.convert("redis", url, redis_url) if url else RedisAddress()
    username = section.text("username", None) or address.username
    password = section.text("password", None) or address.password
    tls_ca = section.text("tls_ca", None)
    if tls_ca is not None and not os.path.exists(tls_ca):
        raise section.error(f"no such file {tls_ca!r}", "tls_ca")
    address = RedisAddress(
        host=address.host,
        port=address.port,
        db=address.db,
        tls=address.tls or tls_ca is not None,
        tls_ca=tls_ca,
        username=username,
        password=password,
        sentinels=sentinels or (),
        sentinel_service=section.text("sentinel_service", "mymaster") or "mymaster",
    )
    node = (section.text("node", None) or socket.gethostname()).strip()
    if not node or any(c in node for c in " :{}*"):
        raise section.error(
            f"node name {node!r} may not be empty or contain spaces, ':' or braces", "node"
        )
    key_file = section.text("signing_key_file", None)
    signing_key = None
    if key_file is not None:
        try:
            with open(key_file, "rb") as handle:
                signing_key = handle.read().strip()
        except OSError as problem:
            raise section.error(
                f"cannot read the signing key: {problem}", "signing_key_file"
            ) from None
        if not signing_key:
            raise section.error("the signing key file is empty", "signing_key_file")
    directories = section.parse("allow_directories", "", values.list_of_strings)
    for directory in directories:
        if not os.path.isabs(directory):
            raise section.error(f"{directory!r} is not an absolute path", "allow_directories")
    return ClusterConfig(
        redis=address,
        node=node,
        labels=section.parse("labels", "", values.list_of_strings),
        prefix=section.text("prefix", "sv") or "sv",
        console=section.parse("console", "false", values.boolean),
        users=section.parse("viewers", "", lambda t: users(t, "viewer"))
        + section.parse("operators", "", lambda t: users(t, "operator"))
        + section.parse("admins", "", lambda t: users(t, "admin")),
        allow_users=section.parse("allow_users", "", values.list_of_strings),
        allow_directories=tuple(os.path.normpath(d) for d in directories),
        allow_commands=section.parse("allow_commands", "", values.list_of_strings),
        signing_key=signing_key,
        heartbeat=section.parse("heartbeat", "2", positive_seconds),
        unreachable_after=section.parse("unreachable_after", "10", positive_seconds),
        command_timeout=section.parse("command_timeout", "10", positive_seconds),
        events_maxlen=section.parse("events_maxlen", "10000", values.integer),
        cache=section.text("cache", None) or f"{pidfile}.cluster",
    )
