"""The prometheus plugin, end to end: scrape /metrics from the real daemon."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import RunningDaemon, wait_until


def scrape(daemon: RunningDaemon) -> tuple[str, str]:
    connection = UnixHTTPConnection(str(daemon.sock))
    connection.request("GET", "/plugins/prometheus/metrics")
    response = connection.getresponse()
    return response.getheader("content-type") or "", response.read().decode()


def samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def scrape_until(daemon: RunningDaemon, ready: Callable[[dict[str, float]], bool]) -> str:
    """Scrape until ``ready`` holds for the samples (bounded); return the last text."""
    last = [""]

    def check() -> bool:
        last[0] = scrape(daemon)[1]
        return ready(samples(last[0]))

    wait_until(check, what="the awaited samples")
    return last[0]


def start(tmp_path: Path, head: str = "") -> RunningDaemon:
    """A daemon with the plugin, ``web`` running and ``idle`` not started."""
    return RunningDaemon(tmp_path).start(
        head + "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
        "[program:idle]\ncommand = sleep 300\nautostart = false\n"
        "[plugin:prometheus]\n"
    )


def test_metrics_reflect_processes_and_restarts(tmp_path: Path) -> None:
    """A scrape shows states, up, restarts and exit status, and counts events."""
    daemon = start(tmp_path)
    try:
        daemon.rpc().supervisor.signalProcess("web", "KILL")
        restarts = 'supervise_process_restarts_total{group="web",process="web"}'
        scrape_until(daemon, lambda values: values.get(restarts) == 1)
        kind, text = scrape(daemon)
        values = samples(text)
        assert kind.startswith("text/plain; version=0.0.4")
        assert values['supervise_process_up{group="web",process="web"}'] == 1
        assert values['supervise_process_up{group="idle",process="idle"}'] == 0
        assert values['supervise_process_state{group="idle",process="idle"}'] == 0
        assert values['supervise_process_exit_status{group="web",process="web"}'] == -1
        assert values['supervise_process_state_changes_total{group="web",process="web"}'] >= 4
        assert values['supervise_events_total{type="PROCESS_STATE_EXITED"}'] == 1
        assert "# TYPE supervise_process_restarts_total counter" in text
    finally:
        daemon.close()


def test_metrics_carry_each_process_cpu_and_memory(tmp_path: Path) -> None:
    """With sampling on, each running process has its tree's CPU time and resident bytes."""
    daemon = start(tmp_path, "[supervisord]\nusage_interval = 0.1\n")
    try:
        memory = 'supervise_process_resident_memory_bytes{group="web",process="web"}'
        values = samples(scrape_until(daemon, lambda values: values.get(memory, 0) > 0))
        pid = daemon.rpc().supervisor.getProcessInfo("web")["pid"]
        pages = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[21])
        assert values[memory] == pages * os.sysconf("SC_PAGE_SIZE")
        assert values['supervise_process_tree_processes{group="web",process="web"}'] == 1
        assert 'supervise_process_cpu_seconds_total{group="web",process="web"}' in values
        assert not any('process="idle"' in key and "memory" in key for key in values)
    finally:
        daemon.close()
