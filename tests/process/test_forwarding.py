"""Layer 2: a program's output reaches forward_output's copier, whole lines, and its
last partial line when the run ends; an event listener's protocol never does."""

from __future__ import annotations

from attrs import evolve

from supervise.config.model import GroupKind
from supervise.logs.forward import OutputForwarder
from supervise.testing import Harness


def forwarding(harness: Harness) -> dict[str, list[bytes]]:
    """Give the harness's programs a forwarder; what it writes, per stream."""
    written: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    writers = {stream: chunks.append for stream, chunks in written.items()}
    forward = OutputForwarder("plain", harness.clock.seconds, writers)
    harness.host = evolve(harness.host, context=evolve(harness.host.context, forward=forward))
    return written


def test_lines_are_forwarded_and_the_last_partial_one_at_exit(tmp_path):
    """Lines go out as they complete; the unterminated tail when the process exits."""
    harness = Harness(str(tmp_path))
    written = forwarding(harness)
    harness.add("job", startsecs=0).start()
    child = harness.spawner.last
    child.write("stdout", b"one\ntw")
    child.write("stderr", b"warn\n")
    assert written == {"stdout": [b"job | one\n"], "stderr": [b"job | warn\n"]}
    child.write("stdout", b"o\nthree")
    child.exit(0)
    assert b"".join(written["stdout"]) == b"job | one\njob | two\njob | three\n"


def test_an_event_listener_stdout_is_not_forwarded(tmp_path):
    """A listener's stdout is its protocol (READY, RESULT): not copied; stderr is."""
    harness = Harness(str(tmp_path))
    written = forwarding(harness)
    harness.add("audit", startsecs=0, kind=GroupKind.EVENTLISTENER).start()
    harness.spawner.last.write("stdout", b"READY\n")
    harness.spawner.last.write("stderr", b"listening\n")
    assert written == {"stdout": [], "stderr": [b"audit | listening\n"]}
