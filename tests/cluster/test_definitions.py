"""Checking pushed files (syntax only) and what a node's own config may say of them."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from supervise.cluster_store.definitions import (
    Refused,
    check_allowed,
    cluster_groups,
    extra_sections,
    placed_on,
    sections_from_files,
)
from supervise.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[2]


def test_a_push_needs_no_variable_of_the_pushing_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONLY_ON_NODES", raising=False)
    path = tmp_path / "defs.conf"
    path.write_text(
        "[program:x]\ncommand = run %(ENV_ONLY_ON_NODES)s\nplacement = *\n"
        "numprocs = 2\nprocess_name = x_%(process_num)s\n"
    )
    sections = sections_from_files([str(path)])
    assert "%(ENV_ONLY_ON_NODES)s" in sections["program:x"]  # kept for each node
    # Syntax is still checked.
    path.write_text("[program:x]\ncommand = run %(ENV_X\nplacement = *\n")
    with pytest.raises(ConfigError):
        sections_from_files([str(path)])


def test_a_node_without_the_variable_names_only_the_missing_one(tmp_path: Path) -> None:
    conf = tmp_path / "node.conf"
    conf.write_text("[supervisord]\n")
    sections = {"program:x": "[program:x]\ncommand = run %(ENV_ONLY_ON_NODES)s\n"}
    environ = {f"VARIABLE_{n}": "x" * 20 for n in range(100)}
    with pytest.raises(ConfigError) as caught:
        load(str(conf), environ=environ, extra=extra_sections(7, sections))
    message = str(caught.value)
    assert "the environment variable ONLY_ON_NODES is not set" in message
    assert "cluster revision 7" in message and "VARIABLE_1" not in message
    assert len(message) < 300


def test_the_examples_need_no_user_variable_and_allow_the_daemons_own_user() -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME")}
    for name in ("node1", "node2", "node3"):
        model = load(str(ROOT / "examples" / "cluster" / f"{name}.conf"), environ=environ)
        assert model.cluster is not None and "@daemon" in model.cluster.allow_users
    cluster = load(str(ROOT / "examples" / "cluster" / "node1.conf"), environ=environ).cluster
    assert cluster is not None
    services = sections_from_files([str(ROOT / "examples" / "cluster" / "services.conf")])
    mine = placed_on(services, "n1", ["web"])
    conf = ROOT / "examples" / "cluster" / "node1.conf"
    model = load(str(conf), environ=environ, extra=extra_sections(1, mine))
    check_allowed(cluster, cluster_groups(model, mine), 1)  # runs as the daemon's user
    stranger = "nobody" if pwd.getpwuid(os.getuid()).pw_name != "nobody" else "root"
    mine["program:api"] += f"user = {stranger}\n"
    model = load(str(conf), environ=environ, extra=extra_sections(1, mine))
    with pytest.raises(Refused, match="is not in this node's allow_users"):
        check_allowed(cluster, cluster_groups(model, mine), 1)
