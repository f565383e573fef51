"""Where the copies of a ``count =`` definition run: the same answer on every node.

A definition with ``count = N`` runs N copies over the nodes its ``placement`` matches,
at most ``per_node`` (1) on each, instead of one on every matching node. The nodes are
ranked by rendezvous hashing (highest SHA-256 of section and node name first) over the
candidates that are alive (heartbeat younger than ``reschedule_after``) and not drained;
copies go round-robin down that ranking. Every node computes the same assignment from
what Redis says, so no coordinator is needed, and a node that dies moves only its own
copies (the others keep their rank).
"""

from __future__ import annotations

import configparser
import hashlib
from collections.abc import Callable, Iterable, Mapping

from attrs import frozen

from supervise.config.cluster import positive_seconds
from supervise.config.values import integer, list_of_strings

FLOATING_OPTIONS = ("count", "per_node", "reschedule_after")
CLUSTER_OPTIONS = ("placement", *FLOATING_OPTIONS)
DEFAULT_RESCHEDULE_AFTER = 30.0


class BadPlacement(ValueError):
    """A ``count``/``per_node``/``reschedule_after`` value that cannot be used."""


@frozen
class Floating:
    """The placement options of one ``count =`` definition."""

    count: int
    per_node: int = 1
    reschedule_after: float = DEFAULT_RESCHEDULE_AFTER


@frozen
class Candidate:
    """A node as placement sees it: its labels, heartbeat age (s) and drain flag."""

    name: str
    labels: tuple[str, ...] = ()
    age: float = 0.0
    drained: bool = False

    def matches(self, placement: Iterable[str]) -> bool:
        return bool({self.name, *self.labels, "*"} & set(placement))


def section_options(text: str) -> tuple[str, dict[str, str]]:
    """A section's name and raw options (no interpolation)."""
    parser = configparser.RawConfigParser(
        inline_comment_prefixes=(";", "#"), strict=False, interpolation=None
    )
    parser.read_string(text)
    [name] = parser.sections()
    return name, {k: v if v is not None else "" for k, v in parser.items(name)}


def floating(options: Mapping[str, str]) -> Floating | None:
    """The ``count`` options of a section (None without ``count``); BadPlacement if wrong."""
    if not options.get("count", "").strip():
        for option in ("per_node", "reschedule_after"):
            if options.get(option, "").strip():
                raise BadPlacement(f"option {option} needs count = N beside it")
        return None
    count = _option(options, "count", _positive_integer, "1")
    per_node = _option(options, "per_node", _positive_integer, "1")
    after = _option(options, "reschedule_after", positive_seconds, str(DEFAULT_RESCHEDULE_AFTER))
    if options.get("numprocs", "1").strip() not in ("", "1"):
        raise BadPlacement("option numprocs cannot be combined with count (use per_node)")
    return Floating(int(count), int(per_node), float(after))


def _positive_integer(text: str) -> int:
    number = integer(text)
    if number <= 0:
        raise ValueError(f"{text!r} must be above zero")
    return number


def _option(
    options: Mapping[str, str], name: str, parse: Callable[[str], float], default: str
) -> float:
    try:
        return parse(options.get(name, "").strip() or default)
    except ValueError as problem:
        raise BadPlacement(f"option {name}: {problem}") from None


def rank(section: str, nodes: Iterable[str]) -> list[str]:
    """``nodes`` in rendezvous order for ``section`` (the same on every machine)."""

    def weight(node: str) -> bytes:
        return hashlib.sha256(f"{section}\0{node}".encode()).digest()

    return sorted(nodes, key=weight, reverse=True)


def assign(
    section: str, spec: Floating, placement: Iterable[str], candidates: Iterable[Candidate]
) -> dict[str, int]:
    """How many copies of ``section`` each live, undrained, matching node runs."""
    wanted = list(placement)
    live = [
        c.name
        for c in candidates
        if c.matches(wanted) and not c.drained and c.age <= spec.reschedule_after
    ]
    ranked = rank(section, live)
    if not ranked:
        return {}
    total = min(spec.count, spec.per_node * len(ranked))
    copies: dict[str, int] = {}
    for index in range(total):
        node = ranked[index % len(ranked)]
        copies[node] = copies.get(node, 0) + 1
    return copies


def copies_on(
    node: str, sections: Mapping[str, str], candidates: Iterable[Candidate]
) -> dict[str, int]:
    """For every ``count =`` section of a revision: the copies ``node`` runs (maybe 0)."""
    pool = list(candidates)
    found = {}
    for name, text in sections.items():
        _, options = section_options(text)
        try:
            spec = floating(options)
        except BadPlacement:
            continue  # refused at push; a hand-written revision runs nowhere
        if spec is not None:
            placed = list_of_strings(options.get("placement", ""))
            found[name] = assign(name, spec, placed, pool).get(node, 0)
    return found
