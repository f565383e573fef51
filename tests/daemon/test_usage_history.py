"""What the console's graph and ``supervise``'s usage readers get back: each program's
last 60 samples, exactly as measured, oldest first; a program gone is forgotten."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.task import Clock

from supervise.daemon.usage import HISTORY, SampleHistory, UsageService
from supervise.events.bus import EventBus
from supervise.snapshot import ProcessSnapshot, ResourceUsage
from supervise.states import ProcessState


def usage(n: int, source: str = "proc") -> ResourceUsage:
    return ResourceUsage(
        1_700_000_000.125 + n, 12.5 + n, 3.75 * n, 7_340_032 + n, 1 + n % 3, source
    )


def test_a_history_keeps_the_last_samples_exactly_oldest_first() -> None:
    history = SampleHistory()
    for n in range(HISTORY + 7):
        history.append(usage(n))
    kept = history.samples()
    assert len(kept) == HISTORY
    assert kept == tuple(usage(n) for n in range(7, HISTORY + 7))
    history.append(usage(99, "cgroup"))
    assert history.samples()[-1] == usage(99, "cgroup")


class FakeSampler:
    """Hands out the next prepared sample of each program."""

    def __init__(self, rounds: list[dict[str, ResourceUsage]]) -> None:
        self.rounds = rounds

    def read(self) -> None:
        return None

    def sample(
        self, programs: Sequence[ProcessSnapshot], reading: Any
    ) -> Mapping[str, ResourceUsage]:
        return self.rounds.pop(0)


def snapshot(name: str) -> ProcessSnapshot:
    return ProcessSnapshot(
        name, name, ProcessState.RUNNING, 10, 1.0, 0.0, "", 0, "", "", namespec=name
    )


def test_the_service_keeps_each_programs_history_and_forgets_the_gone() -> None:
    running = [snapshot("web"), snapshot("db")]
    rounds = [{"web": usage(1), "db": usage(2)}, {"web": usage(3)}]
    service = UsageService(5, Clock(), EventBus(lambda: 0.0), lambda: running, FakeSampler(rounds))  # type: ignore[arg-type]
    service.measure(None)  # type: ignore[arg-type]
    running.pop()  # db is gone
    service.measure(None)  # type: ignore[arg-type]
    assert service.history("web") == (usage(1), usage(3))
    assert service.history("db") == ()
    assert service.latest() == {"web": usage(3)}
