"""``rlimit_*``: per-program resource limits, set in the child before it execs.

A value is ``SOFT`` (the hard limit stays the daemon's) or ``SOFT:HARD``; each part is a
number, ``unlimited``, or for byte limits a size such as ``64MB``. The child is set up
after it drops to its ``user``, so it cannot raise a hard limit: a value above the
daemon's hard limit is a configuration error.
"""

from __future__ import annotations

import resource
from collections.abc import Callable

from supervise.config import values

#: option suffix → whether its values are byte sizes.
LIMITS = {
    "nofile": False,
    "nproc": False,
    "core": True,
    "memlock": True,
    "stack": True,
    "as": True,
}
OPTIONS = frozenset(f"rlimit_{name}" for name in LIMITS)
INFINITY = resource.RLIM_INFINITY

#: One limit: ``(name, soft, hard)``; ``hard`` None keeps the inherited hard limit.
Limit = tuple[str, int, int | None]


def resource_id(name: str) -> int:
    """The ``resource.RLIMIT_*`` constant of ``name`` (``nofile`` → RLIMIT_NOFILE)."""
    return int(getattr(resource, f"RLIMIT_{name.upper()}"))


def _amount(text: str, sizes: bool) -> int:
    value = text.strip().lower()
    if value in ("unlimited", "infinity"):
        return INFINITY
    number = values.byte_size(value) if sizes else int(value)
    if number < 0:
        raise ValueError(f"{text!r} is negative")
    return number


def _above(value: int, limit: int) -> bool:
    if limit == INFINITY:
        return False
    return value == INFINITY or value > limit


def _show(value: int) -> str:
    return "unlimited" if value == INFINITY else str(value)


def parser(name: str, hard_limit: Callable[[int], int]) -> Callable[[str], Limit]:
    """A parser of ``rlimit_<name>`` values, checked against ``hard_limit(resource)``."""
    sizes = LIMITS[name]

    def parse(text: str) -> Limit:
        soft_text, colon, hard_text = text.partition(":")
        try:
            soft = _amount(soft_text, sizes)
            hard = _amount(hard_text, sizes) if colon else None
        except ValueError:
            unit = "a size such as 64MB" if sizes else "a number"
            raise ValueError(
                f"{text!r} is not SOFT or SOFT:HARD (each {unit} or unlimited)"
            ) from None
        if hard is not None and _above(soft, hard):
            raise ValueError(f"{text!r}: the soft limit is above the hard limit")
        ceiling = hard_limit(resource_id(name))
        for value in (soft, hard):
            if value is not None and _above(value, ceiling):
                raise ValueError(
                    f"rlimit_{name} = {text!r} is above the daemon's hard limit ({_show(ceiling)}), which "
                    "a child cannot raise"
                )
        return (name, soft, hard)

    return parse


def daemon_hard_limit(which: int) -> int:
    """The daemon's own hard limit of resource ``which``."""
    return resource.getrlimit(which)[1]
