"""The Redis link's reconnect schedule and its log lines, on a fake clock."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import LogLevel, globalLogPublisher

from supervise.cluster_store import link as link_module
from supervise.cluster_store.link import RedisLink
from supervise.config.model import RedisAddress


class Connection:
    def disconnect(self) -> None:
        pass


@pytest.fixture
def redis_state(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"up": False, "attempts": []}
    clock = Clock()
    state["clock"] = clock

    async def primary(address: RedisAddress) -> tuple[str, int]:
        state["attempts"].append(clock.seconds())
        if not state["up"]:
            raise ConnectionRefusedError("Connection refused")
        return address.host, address.port

    async def connect(address: RedisAddress, host: str, port: int) -> Connection:
        return Connection()

    monkeypatch.setattr(link_module, "primary", primary)
    monkeypatch.setattr(link_module, "connect", connect)
    return state


def warnings_during(work: Any) -> list[str]:
    seen: list[str] = []

    def keep(event: dict[str, Any]) -> None:
        if event.get("log_level") in (LogLevel.warn, LogLevel.info) and "cluster:" in str(
            event.get("log_format", "")
        ):
            seen.append(str(event["log_format"]))

    globalLogPublisher.addObserver(keep)
    try:
        work()
    finally:
        globalLogPublisher.removeObserver(keep)
    return seen


def test_reconnects_back_off_from_half_a_second_doubling_to_ten(
    redis_state: dict[str, Any],
) -> None:
    clock: Clock = redis_state["clock"]
    downs: list[str] = []
    link = RedisLink(RedisAddress(), clock, lambda: None, downs.append)
    lines = warnings_during(lambda: (link.start(), clock.pump([0.25] * 200)))
    attempts = redis_state["attempts"]
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(attempts)]
    assert gaps[:7] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert len(downs) == 1 and "refused" in downs[0]
    assert sum("unreachable" in line for line in lines) == 1
    # Redis returns: one line says so, and the next outage starts again from 0.5 s.
    redis_state["up"] = True
    lines = warnings_during(lambda: clock.advance(10))
    assert link.up and sum("is back" in line for line in lines) == 1
    redis_state["up"] = False
    redis_state["attempts"].clear()
    lost_at = clock.seconds()
    link.lost(ConnectionError("gone"))
    clock.pump([0.25] * 20)
    attempts = redis_state["attempts"]
    assert [round(b - a, 2) for a, b in itertools.pairwise(attempts)][:2] == [1.0, 2.0]
    assert attempts[0] - lost_at == 0.5
    link.stop()


def test_a_quiet_link_says_nothing_of_outages(redis_state: dict[str, Any]) -> None:
    clock: Clock = redis_state["clock"]
    link = RedisLink(RedisAddress(), clock, lambda: None, lambda reason: None, announce=False)
    lines = warnings_during(lambda: (link.start(), clock.pump([0.5] * 10)))
    assert lines == []
    link.stop()
