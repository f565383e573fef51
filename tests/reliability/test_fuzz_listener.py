"""The listener protocol parser survives anything a listener writes, in bounded memory."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervise.events.types import ProcessStateRunning
from supervise.process.listener import MAX_RESULT, ListenerChannel, Queued, default_handler
from supervise.states import ListenerState, ProcessState
from tests.reliability.conftest import CASES, scale

PIECES = st.one_of(
    st.sampled_from([b"READY\n", b"READY", b"\n", b"RESULT 2\nOK", b"RESULT 4\nFAIL", b"RESULT ",
                     b"RESULT -1\n", b"RESULT 99999999999\n", b"RESULT x\n", b"OK", b"\x00\xff"]),
    st.binary(max_size=64),
    st.integers(1, 5000).map(lambda n: b"z" * n),
)  # fmt: skip
STEPS = st.lists(st.one_of(st.tuples(st.just("feed"), PIECES), st.just(("send", b""))), max_size=40)


@settings(
    max_examples=scale(2000, 50000),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(STEPS)
def test_any_output_leaves_a_valid_state_and_bounded_buffers(steps: list[tuple[str, Any]]) -> None:
    CASES["listener protocol"] += 1
    rejected: list[Queued] = []
    channel = ListenerChannel("fuzz", default_handler, lambda: None, rejected.append)
    event = Queued(ProcessStateRunning("g", "p", ProcessState.STARTING, pid=1), 1, 1)
    for kind, data in steps:
        if kind == "feed":
            channel.feed(data)
        elif channel.state is ListenerState.READY:
            channel.sent(event)
        assert channel.state in ListenerState
        assert len(channel.buffer) <= MAX_RESULT + 6000
    if channel.state is ListenerState.UNKNOWN:
        assert channel.event is None  # an event it held went back to the pool
