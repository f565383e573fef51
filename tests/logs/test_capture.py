"""Layer 1 and 2: capture mode turns tokened output into PROCESS_COMMUNICATION events."""

from hypothesis import given
from hypothesis import strategies as st

from supervise.config.model import ChannelConfig
from supervise.events.types import ProcessCommunicationStdout, ProcessLogStdout
from supervise.logs.capture import BEGIN_TOKEN, END_TOKEN, CaptureFilter
from supervise.testing import Harness


def run(chunks, maxbytes=1000):
    capture = CaptureFilter(maxbytes)
    actions = [a for chunk in chunks for a in capture.feed(chunk)] + capture.flush()
    logged = b"".join(data for kind, data in actions if kind == "log")
    assert (
        b"".join(data for kind, data in actions if kind == "captured")
        == b"".join(data for kind, data in actions if kind == "event")
        or maxbytes < 100
    )
    events = [data for kind, data in actions if kind == "event"]
    return logged, events


def test_tokens_split_logged_from_captured():
    """Text outside the tokens is logged; text between them becomes one event, and is
    reported as captured (supervisord still emits PROCESS_LOG events for it)."""
    capture = CaptureFilter(1000)
    actions = capture.feed(b"before " + BEGIN_TOKEN + b"sec") + capture.feed(
        b"ret" + END_TOKEN + b" after"
    )
    assert actions == [
        ("log", b"before "),
        ("captured", b"sec"),
        ("captured", b"ret"),
        ("event", b"secret"),
        ("log", b" after"),
    ]


@given(
    st.binary(max_size=40).filter(lambda b: b"<" not in b),
    st.binary(max_size=40).filter(lambda b: b"<" not in b),
    st.data(),
)
def test_any_split_of_the_stream_gives_the_same_result(outside, inside, data):
    """However the output is cut into reads, the log and the events are the same."""
    stream = outside + BEGIN_TOKEN + inside + END_TOKEN + outside
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert run(chunks) == (outside + outside, [inside])


def test_partial_token_at_exit_is_logged():
    """A held-back token prefix is logged when the process exits."""
    assert run([b"abc<!--XSUPER"]) == (b"abc<!--XSUPER", [])


def test_capture_bound_drops_from_the_front():
    """Past capture_maxbytes, as many bytes as a write adds are dropped from the front."""
    assert run([BEGIN_TOKEN, b"12345", b"678", END_TOKEN], maxbytes=6)[1] == [b"45678"]


def test_program_emits_communication_and_log_events(tmp_path):
    """A program in capture mode publishes PROCESS_COMMUNICATION_STDOUT and, if enabled, PROCESS_LOG."""
    harness = Harness(str(tmp_path))
    out = ChannelConfig(str(tmp_path / "out.log"), 0, 0, capture_maxbytes=100, events_enabled=True)
    program = harness.add("talker", startsecs=0, stdout=out)
    program.start()
    harness.spawner.last.write("stdout", b"hi " + BEGIN_TOKEN + b"msg" + END_TOKEN)
    comm = [e for e in harness.events if isinstance(e, ProcessCommunicationStdout)]
    logs = [e for e in harness.events if isinstance(e, ProcessLogStdout)]
    assert [(e.process, e.data, e.pid) for e in comm] == [("talker", b"msg", program.pid)]
    assert [e.data for e in logs] == [
        b"hi ",
        b"msg",
    ]  # supervisord logs captured text as events too
    assert (tmp_path / "out.log").read_bytes() == b"hi "


def test_strip_ansi_removes_escape_sequences():
    """strip_ansi removes colour and cursor sequences and keeps the text."""
    from supervise.logs.channel import strip_ansi

    assert strip_ansi(b"\x1b[31mred\x1b[0m \x1b[2Jclear\x1b[1;1H") == b"red clear"
