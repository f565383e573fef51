"""An in-process plugin for the load test: 100 listeners that each check every process's
state events arrive complete and in order (each event's from_state is the state the
previous one entered), and measure how long crashed programs wait to be restarted."""

from __future__ import annotations

from typing import Any

from supervise.events.types import ProcessStateEvent, ProcessStateExited, ProcessStateStarting
from supervise.plugin import Plugin, listener

LISTENERS = 100


class Checker:
    """One listener's view."""

    def __init__(self) -> None:
        self.events = 0
        self.last: dict[tuple[str, str], tuple[str, int]] = {}
        self.violations: list[str] = []

    def __call__(self, event: Any) -> None:
        self.events += 1
        key = (event.group, event.process)
        seen = self.last.get(key)
        if seen is not None:
            state, serial = seen
            if event.from_state.name != state and len(self.violations) < 20:
                self.violations.append(
                    f"{key}: {state} then {event.type_name} from {event.from_state.name}"
                )
            if event.serial <= serial and len(self.violations) < 20:
                self.violations.append(f"{key}: serial {event.serial} after {serial}")
        self.last[key] = (event.state.name, event.serial)


class LoadCheck(Plugin):
    """Plugin entry: ``[plugin:loadcheck] factory = tests.reliability.load_plugin:LoadCheck``."""

    def configure(self, options: Any, context: Any) -> None:
        self.checkers = [Checker() for _ in range(LISTENERS)]
        self.exited_at: dict[tuple[str, str], float] = {}
        self.restarts: list[float] = []

    def listeners(self) -> list[Any]:
        made = [
            listener(f"check{i}", (ProcessStateEvent,), checker)
            for i, checker in enumerate(self.checkers)
        ]
        made.append(listener("restart-latency", (ProcessStateEvent,), self.timing))
        return made

    def timing(self, event: Any) -> None:
        key = (event.group, event.process)
        if isinstance(event, ProcessStateExited):
            self.exited_at[key] = event.when
        elif isinstance(event, ProcessStateStarting) and key in self.exited_at:
            self.restarts.append(event.when - self.exited_at.pop(key))

    def rpc_namespaces(self) -> dict[str, Any]:
        return {"loadcheck": self}

    def report(self) -> dict[str, Any]:
        counts = [c.events for c in self.checkers]
        restarts = sorted(self.restarts)
        return {
            "min_events": min(counts),
            "max_events": max(counts),
            "violations": [v for c in self.checkers for v in c.violations][:20],
            "restarts": len(restarts),
            "restart_p99_ms": 1000 * restarts[int(0.99 * (len(restarts) - 1))] if restarts else 0.0,
        }
