"""A shutdown says which processes it still waits for at most every 3 s, as supervisord
does: one line for programs that stop at once, another once a slow stop has taken 3 s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twisted.logger import formatEvent, globalLogPublisher

from tests.control.conftest import Core

PROGRAMS = "".join(
    f"[program:p{n}]\ncommand = /bin/sleep 100\nstartsecs = 0\npriority = {n}\nstopwaitsecs = 4\n"
    for n in range(1, 5)
)


@pytest.fixture
def lines() -> Iterator[list[str]]:
    found: list[str] = []

    def keep(event: dict[str, object]) -> None:
        text = formatEvent(event)
        if "to die" in text:
            found.append(text)

    globalLogPublisher.addObserver(keep)
    yield found
    globalLogPublisher.removeObserver(keep)


def test_programs_that_stop_at_once_are_reported_once(core: Core, lines: list[str]) -> None:
    core.start(PROGRAMS)
    done = core.supervisor.shutdown()
    core.harness.clock.advance(0)
    assert done.called
    assert lines == ["waiting for p1, p2, p3, p4 to die"]


def test_a_slow_stop_brings_a_new_report_after_3_s(core: Core, lines: list[str]) -> None:
    core.start(PROGRAMS)
    core.child("p4").dies_on_signal = False  # stopped first; SIGKILL after stopwaitsecs
    done = core.supervisor.shutdown()
    core.harness.clock.advance(0)
    assert lines == ["waiting for p1, p2, p3, p4 to die"]
    core.harness.clock.advance(4)  # p4 is killed; p3 comes next, 4 s after the report
    core.harness.clock.advance(0)
    assert done.called
    assert lines == ["waiting for p1, p2, p3, p4 to die", "waiting for p1, p2, p3 to die"]
