"""Layer 4: ``supervise --check -c FILE`` prints every error and warning with its file
and line and starts nothing; a daemon on a config with warnings starts as supervisord
would and logs them."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon, tool

pytestmark = pytest.mark.e2e


def check(conf: Path, daemon: Daemon) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("python3"), "-m", "supervise.cli", "--check", "-c", str(conf)],
        capture_output=True, text=True, env=daemon.env(), cwd=daemon.tmp, timeout=60,
    )  # fmt: skip


def test_a_clean_config_checks_clean_and_starts_nothing(daemon: Daemon) -> None:
    conf = daemon.write("[program:web]\ncommand = sleep 300\n")
    done = check(conf, daemon)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"{conf}: no errors, no warnings\n",
        "",
    )
    assert not daemon.sock.exists() and not (daemon.tmp / "supervisord.pid").exists()


def test_warnings_alone_exit_0_naming_file_and_line(daemon: Daemon) -> None:
    (daemon.tmp / "more.conf").write_text("[program:web]\nstartsecs = 3\n")
    conf = daemon.write(
        textwrap.dedent(
            f"""
            [include]
            files = {daemon.tmp}/more.conf
            [progam:typo]
            command = sleep 1
            [program:web]
            command = sleep 300
            """
        )
    )
    done = check(conf, daemon)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [
        f"warning: section [program:web] is given twice, at {conf}:{line_of(conf, '[program:web]')}"
        f" and at {daemon.tmp}/more.conf:1: its options are merged, the later value of each wins",
        "warning: ignoring section [progam:typo] of an unknown kind (did you mean "
        f"[program:typo]?) at {conf}:{line_of(conf, '[progam:typo]')}",
        f"{conf}: no errors, 2 warnings",
    ]


def test_errors_exit_2_listing_every_one(daemon: Daemon) -> None:
    conf = daemon.write(
        """
        [program:a]
        command = sleep 1
        startsecs = soon
        [program:b]
        command = sleep 1
        autorestart = sometimes
        """
    )
    done = check(conf, daemon)
    lines = done.stdout.splitlines()
    assert done.returncode == 2
    assert [line.split(" at ")[-1] for line in lines[:2]] == [
        f"{conf}:{line_of(conf, 'startsecs')}, [program:a] startsecs",
        f"{conf}:{line_of(conf, 'autorestart')}, [program:b] autorestart",
    ]
    assert all(line.startswith("error: ") for line in lines[:2])
    assert lines[2:] == [f"{conf}: 2 errors, no warnings"]
    assert not daemon.sock.exists()


def line_of(conf: Path, option: str) -> int:
    lines = conf.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(option))


def test_the_daemon_starts_despite_warnings_and_logs_them(daemon: Daemon) -> None:
    daemon.start("[progam:typo]\ncommand = sleep 1\n[program:web]\ncommand = sleep 300\n")
    names = [p["name"] for p in daemon.rpc().supervisor.getAllProcessInfo()]
    assert names == ["web"]
    log = (daemon.tmp / "main.log").read_text()
    assert "ignoring section [progam:typo] of an unknown kind" in log
    assert f"at {daemon.conf}:{line_of(daemon.conf, '[progam:typo]')}" in log
