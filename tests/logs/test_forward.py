"""Layer 1: forward_output's lines — prefixed, stamped or JSON, whole lines only."""

from __future__ import annotations

import json

import pytest

from supervise.config.model import ProcessConfig
from supervise.logs.forward import OutputForwarder, iso_time

WEB = ProcessConfig(name="web_0", group="web", program="web", command="/bin/web")


@pytest.fixture
def written() -> dict[str, list[bytes]]:
    return {"stdout": [], "stderr": []}


def forwarder(fmt: str, written: dict[str, list[bytes]], **options: int) -> OutputForwarder:
    writers = {stream: chunks.append for stream, chunks in written.items()}
    return OutputForwarder(fmt, lambda: 1_800_000_000.25, writers, **options)


def test_plain_lines_are_prefixed_with_the_process_name(written):
    """Each line gets ``name | ``; stdout and stderr go to the daemon's own two streams."""
    out = forwarder("plain", written)
    out.feed(WEB, "stdout", 42, b"one\ntwo\n")
    out.feed(WEB, "stderr", 42, b"oops\r\n")
    assert b"".join(written["stdout"]) == b"web:web_0 | one\nweb:web_0 | two\n"
    assert b"".join(written["stderr"]) == b"web:web_0 | oops\n"


def test_a_partial_line_waits_for_its_newline(written):
    """A line split across writes comes out whole, once."""
    out = forwarder("plain", written)
    out.feed(WEB, "stdout", 42, b"hel")
    assert written["stdout"] == []
    out.feed(WEB, "stdout", 42, b"lo\nwor")
    out.feed(WEB, "stdout", 42, b"ld\n")
    assert b"".join(written["stdout"]) == b"web:web_0 | hello\nweb:web_0 | world\n"


def test_a_held_line_is_bounded(written):
    """A line with no newline is written out in pieces of at most max_line bytes."""
    out = forwarder("plain", written, max_line=4)
    out.feed(WEB, "stdout", 42, b"abcdefghij")
    assert b"".join(written["stdout"]) == b"web:web_0 | abcd\nweb:web_0 | efgh\n"
    out.flush(WEB)
    assert b"".join(written["stdout"]).endswith(b"web:web_0 | ij\n")


def test_the_end_of_a_run_writes_what_is_held(written):
    """When the process ends, its unterminated last line is written."""
    out = forwarder("plain", written)
    out.feed(WEB, "stderr", 42, b"last words")
    out.flush(WEB)
    out.flush(WEB)
    assert written["stderr"] == [b"web:web_0 | last words\n"]


def test_timestamped_lines_start_with_utc_time(written):
    """``timestamped``: ISO 8601 UTC time with milliseconds, then the prefixed line."""
    out = forwarder("timestamped", written)
    out.feed(WEB, "stdout", 42, b"ready\n")
    assert written["stdout"] == [b"2027-01-15T08:00:00.250Z web:web_0 | ready\n"]


def test_json_lines_carry_time_program_process_stream_pid_and_line(written):
    """``json``: one object a line, any bytes decoded with replacement."""
    out = forwarder("json", written)
    out.feed(WEB, "stderr", 42, b"caf\xc3\xa9 \xff\nsecond\n")
    lines = b"".join(written["stderr"]).splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0] == {
        "time": iso_time(1_800_000_000.25),
        "program": "web",
        "process": "web:web_0",
        "stream": "stderr",
        "pid": 42,
        "line": "café \ufffd",
    }
    assert records[1]["line"] == "second"
