"""Shared test set-up: a deterministic Hypothesis profile, the reliability layer's count
of cases tried per target summed over pytest-xdist workers, and the session's check that
no process a test started outlives the run (tests/leftovers.py)."""

import json
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from tests import leftovers
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
    # Every process a test starts inherits this mark (workers too): the session's own.
    os.environ.setdefault(leftovers.MARK, uuid.uuid4().hex)
    # Workers (pytest-xdist) inherit this and leave their counts there for the summary.
    if "SUPERVISE_CASES_DIR" not in os.environ:
        os.environ["SUPERVISE_CASES_DIR"] = tempfile.mkdtemp(prefix="supervise-cases-")


def pytest_sessionfinish(session: Any) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and (CASES or FIGURES):
        path = Path(os.environ["SUPERVISE_CASES_DIR"]) / f"{worker}.json"
        path.write_text(json.dumps({"cases": CASES, "figures": FIGURES}))
    if worker:
        # Only its own descendants: the other workers' tests may still be running.
        found = leftovers.leftovers(None)
        leftovers.kill(sorted(found))
        path = Path(os.environ["SUPERVISE_CASES_DIR"]) / f"leftovers-{worker}.json"
        path.write_text(json.dumps(found))
    else:
        _fail_on_leftovers(session)


def _fail_on_leftovers(session: Any) -> None:
    """Fail the run when a process a test started outlives it; name each, then kill it."""
    found = leftovers.leftovers(os.environ[leftovers.MARK])
    leftovers.kill(sorted(found))
    for path in Path(os.environ["SUPERVISE_CASES_DIR"]).glob("leftovers-*.json"):
        found.update({int(pid): command for pid, command in json.loads(path.read_text()).items()})
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(found)} process(es) started by the tests outlived the session:"]
    lines += [f"  pid {pid}: {command}" for pid, command in sorted(found.items())]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", "processes left behind", red=True)
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    total: Counter[str] = Counter(CASES)
    figures = dict(FIGURES)
    for path in Path(os.environ.get("SUPERVISE_CASES_DIR", "/nonexistent")).glob("gw*.json"):
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
