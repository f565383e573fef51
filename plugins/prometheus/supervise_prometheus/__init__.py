"""A Prometheus endpoint at ``/plugins/prometheus/metrics`` (same auth as XML-RPC).

    [plugin:prometheus]

Series (labels ``group`` and ``process``): ``supervise_process_state`` (supervisord's
numeric state code), ``supervise_process_up`` (1 when RUNNING), ``supervise_process_uptime_seconds``,
``supervise_process_restarts_total``, ``supervise_process_exit_status`` (last exit status),
and ``supervise_process_state_changes_total`` counted from the bus; from the daemon's resource
sampler (``[supervisord] usage_interval``), for each process measured by the last sample,
``supervise_process_cpu_seconds_total`` (CPU time of its whole tree),
``supervise_process_cpu_percent``, ``supervise_process_resident_memory_bytes`` and
``supervise_process_tree_processes``; ``supervise_events_total`` by event type;
``supervise_bus_lag_seconds`` (publish-to-delivery delay of the last event).

The text format is written by hand: a few dozen lines, against pulling in
``prometheus_client``'s global registry for data we already hold.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from twisted.web.resource import Resource

from supervise.events.types import Event, ProcessStateEvent, ResourcesSampled
from supervise.interfaces import IEventListener
from supervise.plugin import Plugin, listener


def _labels(**labels: str) -> str:
    inner = ",".join(
        f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in labels.items()
    )
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    """A sample value in full (``:g`` would round 1708032 bytes to 1.70803e+06)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Metrics(Resource):
    """Renders the exposition text on every scrape."""

    isLeaf = True  # noqa: N815 - Twisted's name

    def __init__(self, plugin: PrometheusPlugin) -> None:
        super().__init__()
        self.plugin = plugin

    def render_GET(self, request: Any) -> bytes:  # noqa: N802 - Twisted's name
        request.setHeader(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")
        return self.plugin.exposition().encode("utf-8")


class PrometheusPlugin(Plugin):
    """The ``prometheus`` plugin."""

    def configure(self, options: Mapping[str, str], context: Any) -> None:
        self.context = context
        self.events: Counter[str] = Counter()
        self.state_changes: Counter[tuple[str, str]] = Counter()
        self.lag = 0.0
        self.usage: Mapping[str, Any] = {}

    def listeners(self) -> Iterable[IEventListener]:
        return [listener("prometheus", (Event,), self.count)]

    def resources(self) -> Mapping[bytes, Any]:
        return {b"metrics": Metrics(self)}

    def count(self, event: Event) -> None:
        """Count every event; remember how late it arrived."""
        self.events[event.type_name] += 1
        self.lag = max(0.0, time.time() - event.when)
        if isinstance(event, ProcessStateEvent):
            self.state_changes[(event.group, event.process)] += 1
        elif isinstance(event, ResourcesSampled):
            self.usage = event.usage

    def exposition(self) -> str:
        """The metrics in Prometheus' text format."""
        now = time.time()
        out: list[str] = []

        def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

        programs = self.context.control.snapshots()
        ids = [(p, _labels(group=p.group, process=p.name)) for p in programs]
        family("supervise_process_state", "gauge", "supervisord state code (0 STOPPED … 20 RUNNING … 200 FATAL)",
               [(lab, int(p.state)) for p, lab in ids])  # fmt: skip
        family("supervise_process_up", "gauge", "1 when the process is RUNNING",
               [(lab, 1 if p.state.name == "RUNNING" else 0) for p, lab in ids])  # fmt: skip
        family("supervise_process_uptime_seconds", "gauge", "seconds since the process started, when RUNNING",
               [(lab, now - p.start if p.state.name == "RUNNING" else 0) for p, lab in ids])  # fmt: skip
        family("supervise_process_restarts_total", "counter", "starts after the first",
               [(lab, max(0, p.spawns - 1)) for p, lab in ids])  # fmt: skip
        family("supervise_process_exit_status", "gauge", "last exit status (-1 for a signal)",
               [(lab, p.exitstatus) for p, lab in ids])  # fmt: skip
        family("supervise_process_state_changes_total", "counter", "state changes seen on the bus",
               [(lab, self.state_changes[(p.group, p.name)]) for p, lab in ids])  # fmt: skip
        measured = [(self.usage[p.namespec], lab) for p, lab in ids if p.namespec in self.usage]
        family("supervise_process_cpu_seconds_total", "counter", "CPU time of the process's whole tree",
               [(lab, u.cpu_seconds) for u, lab in measured])  # fmt: skip
        family("supervise_process_cpu_percent", "gauge", "CPU over the last sample interval, percent of one CPU",
               [(lab, u.cpu_percent) for u, lab in measured])  # fmt: skip
        family("supervise_process_resident_memory_bytes", "gauge", "resident memory of the process's whole tree",
               [(lab, u.rss) for u, lab in measured])  # fmt: skip
        family("supervise_process_tree_processes", "gauge", "processes in the process's tree",
               [(lab, u.processes) for u, lab in measured])  # fmt: skip
        family("supervise_events_total", "counter", "events seen on the bus, by type",
               [(_labels(type=name), count) for name, count in sorted(self.events.items())])  # fmt: skip
        family("supervise_bus_lag_seconds", "gauge", "delay between publishing and delivering the last event",
               [("", self.lag)])  # fmt: skip
        return "\n".join(out) + "\n"
