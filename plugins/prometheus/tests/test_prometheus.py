"""The prometheus plugin, end to end: scrape /metrics from the real daemon."""

from __future__ import annotations

import time
from pathlib import Path

from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import RunningDaemon


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


def test_metrics_reflect_processes_and_restarts(tmp_path: Path) -> None:
    """A scrape shows states, up, restarts and exit status, and counts events."""
    daemon = RunningDaemon(tmp_path)
    try:
        daemon.start(
            "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
            "[program:idle]\ncommand = sleep 300\nautostart = false\n"
            "[plugin:prometheus]\n"
        )
        daemon.rpc().supervisor.signalProcess("web", "KILL")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            kind, text = scrape(daemon)
            values = samples(text)
            if values.get('supervise_process_restarts_total{group="web",process="web"}') == 1:
                break
            time.sleep(0.05)
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
