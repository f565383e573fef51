"""Layer 4: ``supervisectl --json`` for every command against the real daemon, each
document validated against its schema in docs/schemas (the rule of
tests/ctl/test_command_rules.py, checked on real output)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from supervise.ctl.commands import COMMANDS
from supervise.testing import wait_until
from tests.e2e.conftest import Daemon
from tests.e2e.test_supervisectl import ctl

pytestmark = pytest.mark.e2e

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

PROGRAMS = """
[program:web]
command = sleep 300
startsecs = 0
[program:worker]
command = sleep 300
process_name = %(program_name)s_%(process_num)s
numprocs = 2
startsecs = 0
"""
EXTRA = """
[program:extra]
command = sleep 300
startsecs = 0
autostart = false
"""

#: Each command's invocation, in this order (the last three restart or stop the daemon).
#: A command added to supervisectl gets its line here.
INVOCATIONS: list[tuple[str, list[str]]] = [
    ("status", ["status"]),
    ("pid", ["pid", "web"]),
    ("avail", ["avail"]),
    ("version", ["version"]),
    ("wait", ["wait", "--timeout", "10", "web"]),
    ("stop", ["stop", "web"]),
    ("start", ["start", "web"]),
    ("restart", ["restart", "--rolling", "worker:*"]),
    ("signal", ["signal", "HUP", "worker:*"]),
    ("scale", ["scale", "worker", "3"]),
    ("disable", ["disable", "web"]),
    ("enable", ["enable", "web"]),
    ("clear", ["clear", "web"]),
    ("audit", ["audit", "-n", "1"]),  # JSON lines: one record, the clear above
    ("tail", ["tail", "-100", "web", "stderr"]),
    ("maintail", ["maintail", "-200"]),
    ("reread", ["reread"]),
    ("update", ["update"]),
    ("remove", ["remove", "extra"]),
    ("add", ["add", "extra"]),
    ("reexec", ["reexec"]),
    ("reload", ["reload"]),
    ("top", ["top"]),  # a screen: --json is refused with the error document
    ("shutdown", ["shutdown"]),
]


def validate(name: str, stdout: str) -> object:
    document = json.loads(stdout)
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    Draft202012Validator(schema).validate(document)
    return document


def test_every_command_has_an_invocation_here() -> None:
    missing = sorted(set(COMMANDS) - {name for name, _ in INVOCATIONS})
    assert not missing, f"add each to INVOCATIONS in {__file__}: {missing}"


def test_every_command_prints_json_its_schema_describes(daemon: Daemon) -> None:
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    for name, words in INVOCATIONS:
        if name == "reread":
            daemon.write(PROGRAMS + EXTRA)
        if name == "remove":
            rpc.supervisor.stopProcessGroup("extra", True)
        done = ctl(daemon, "--json", *words)
        expected = (2,) if name == "top" else (0, 3)
        assert done.returncode in expected, f"{words}: {done.stdout}{done.stderr}"
        document = validate(name, done.stdout)
        if name == "update":
            assert document == [{"name": "extra", "action": "added", "ok": True, "error": None}]
        if name == "restart":
            assert [r["name"] for r in document] == ["worker:worker_0", "worker:worker_1"]
        if name in ("reexec", "reload"):
            wait_until(lambda: answers(daemon), timeout=30)
    assert daemon.process is not None
    assert daemon.process.wait(30) == 0


def answers(daemon: Daemon) -> bool:
    try:
        return bool(daemon.rpc().supervisor.getState()["statename"] == "RUNNING")
    except OSError:
        return False


def test_failures_print_the_error_document(daemon: Daemon) -> None:
    daemon.start(PROGRAMS)
    missing = ctl(daemon, "--json", "tail", "nosuch")
    assert missing.returncode == 1
    assert validate("error", missing.stdout) == {
        "error": {"code": 10, "message": "no such process"}
    }
    halted = ctl(daemon, "--json", "add", "nosuch")
    assert (halted.returncode, validate("add", halted.stdout)[0]["ok"]) == (1, False)  # type: ignore[index]


def test_tail_follow_prints_one_json_line_per_chunk(daemon: Daemon) -> None:
    daemon.start(
        """
        [program:talker]
        command = sh -c 'echo hello; exec sleep 300'
        startsecs = 0
        """
    )
    follow = subprocess.Popen(
        [*ctl_command(daemon), "--json", "tail", "-f", "talker"],
        stdout=subprocess.PIPE, text=True, env=daemon.env(),
    )  # fmt: skip
    try:
        assert follow.stdout is not None
        line = follow.stdout.readline()
    finally:
        follow.terminate()
        follow.wait(30)
    assert validate("tail", line) == {"name": "talker", "channel": "stdout", "text": "hello\n"}


def ctl_command(daemon: Daemon) -> list[str]:
    from tests.e2e.conftest import tool

    return [tool("python3"), "-m", "supervise.ctl.main", "-c", str(daemon.conf)]
