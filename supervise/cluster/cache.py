"""The last revision a node applied, on local disk: a node restarted while Redis is down
still runs its cluster programs."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from attrs import field, frozen
from twisted.logger import Logger

log = Logger()


@frozen
class Applied:
    """The revision a node runs and the sections of it placed on this node."""

    number: int = 0
    sections: Mapping[str, str] = field(factory=dict)
    digest: str = ""
    floating: tuple[str, ...] = ()  # sections run as copies of a ``count =`` definition

    def steady(self) -> dict[str, str]:
        """The sections without the ``count =`` copies (what runs without a live lease)."""
        return {k: v for k, v in self.sections.items() if k not in self.floating}


def load_applied(path: str) -> Applied:
    """The cached revision, or revision 0 (nothing) when there is none or it is unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return Applied(
            int(data["revision"]),
            dict(data["sections"]),
            str(data.get("digest", "")),
            tuple(data.get("floating", ())),
        )
    except FileNotFoundError:
        return Applied()
    except (OSError, ValueError, KeyError, TypeError) as problem:
        log.warn(
            "cluster: ignoring the unreadable cache {path}: {problem}", path=path, problem=problem
        )
        return Applied()


def save_applied(path: str, applied: Applied) -> None:
    """Write the cache atomically (a crash leaves the old or the new file, never half)."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "revision": applied.number,
                "sections": dict(applied.sections),
                "digest": applied.digest,
                "floating": list(applied.floating),
            },
            handle,
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
