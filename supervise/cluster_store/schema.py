"""Key names and the shape of what the cluster keeps in Redis (docs/cluster.md, "Redis layout").

Definition keys carry the ``{prefix}`` hash tag so a push is one atomic script even on
Redis Cluster. A revision is a hash: each section's INI text under its section name, and
``_digest``, ``_signature``, ``_author``, ``_message``, ``_time`` beside them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from attrs import field, frozen

META = ("_digest", "_signature", "_author", "_message", "_time")
SECTION_KINDS = ("program:", "group:", "eventlistener:", "fcgi-program:")
REVISIONS_KEPT = 50
AUDIT_MAXLEN = 10000


@frozen
class Keys:
    """Every key of one cluster (``prefix``, ``sv`` by default)."""

    prefix: str = "sv"

    @property
    def head(self) -> str:
        return f"{{{self.prefix}}}:head"

    def revision(self, number: int) -> str:
        return f"{{{self.prefix}}}:rev:{number}"

    @property
    def revision_base(self) -> str:
        return f"{{{self.prefix}}}:rev:"

    @property
    def revlog(self) -> str:
        return f"{{{self.prefix}}}:revlog"

    @property
    def nodes(self) -> str:
        return f"{self.prefix}:nodes"

    def node(self, name: str) -> str:
        return f"{self.prefix}:node:{name}"

    def state(self, name: str) -> str:
        return f"{self.prefix}:state:{name}"

    @property
    def events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def audit(self) -> str:
        return f"{self.prefix}:audit"

    def commands(self, name: str) -> str:
        return f"{self.prefix}:cmd:{name}"

    def result(self, command_id: str) -> str:
        return f"{self.prefix}:res:{command_id}"

    def log(self, node: str, namespec: str, channel: str) -> str:
        return f"{self.prefix}:log:{node}:{namespec}:{channel}"

    @property
    def rollout(self) -> str:
        return f"{{{self.prefix}}}:rollout"

    @property
    def rollout_asks(self) -> str:
        return f"{{{self.prefix}}}:rollout:asks"

    @property
    def rollout_driver(self) -> str:
        return f"{{{self.prefix}}}:rollout:driver"

    @property
    def drained(self) -> str:
        return f"{self.prefix}:drained"


@frozen
class Revision:
    """One immutable set of definitions."""

    number: int
    sections: Mapping[str, str]
    author: str = ""
    message: str = ""
    time: float = 0.0
    signature: str = ""
    digest: str = field(default="")

    def fields(self) -> list[str]:
        """The revision hash's fields and values, flat (for HSET)."""
        flat: list[str] = []
        for name, text in sorted(self.sections.items()):
            flat += [name, text]
        flat += ["_digest", self.digest or digest(self.sections), "_signature", self.signature]
        flat += ["_author", self.author, "_message", self.message, "_time", repr(self.time)]
        return flat

    @classmethod
    def from_hash(cls, number: int, values: Mapping[str, str]) -> Revision:
        """Read a revision hash back."""
        sections = {k: v for k, v in values.items() if not k.startswith("_")}
        return cls(
            number=number,
            sections=sections,
            author=values.get("_author", ""),
            message=values.get("_message", ""),
            time=float(values.get("_time", "0") or 0),
            signature=values.get("_signature", ""),
            digest=values.get("_digest", "") or digest(sections),
        )


def digest(sections: Mapping[str, str]) -> str:
    """A stable SHA-256 of a set of sections."""
    canonical = json.dumps(sorted(sections.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign(key: bytes, sections: Mapping[str, str]) -> str:
    """HMAC-SHA256 of the digest: what a node with ``signing_key_file`` checks."""
    return hmac.new(key, digest(sections).encode(), hashlib.sha256).hexdigest()


def signed_by(key: bytes, revision: Revision) -> bool:
    """True when the revision carries a valid signature for ``key``."""
    return bool(revision.signature) and hmac.compare_digest(
        revision.signature, sign(key, revision.sections)
    )


def pairs(flat: list[str] | None) -> dict[str, str]:
    """A flat ``[k, v, k, v …]`` reply as a dict."""
    flat = flat or []
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


# Push one revision atomically: next number, the hash, the log entry, old ones trimmed.
# KEYS: head, revlog. ARGV: revision key base, kept, author, message, digest, then fields.
PUSH_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
local key = ARGV[1] .. n
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', key, unpack(fields))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', 'rev', n, 'author', ARGV[3],
           'message', ARGV[4], 'digest', ARGV[5])
local old = n - tonumber(ARGV[2])
if old > 0 then redis.call('DEL', ARGV[1] .. old) end
return n
"""

# Raise the head to at least a floor (the highest revision a node reports running), so a
# Redis that lost its history never hands out a number already used. KEYS: head.
# ARGV: floor. Returns the head.
HEAD_FLOOR_SCRIPT = """
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if head < floor then
  redis.call('SET', KEYS[1], floor)
  return floor
end
return head
"""

# Heartbeat by Redis's own clock. KEYS: nodes. ARGV: node. Returns the time in ms.
HEARTBEAT_SCRIPT = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[1])
return ms
"""

# Replace a node's whole state hash. KEYS: state. ARGV: field, value pairs.
SNAPSHOT_SCRIPT = """
redis.call('DEL', KEYS[1])
for i = 1, #ARGV, 1000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return #ARGV / 2
"""

TIME_SCRIPT = """
local t = redis.call('TIME')
return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
