"""Cluster mode's figures, with Debian's redis-server and real daemons on this machine.

    python benchmarks/cluster.py            # writes docs/performance-cluster.md
    python benchmarks/cluster.py --quick    # fewer rounds and nodes, writes nothing

- exit → cluster console: SIGKILL a child on a node, time until the console's event
  stream (Server-Sent Events, read raw) carries the process's new state;
- push → RUNNING: `cluster push` of a new program placed on a node, until it is RUNNING
  there (checked every 5 ms over XML-RPC);
- idle cost: Redis commands per second caused by one idle node (INFO stats);
- the console with simulated nodes (node records, state hashes and heartbeats written
  straight into Redis, as real nodes would): time until Chromium shows every row, and how
  many process updates per second the page absorbs while the event stream is fed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import percentile, write_figures  # noqa: E402

from supervise.testing import RunningDaemon, free_port, tool, wait_until  # noqa: E402
from tests.e2e.redis_server import RedisServer  # noqa: E402

CHROMIUM = os.environ.get("SUPERVISE_CHROMIUM", "/usr/bin/chromium")


def node(folder: Path, name: str, redis: RedisServer, extra: str = "") -> RunningDaemon:
    daemon = RunningDaemon(folder / name, {"PYTHONPATH": str(ROOT)})
    daemon.tmp.mkdir(parents=True, exist_ok=True)
    daemon.start(f"[cluster]\nredis = {redis.url}\nnode = {name}\nallow_users = root\n{extra}\n")
    return daemon


def push(daemon: RunningDaemon, text: str) -> None:
    defs = daemon.tmp / "defs.conf"
    defs.write_text(text)
    subprocess.run(
        [tool("supervisectl"), "-c", str(daemon.conf), "cluster", "push", str(defs)],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


class EventStream:
    """A raw reader of the console's Server-Sent Events."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/cluster/api/events")
        self.response = self.connection.getresponse()
        self.buffer = b""

    def next(self) -> tuple[str, dict[str, object]]:
        while b"\n\n" not in self.buffer:
            self.buffer += self.response.read1(65536)
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        kind, data = "", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                kind = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        return kind, json.loads(data) if data else {}


def exit_to_console(tmp: Path, redis: RedisServer, kills: int) -> tuple[list[float], list[float]]:
    port = free_port()
    console = node(
        tmp, "console", redis, f"console = true\n[inet_http_server]\nport = 127.0.0.1:{port}"
    )
    worker = node(tmp, "worker", redis)
    try:
        push(worker, "[program:target]\ncommand = sleep 3600\nstartsecs = 0\nplacement = worker\n")
        rpc = worker.rpc()
        wait_until(lambda: "target" in {i["name"] for i in rpc.supervisor.getAllProcessInfo()})
        wait_until(lambda: rpc.supervisor.getProcessInfo("target")["statename"] == "RUNNING")
        stream = EventStream(port)
        latencies = []
        for _ in range(kills):
            pid = rpc.supervisor.getProcessInfo("target")["pid"]
            began = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            while True:
                kind, message = stream.next()
                rows = message.get("processes", []) if kind == "update" else []
                if any(r.get("key") == "worker/target" and r.get("pid") != pid for r in rows):  # type: ignore[union-attr]
                    latencies.append((time.monotonic() - began) * 1000)
                    break
            wait_until(lambda: rpc.supervisor.getProcessInfo("target")["statename"] == "RUNNING")
        pushes = []
        for round_ in range(max(3, kills // 5)):
            name = f"new{round_}"
            text = (worker.tmp / "defs.conf").read_text()
            text += f"[program:{name}]\ncommand = sleep 3600\nstartsecs = 0\nplacement = worker\n"
            began = time.monotonic()
            push(worker, text)
            while True:
                try:
                    if rpc.supervisor.getProcessInfo(name)["statename"] == "RUNNING":
                        break
                except Exception:
                    pass
                time.sleep(0.005)
            pushes.append((time.monotonic() - began) * 1000)
        return latencies, pushes
    finally:
        worker.close()
        console.close()


def idle_cost(tmp: Path, redis: RedisServer, seconds: float) -> float:
    worker = node(tmp, "idle", redis)
    try:
        time.sleep(3)  # let it register and settle
        before = int(redis.cli("INFO", "stats").split("total_commands_processed:")[1].split()[0])
        time.sleep(seconds)
        after = int(redis.cli("INFO", "stats").split("total_commands_processed:")[1].split()[0])
        return (after - before - 1) / seconds  # the INFO call itself
    finally:
        worker.close()


def simulated_console(
    tmp: Path, redis: RedisServer, nodes: int, processes: int
) -> dict[str, float]:
    """A console over simulated nodes; returns first paint and the update rate absorbed."""
    from playwright.sync_api import sync_playwright

    now_ms = int(time.time() * 1000)
    script = []
    for n in range(nodes):
        name = f"sim{n:02d}"
        script.append(f"ZADD sv:nodes {now_ms} {name}")
        script.append(
            f"HSET sv:node:{name} host sim labels sim version 0 pid 1 applied 1 refused '' unreachable_after 3600"
        )
        fields = []
        for p in range(processes):
            row = {"namespec": f"p{p:03d}", "name": f"p{p:03d}", "group": f"p{p:03d}", "state": "RUNNING",
                   "pid": 1000 + p, "start": now_ms / 1000, "stop": 0, "exitstatus": 0, "spawnerr": "",
                   "restarts": 0, "ready": "", "health": "", "health_failures": 0, "adopted": False,
                   "stdout": True, "stderr": True, "node": name, "seq": 1}  # fmt: skip
            fields.append(f"p{p:03d} '{json.dumps(row, separators=(',', ':'))}'")
        script.append(f"HSET sv:state:{name} " + " ".join(fields))
    subprocess.run(["redis-cli", "-p", str(redis.port)], input="\n".join(script), text=True,
                   capture_output=True, check=True)  # fmt: skip
    port = free_port()
    console = node(
        tmp, "simconsole", redis, f"console = true\n[inet_http_server]\nport = 127.0.0.1:{port}"
    )
    total = nodes * processes
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_context(bypass_csp=True).new_page()
            began = time.monotonic()
            page.goto(f"http://127.0.0.1:{port}/cluster/")
            page.wait_for_function(
                f"document.querySelectorAll('.proc').length >= {total}", timeout=300_000
            )
            first_paint = time.monotonic() - began
            page.evaluate("Object.assign(window.superviseStats, {flushes: 0, rows: 0, ms: 0})")
            # Feed the event stream: every process of every node changes pid once.
            sent = 0
            feed_began = time.monotonic()
            batch = []
            for n in range(nodes):
                for p in range(processes):
                    row = {"namespec": f"p{p:03d}", "name": f"p{p:03d}", "group": f"p{p:03d}",
                           "state": "RUNNING", "pid": 5000 + p, "start": time.time(), "stop": 0,
                           "exitstatus": 0, "spawnerr": "", "restarts": 1, "ready": "", "health": "",
                           "health_failures": 0, "adopted": False, "stdout": True, "stderr": True,
                           "node": f"sim{n:02d}", "seq": 2}  # fmt: skip
                    batch.append(
                        f"XADD sv:events * node sim{n:02d} kind process body '{json.dumps(row, separators=(',', ':'))}'"
                    )
                    sent += 1
            subprocess.run(["redis-cli", "-p", str(redis.port)], input="\n".join(batch), text=True,
                           capture_output=True, check=True)  # fmt: skip
            page.wait_for_function(
                f"[...document.querySelectorAll('.proc .col-restarts')].filter(c => c.textContent === '1').length >= {total}",
                timeout=300_000,
            )
            absorbed = time.monotonic() - feed_began
            stats = page.evaluate("window.superviseStats")
            browser.close()
    finally:
        console.close()
    return {
        "first_paint": first_paint,
        "updates": sent,
        "absorbed": absorbed,
        "rate": sent / absorbed,
        "script_ms": stats["ms"],
        "frames": stats["flushes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    kills, nodes, processes, idle_seconds = (10, 5, 50, 5) if options.quick else (50, 50, 200, 30)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    (tmp / "redis").mkdir()
    redis = RedisServer(tmp / "redis").start()
    try:
        latencies, pushes = exit_to_console(tmp, redis, kills)
        redis.cli("FLUSHALL")
        idle = idle_cost(tmp, redis, idle_seconds)
        redis.cli("FLUSHALL")
        console = simulated_console(tmp, redis, nodes, processes)
    finally:
        redis.stop(save=False)
    lines = [
        f"exit on a node → cluster console's event stream, {kills} kills: p50 "
        f"{percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms"
        f" (mean {statistics.mean(latencies):.1f})",
        f"cluster push → the new program RUNNING on its node, {len(pushes)} pushes: p50 "
        f"{percentile(pushes, 0.5):.0f} ms, p95 {percentile(pushes, 0.95):.0f} ms"
        " (includes supervisectl's own start-up, about 0.3 s of Python)",
        f"an idle node costs Redis {idle:.2f} commands/s (a heartbeat script every 2 s: EVAL, with its TIME and ZADD)",
        f"console over {nodes} simulated nodes x {processes} processes: every row shown "
        f"{console['first_paint'] * 1000:.0f} ms after navigation; {console['updates']:.0f} "
        f"process updates absorbed in {console['absorbed']:.1f} s ({console['rate']:.0f}/s, "
        f"{console['frames']:.0f} frames, {console['script_ms']:.0f} ms of script)",
    ]
    print("\n".join(lines))
    if options.quick:
        return
    write_figures(
        ROOT / "docs" / "performance-cluster.md",
        "Cluster performance",
        f"Measured {datetime.now():%Y-%m-%d} by `python benchmarks/cluster.py` on {platform.node()}"
        f" ({os.cpu_count()} cores, Python {platform.python_version()}, Debian's redis-server"
        " and Chromium, every node a real daemon on this machine).",
        lines,
    )


if __name__ == "__main__":
    main()
