"""Layer 1: ``rlimit_*`` values, checked against the daemon's hard limits."""

import resource
import textwrap

import pytest

from supervise.config import ConfigError, load
from supervise.config.rlimits import INFINITY, parser


def limits(hard):
    return lambda which: hard


def test_forms_of_a_value():
    """SOFT, SOFT:HARD, unlimited, and sizes for the byte limits."""
    assert parser("nofile", limits(INFINITY))("4096") == ("nofile", 4096, None)
    assert parser("nofile", limits(INFINITY))("1024:2048") == ("nofile", 1024, 2048)
    assert parser("core", limits(INFINITY))("unlimited") == ("core", INFINITY, None)
    assert parser("as", limits(INFINITY))("64MB:1GB") == ("as", 64 << 20, 1 << 30)
    assert parser("stack", limits(INFINITY))("8MB:unlimited") == ("stack", 8 << 20, INFINITY)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("nofile", "many", "not SOFT or SOFT:HARD"),
        ("nofile", "64MB", "not SOFT or SOFT:HARD"),
        ("nofile", "-5", "not SOFT or SOFT:HARD"),
        ("nofile", "200:100", "soft limit is above the hard limit"),
        ("nofile", "5000", "above the daemon's hard limit \\(4096\\)"),
        ("nofile", "100:5000", "above the daemon's hard limit"),
        ("nofile", "unlimited", "above the daemon's hard limit"),
    ],
)
def test_bad_values(name, text, problem):
    with pytest.raises(ValueError, match=problem):
        parser(name, limits(4096))(text)


def test_config_error_names_option_section_file_and_line(tmp_path):
    """A value above the daemon's own hard limit fails the config where it is written."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no finite hard limit of open files here")
    conf = tmp_path / "s.conf"
    conf.write_text(
        textwrap.dedent(
            f"""\
            [supervisord]
            [program:app]
            command = /bin/true
            rlimit_nofile = {hard + 1}
            """
        )
    )
    with pytest.raises(ConfigError) as caught:
        load(str(conf), environ={})
    text = str(caught.value)
    assert "rlimit_nofile" in text and "hard limit" in text
    assert f"{conf}:4, [program:app] rlimit_nofile" in text


def test_limits_reach_the_model_in_a_fixed_order(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text(
        "[supervisord]\n[program:app]\ncommand = /bin/true\nrlimit_core = 0\nrlimit_nofile = 256\n"
    )
    (process,) = load(str(conf), environ={}).groups[0].processes
    assert process.extras.rlimits == (("nofile", 256, None), ("core", 0, None))
