"""Layer 1: supervisord's value syntaxes parse the same way, with the same errors."""

import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervise.config import values

MULTIPLIER = {"": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "kb": 1024, "Mb": 1024**2}


@given(st.integers(0, 2**40), st.sampled_from(sorted(MULTIPLIER)))
def test_byte_size_suffixes(n, suffix):
    """Any byte size with a supported suffix parses to the right number of bytes."""
    assert values.byte_size(f"{n}{suffix}") == n * MULTIPLIER[suffix]


@given(st.sampled_from(values.TRUTHY_STRINGS + values.FALSY_STRINGS), st.booleans())
def test_boolean_words_any_case(word, upper):
    """Boolean words are accepted in any case."""
    text = word.upper() if upper else word
    assert values.boolean(text) is (word in values.TRUTHY_STRINGS)


def test_boolean_error_text():
    """A bad boolean gets supervisord's message."""
    with pytest.raises(ValueError, match=r"^not a valid boolean value: 'maybe'$"):
        values.boolean("maybe")


@given(st.lists(st.integers(0, 255), min_size=1, max_size=6))
def test_exit_codes_round_trip(codes):
    """Any comma list of 0..255 parses to those codes."""
    assert values.exit_codes(",".join(map(str, codes))) == tuple(codes)


def test_exit_codes_out_of_range():
    """An exit code above 255 is refused with supervisord's message."""
    with pytest.raises(ValueError, match=r"not a valid list of exit codes: '0,300'"):
        values.exit_codes("0,300")


@pytest.mark.parametrize("text", ["TERM", "term", "SIGterm", "15"])
def test_signal_forms(text):
    """Signals are accepted by name with or without SIG, any case, or by number."""
    assert values.signal_number(text) == signal.SIGTERM


def test_signal_errors():
    """Unknown signal names and numbers get supervisord's messages."""
    with pytest.raises(ValueError, match="value 'FOO' is not a valid signal name"):
        values.signal_number("FOO")
    with pytest.raises(ValueError, match="value '999' is not a valid signal number"):
        values.signal_number("999")


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
        st.from_regex(r"[a-z0-9/.,: -]{0,12}", fullmatch=True),
        max_size=4,
    )
)
def test_environment_quoted_values_round_trip(env):
    """KEY="value" pairs, commas and spaces inside quotes included, parse back to the dict."""
    text = ",".join(f'{k}="{v}"' for k, v in env.items())
    assert values.environment(text) == env


def test_environment_error():
    """A dangling key is refused with supervisord's message."""
    with pytest.raises(ValueError, match="Unexpected end of key/value pairs in value 'A=1,B'"):
        values.environment("A=1,B")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", values.AutoRestart.ALWAYS),
        ("off", values.AutoRestart.NEVER),
        ("Unexpected", values.AutoRestart.UNEXPECTED),
    ],
)
def test_autorestart(text, expected):
    """autorestart takes boolean words or 'unexpected'."""
    assert values.auto_restart(text) is expected


def test_octal_and_its_error():
    """Octal values accept 022 and 0o22; others get supervisord's message."""
    assert values.octal("022") == values.octal("0o22") == 0o22
    with pytest.raises(ValueError, match="999 can not be converted to an octal type"):
        values.octal("999")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9001", ("", 9001)), ("*:9001", ("", 9001)), ("127.0.0.1:80", ("127.0.0.1", 80))],
)
def test_inet_address(text, expected):
    """Ports parse alone or with a host; '*' means every interface."""
    assert values.inet_address(text) == expected


def test_inet_port_bounds():
    """A port above 65535 is refused."""
    with pytest.raises(ValueError, match=r"70000 is above upper bound \(65535\)"):
        values.inet_address("localhost:70000")


@pytest.mark.parametrize("name", ["a b", "a:b", "a/b"])
def test_bad_names(name):
    """Process and group names refuse space, colon and slash."""
    with pytest.raises(ValueError, match="Invalid name"):
        values.process_or_group_name(name)


def test_logfile_names(tmp_path):
    """NONE/OFF, AUTO and syslog are special; a path needs an existing directory."""
    assert values.logfile_name("OFF") is values.LogTarget.NONE
    assert values.logfile_name("auto") is values.LogTarget.AUTO
    assert values.logfile_name(str(tmp_path / "x.log")) == str(tmp_path / "x.log")
    with pytest.raises(ValueError, match="does not exist"):
        values.logfile_name("/nonexistent-dir/x.log")
