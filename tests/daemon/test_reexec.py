"""Layer 1: the command line of a re-exec, for every way the daemon can be started."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervise.daemon.reexec import reexec_argv, twistd_table

PY = "/venv/bin/python3"
TWISTD = "/venv/bin/twistd"
SUPERVISE = "/venv/bin/supervise"

CASES = [
    # twistd in the foreground, as the test harness and systemd units run it
    (
        [PY, TWISTD, "-n", "--pidfile=", "supervise", "-c", "F"],
        [PY, TWISTD, "--nodaemon", "--pidfile=", "supervise", "-c", "F"],
    ),
    # twistd daemonizing with its default pidfile
    (
        [PY, TWISTD, "supervise", "-c", "F"],
        [PY, TWISTD, "--nodaemon", "--pidfile=", "supervise", "-c", "F"],
    ),
    # a pidfile given both ways, combined short flags (-n with -o), abbreviated long option
    (
        [PY, TWISTD, "--pidfile", "/run/t.pid", "-no", "--pid=/x", "--logger=a.b", "supervise"],
        [PY, TWISTD, "--nodaemon", "--pidfile=", "-o", "--logger=a.b", "supervise"],
    ),
    # a value glued to a short flag after -n; the subcommand's own words left alone
    (
        [PY, "-m", "twisted", "-nl/var/log/t.log", "supervise", "-c", "F", "-k"],
        [PY, "-m", "twisted", "--nodaemon", "--pidfile=", "-l", "/var/log/t.log", "supervise", "-c", "F", "-k"],
    ),
    # supervise in the foreground: -n is not added twice
    ([PY, SUPERVISE, "-n", "-c", "F"], [PY, SUPERVISE, "-n", "-c", "F"]),
    ([PY, SUPERVISE, "-c", "F"], [PY, SUPERVISE, "-n", "-c", "F"]),
    # --nodaemon, -n inside combined flags, an option after them; its pidfile (-j) is kept
    (
        [PY, SUPERVISE, "-c", "F", "--nodaemon", "-kn", "-jP", "--identifier=x"],
        [PY, SUPERVISE, "-n", "-c", "F", "-k", "-j", "P", "--identifier=x"],
    ),
    # python -m supervise.cli, interpreter options kept
    ([PY, "-u", "-m", "supervise.cli", "-c", "F"], [PY, "-u", "-m", "supervise.cli", "-n", "-c", "F"]),
]  # fmt: skip


@pytest.mark.parametrize(("orig", "expected"), CASES)
def test_reexec_argv(orig: list[str], expected: list[str]) -> None:
    """Each command line becomes its foreground form, with -n/--pidfile= exactly once."""
    assert reexec_argv(orig, PY) == expected


@pytest.mark.parametrize(("orig", "expected"), CASES)
def test_reexec_argv_is_idempotent(orig: list[str], expected: list[str]) -> None:
    """Re-executing a re-executed daemon gives the same command line again."""
    once = reexec_argv(orig, PY)
    assert reexec_argv(once, PY) == once


def test_reexec_argv_uses_the_running_python() -> None:
    """The interpreter is the one running now (a venv's), not the one in argv[0]."""
    assert reexec_argv(["python3", TWISTD, "supervise"], "/new/python")[0] == "/new/python"


def test_unknown_command_lines_are_refused() -> None:
    """A command line naming neither twistd nor supervise is not guessed at."""
    with pytest.raises(ValueError, match="neither twistd nor supervise"):
        reexec_argv([PY, "/usr/bin/something", "-c", "F"], PY)
    with pytest.raises(ValueError, match="cannot re-execute"):
        reexec_argv([PY, TWISTD, "--no-such-option", "supervise"], PY)


def test_twistd_table_is_read_from_the_running_twistd() -> None:
    """The twistd option table knows -n, --pidfile and the value-taking options."""
    table = twistd_table()
    assert table.takes_value("--pidfile") and table.takes_value("-l")
    assert not table.takes_value("-n") and "nodaemon" in table.long


FLAGS = st.lists(
    st.sampled_from(["-n", "--nodaemon", "-k", "-kn", "-nk", "-t", "-s", "-jP", "--strip_ansi"]),
    max_size=6,
)


@given(FLAGS)
def test_supervise_flags_any_mix(flags: list[str]) -> None:
    """Whatever mix of supervise flags, the result has one -n and is a fixed point."""
    out = reexec_argv([PY, SUPERVISE, *flags, "-c", "F"], PY)
    assert out.count("-n") == 1 and "--nodaemon" not in out and "-jP" not in out
    assert reexec_argv(out, PY) == out
