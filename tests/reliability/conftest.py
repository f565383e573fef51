"""The reliability layer: fuzzing, faults and load (docs/reliability.md).

Quick by default (what CI runs); ``SUPERVISE_FULL=1`` runs the full form (many more
cases, longer runs). Every test records how many cases it tried; the counts are printed
at the end of the run.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

FULL = bool(os.environ.get("SUPERVISE_FULL"))
CASES: Counter[str] = Counter()
#: Measured figures (name → sentence) for docs/reliability.md, written by report.py.
FIGURES: dict[str, str] = {}


def scale(quick: int, full: int) -> int:
    """How many cases or seconds: ``quick`` in CI, ``full`` with SUPERVISE_FULL=1."""
    return full if FULL else quick


@pytest.fixture
def count() -> Any:
    def add(target: str, n: int = 1) -> None:
        CASES[target] += n

    return add
