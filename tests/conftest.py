"""Shared test set-up: a deterministic Hypothesis profile, and the reliability layer's
count of cases tried per target, summed over pytest-xdist workers."""

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from tests.reliability.conftest import CASES, FIGURES

settings.register_profile(
    "ci",
    derandomize=True,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")


def pytest_configure(config: Any) -> None:
    # Workers (pytest-xdist) inherit this and leave their counts there for the summary.
    if "SUPERVISE_CASES_DIR" not in os.environ:
        os.environ["SUPERVISE_CASES_DIR"] = tempfile.mkdtemp(prefix="supervise-cases-")


def pytest_sessionfinish(session: Any) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and (CASES or FIGURES):
        path = Path(os.environ["SUPERVISE_CASES_DIR"]) / f"{worker}.json"
        path.write_text(json.dumps({"cases": CASES, "figures": FIGURES}))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    total: Counter[str] = Counter(CASES)
    figures = dict(FIGURES)
    for path in Path(os.environ.get("SUPERVISE_CASES_DIR", "/nonexistent")).glob("*.json"):
        found = json.loads(path.read_text())
        total.update(found["cases"])
        figures.update(found["figures"])
    if total:
        terminalreporter.section("reliability: cases tried per target")
        for target, count in sorted(total.items()):
            terminalreporter.write_line(f"{target}: {count}")
    for name, sentence in sorted(figures.items()):
        terminalreporter.write_line(f"{name}: {sentence}")
    out = os.environ.get("SUPERVISE_FIGURES_OUT")
    if out:  # tests/reliability/report.py turns this into docs/reliability.md's figures
        Path(out).write_text(
            json.dumps({"cases": total, "figures": figures, "passed": exitstatus == 0})
        )
