"""Log tails for the cluster console: copied into Redis only while someone watches.

A console asks the owning node (a ``tail`` command) and renews the request while its
viewer stays; the node copies the file's last bytes, then every new chunk, into a
capped, expiring stream, and stops when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define, field
from twisted.internet.interfaces import IDelayedCall

from supervise.cluster_store.link import RedisLink
from supervise.cluster_store.schema import Keys
from supervise.errors import BadName, NoFile
from supervise.interfaces import ISupervisorControl

LEASE = 30.0
STREAM_LENGTH = 2000
FIRST_BYTES = 4096


@define(eq=False)
class Forwarding:
    """One channel being copied into one stream."""

    key: str
    expiry: IDelayedCall | None = None
    pending: list[bytes] = field(factory=list)
    flush: IDelayedCall | None = None
    unfollow: Callable[[], None] | None = None


class TailForwarder:
    """The node's side of remote tails."""

    def __init__(
        self, link: RedisLink, keys: Keys, node: str, control: ISupervisorControl, reactor: Any
    ) -> None:
        self.link = link
        self.keys = keys
        self.node = node
        self.control = control
        self.reactor = reactor
        self.active: dict[str, Forwarding] = {}

    def want(self, name: str, channel_name: str) -> dict[str, Any]:
        """Start (or renew) copying ``name``'s channel; answer the stream's key."""
        if channel_name not in ("stdout", "stderr"):
            return {"error": f"no channel {channel_name!r}: stdout or stderr"}
        try:
            namespec = self.control.snapshot(name).namespec
        except BadName:
            return {"error": f"no such process {name!r} on {self.node}"}
        key = self.keys.log(self.node, namespec, channel_name)
        forwarding = self.active.get(key)
        if forwarding is None:
            forwarding = Forwarding(key)
            try:
                forwarding.unfollow = self.control.follow_log(
                    name, channel_name, lambda data: self._chunk(forwarding, data), FIRST_BYTES
                )
            except NoFile:
                return {"error": f"{name} has no {channel_name} log file"}
            self.active[key] = forwarding
        if forwarding.expiry is not None and forwarding.expiry.active():
            forwarding.expiry.reset(LEASE)
        else:
            forwarding.expiry = self.reactor.callLater(LEASE, self._end, key)
        return {"stream": key, "lease": LEASE}

    def _chunk(self, forwarding: Forwarding, data: bytes) -> None:
        forwarding.pending.append(data)
        self._schedule(forwarding)

    def _schedule(self, forwarding: Forwarding) -> None:
        if forwarding.flush is None:
            forwarding.flush = self.reactor.callLater(0, self._flush, forwarding)

    def _flush(self, forwarding: Forwarding) -> None:
        forwarding.flush = None
        data, forwarding.pending = b"".join(forwarding.pending), []
        if not data or not self.link.up:
            return
        text = data.decode("utf-8", "replace")
        self.link.execute(
            "XADD", forwarding.key, "MAXLEN", "~", STREAM_LENGTH, "*", "data", text
        ).addErrback(lambda f: None)
        self.link.execute("EXPIRE", forwarding.key, int(LEASE * 2)).addErrback(lambda f: None)

    def _end(self, key: str) -> None:
        forwarding = self.active.pop(key, None)
        if forwarding is None:
            return
        if forwarding.unfollow is not None:
            forwarding.unfollow()

    def stop(self) -> None:
        """Stop every forwarding."""
        for key in list(self.active):
            forwarding = self.active[key]
            if forwarding.expiry is not None and forwarding.expiry.active():
                forwarding.expiry.cancel()
            self._end(key)
