"""Benchmark: getAllProcessInfo with N programs, supervise vs supervisord, same run.

    python benchmarks/get_all_process_info.py [N] [REPEATS]

Starts each daemon on the same generated config (N ``sleep`` programs, startsecs=0),
waits until all are RUNNING, times ``getAllProcessInfo`` REPEATS times, alternating
targets, and prints median [min-max] milliseconds and the ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def config(tmp: Path, count: int) -> Path:
    lines = [
        "[supervisord]",
        f"logfile={tmp}/main.log",
        f"pidfile={tmp}/d.pid",
        f"childlogdir={tmp}",
        "minfds=4096",
        "[unix_http_server]",
        f"file={tmp}/d.sock",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    ]
    for index in range(count):
        lines += [
            f"[program:p{index:04d}]",
            "command=sleep 3600",
            "startsecs=0",
            "stdout_logfile=NONE",
            "stderr_logfile=NONE",
        ]
    path = tmp / "d.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def start(
    kind: str, tmp: Path, count: int
) -> tuple[subprocess.Popen[bytes], xmlrpc.client.ServerProxy]:
    conf = config(tmp, count)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if kind == "supervise":
        argv = [str(BIN / "twistd"), "-n", "--pidfile=", "supervise", "-c", str(conf)]
    else:
        argv = [str(BIN / "supervisord"), "-n", "-c", str(conf)]
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        transport = SupervisorTransport(None, None, f"unix://{tmp}/d.sock")
        proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        try:
            infos = proxy.supervisor.getAllProcessInfo()
            if len(infos) == count and all(i["statename"] == "RUNNING" for i in infos):
                return process, proxy
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{kind} did not start {count} programs")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    samples: dict[str, list[float]] = {"supervise": [], "supervisord": []}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        daemons = {
            "supervise": start("supervise", Path(a), count),
            "supervisord": start("supervisord", Path(b), count),
        }
        try:
            for _ in range(repeats):
                for kind, (_, proxy) in daemons.items():
                    began = time.perf_counter()
                    proxy.supervisor.getAllProcessInfo()
                    samples[kind].append((time.perf_counter() - began) * 1000)
        finally:
            for process, proxy in daemons.values():
                proxy.supervisor.shutdown()
                process.wait(120)
    print(f"getAllProcessInfo with {count} programs, {repeats} calls each")
    for kind, values in samples.items():
        print(
            f"  {kind:<12} {statistics.median(values):8.1f} ms  [{min(values):.1f}-{max(values):.1f}]"
        )
    ratio = statistics.median(samples["supervise"]) / statistics.median(samples["supervisord"])
    print(f"  ratio supervise/supervisord: {ratio:.2f}")


if __name__ == "__main__":
    main()
