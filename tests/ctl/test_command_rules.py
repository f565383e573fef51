"""The rule every supervisectl command follows, whoever adds it: ``help COMMAND`` gives
its usage and an example, and ``--json`` has a schema in docs/schemas linked from
docs/supervisectl.md."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from supervise.ctl.client import Connection
from supervise.ctl.commands import COMMANDS, Controller
from supervise.ctl.help import command_help
from supervise.ctl.main import run
from supervise.ctl.session import Session

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_usage_and_example(name: str) -> None:
    found = command_help(name)
    assert found is not None, (
        f"supervisectl {name}: its do_{name} docstring must start with ``usage``: what it "
        "does, and hold a line Example: ``supervisectl …`` (see supervise/ctl/help.py)"
    )
    assert found.usage.split()[0] == name
    assert found.example.startswith(f"supervisectl {name}") or f" {name}" in found.example


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_json_schema_linked_from_the_docs(name: str) -> None:
    path = DOCS / "schemas" / f"{name}.json"
    assert path.exists(), f"supervisectl {name} --json: add docs/schemas/{name}.json"
    Draft202012Validator.check_schema(json.loads(path.read_text()))
    assert f"(schemas/{name}.json)" in (DOCS / "supervisectl.md").read_text(), (
        f"docs/supervisectl.md must link schemas/{name}.json"
    )


def test_help_prints_usage_description_and_example() -> None:
    out = io.StringIO()
    session = Session(Connection("unix:///nonexistent"), out=out)
    assert run(Controller.over(session), ["help", "tail"]) == 0
    text = out.getvalue()
    assert "Usage: tail [-f] [-N] NAME [stdout|stderr]" in text
    assert "Example: supervisectl tail -f" in text
    out.truncate(0)
    assert run(Controller.over(session), ["help", "nosuch"]) == 1
    assert run(Controller.over(session), ["help"]) == 0
    assert "wait [--state STATE]" in out.getvalue()


def test_a_refused_connection_is_a_json_error_document() -> None:
    out = io.StringIO()
    session = Session(Connection("unix:///nonexistent/sock"), as_json=True, out=out)
    assert run(Controller.over(session), ["status"]) == 4
    document = json.loads(out.getvalue())
    schema = json.loads((DOCS / "schemas" / "error.json").read_text())
    Draft202012Validator(schema).validate(document)
    assert "unix:///nonexistent/sock refused connection" in document["error"]["message"]
