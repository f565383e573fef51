"""Equal frozen config values kept once: a program's log channels and supervise extras
are usually equal to every other program's, so each distinct value is built into the
model once, whatever the number of programs (about 1 KiB a program otherwise).

Held weakly: a value no program uses any more (after a reload) goes with the last one.
"""

from __future__ import annotations

from typing import TypeVar
from weakref import WeakValueDictionary

T = TypeVar("T")

_kept: WeakValueDictionary[object, object] = WeakValueDictionary()


def shared(value: T) -> T:
    """The kept value equal to ``value`` (``value`` itself, kept, if none is)."""
    try:
        found = _kept.setdefault(value, value)
    except TypeError:  # unhashable or not weakly referable: nothing to share
        return value
    return found  # type: ignore[return-value]
