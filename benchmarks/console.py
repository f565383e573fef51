"""The web console's figures, in Debian's Chromium (supervisord's page is not live, so no ratio).

    python benchmarks/console.py            # 50 kills, 2,000 processes; writes docs/performance-console.md
    python benchmarks/console.py --quick    # 10 kills, 200 processes; writes nothing

- exit → page: SIGKILL a child, time until its row on the page changes (the pid of the
  replacement, or an empty pid while it is down; updates of one reactor turn are merged,
  so EXITED and the new RUNNING may arrive together), from the kill to the browser's DOM
  change (both clocks are this machine's wall clock);
- update cost with N processes: the first render of the snapshot, then every process
  restarted at once (stopAllProcesses + startAllProcesses): the browser's time spent
  applying updates (window.superviseStats, measured in console.js), per flush and per row.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from figures import percentile, write_figures
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from supervise.testing import RunningDaemon, free_port, wait_until  # noqa: E402

CHROMIUM = os.environ.get("SUPERVISE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

ARM = """namespec => { window.seen = new Promise(resolve => {
  const row = document.querySelector(`.proc[data-namespec='${namespec}']`);
  const pid = row.querySelector('.col-pid').textContent;
  const seen = new MutationObserver(() => {
    if (row.querySelector('.col-pid').textContent !== pid) { seen.disconnect(); resolve(Date.now()); }
  });
  seen.observe(row, {childList: true, characterData: true, subtree: true});
}); }"""


def start_daemon(count: int, port: int) -> RunningDaemon:
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    daemon = RunningDaemon(folder, {"PYTHONPATH": str(ROOT)})
    daemon.start(
        f"[inet_http_server]\nport = 127.0.0.1:{port}\n"
        "[program:target]\ncommand = sleep 3600\nstartsecs = 0\n"
        f"[program:many]\ncommand = sleep 3600\nprocess_name = many_%(process_num)04d\n"
        f"numprocs = {count}\nstartsecs = 0\n"
    )
    rpc = daemon.rpc()
    wait_until(
        lambda: all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo()),
        timeout=300,
    )
    return daemon


def exit_latency(page: Any, daemon: RunningDaemon, kills: int) -> list[float]:
    rpc = daemon.rpc()
    latencies = []
    for _ in range(kills):
        wait_until(lambda: rpc.supervisor.getProcessInfo("target")["statename"] == "RUNNING")
        # The row's state, not its badge: killed again and again, target is a crash loop.
        page.wait_for_selector(".proc[data-namespec='target'][data-state='RUNNING']")
        page.evaluate(ARM, "target")
        pid = rpc.supervisor.getProcessInfo("target")["pid"]
        killed = time.time() * 1000
        os.kill(pid, signal.SIGKILL)
        shown = page.evaluate("window.seen")
        latencies.append(shown - killed)
    return latencies


def update_cost(page: Any, daemon: RunningDaemon, count: int) -> dict[str, float]:
    first = page.evaluate("window.superviseStats")
    rpc = daemon.rpc()
    page.evaluate("Object.assign(window.superviseStats, {flushes: 0, rows: 0, ms: 0})")
    rpc.supervisor.stopAllProcesses()
    rpc.supervisor.startAllProcesses()
    page.wait_for_function(
        f'document.querySelectorAll(".proc .state").length === {count + 1} && '
        "[...document.querySelectorAll('.proc .state')].every(b => b.textContent === 'RUNNING')",
        timeout=300_000,
    )
    after = page.evaluate("window.superviseStats")
    return {
        "snapshot_ms": first["lastMs"] if first["flushes"] == 1 else first["ms"],
        "flushes": after["flushes"],
        "rows": after["rows"],
        "ms": after["ms"],
        "per_flush_ms": after["ms"] / max(1, after["flushes"]),
        "per_row_us": 1000 * after["ms"] / max(1, after["rows"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    kills, count = (10, 200) if options.quick else (50, 2000)
    port = free_port()
    daemon = start_daemon(count, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            began = time.monotonic()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function(f"document.querySelectorAll('.proc').length === {count + 1}")
            load = time.monotonic() - began
            cost = update_cost(page, daemon, count)
            latencies = exit_latency(page, daemon, kills)
            browser.close()
    finally:
        daemon.close(120)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    lines = [
        f"exit → page, {kills} kills with {count + 1} processes: p50 {p50:.1f} ms, p95 {p95:.1f} ms,"
        f" max {max(latencies):.1f} ms (mean {statistics.mean(latencies):.1f})",
        f"page load to {count + 1} rows shown: {load * 1000:.0f} ms"
        f" (first snapshot applied in {cost['snapshot_ms']:.0f} ms of script)",
        f"restart of all {count + 1}: {cost['rows']:.0f} row updates in {cost['flushes']:.0f} frames,"
        f" {cost['ms']:.0f} ms of script in all, {cost['per_flush_ms']:.2f} ms per frame,"
        f" {cost['per_row_us']:.1f} µs per row",
    ]
    print("\n".join(lines))
    if options.quick:
        return
    write_figures(
        ROOT / "docs" / "performance-console.md",
        "Console performance",
        f"Measured {datetime.now():%Y-%m-%d} by `python benchmarks/console.py` on {platform.node()}"
        f" ({os.cpu_count()} cores, Python {platform.python_version()}, Debian's Chromium, headless)."
        " supervisord's page is not live, so there is nothing to compare with.",
        lines,
        "\nThe exit → page figure runs from the SIGKILL to the browser's DOM change: the"
        " kernel's exit, the daemon's reap, the bus, one SSE message, and one animation frame.\n",
    )


if __name__ == "__main__":
    main()
