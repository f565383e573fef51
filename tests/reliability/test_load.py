"""Under load the daemon loses no event and no log line, and its cost stays flat.

Programs (some crash-looping, exiting after 0.1-0.5 s; a few writing
numbered lines), clients in threads calling getAllProcessInfo, reading logs and
stopping/starting programs, 100 in-process listeners and 5 protocol listeners checking
that every process's events arrive complete and in order. Quick form: 200 programs for
20 s; full form (SUPERVISE_FULL=1): 2,000 programs for 10 minutes with 50 clients.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import xmlrpc.client
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, UnixTransport, raw_xmlrpc, wait_until
from tests.e2e.conftest import ROOT
from tests.reliability.conftest import CASES, FIGURES, FULL, scale

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
PROGRAMS = scale(200, 2000)
SECONDS = scale(20, 600)
CLIENTS = scale(10, 50)
WRITERS = 4


# Crash-looping programs: a twentieth living 0.1-0.5 s in the quick form (about 150
# events/s, with room for a busy CI machine); a quarter in the full form, as the issue
# asks, but living 2-10 s: at the 50-500 ms, 500 programs restart ~1,800 times a
# second, which is two cores' worth of fork+exec before any event is delivered
# (docs/reliability.md gives the measurement).
CRASH_SHARE = scale(20, 4)
LIFETIME = (0.1, 0.5) if not FULL else (2.0, 10.0)
#: Seconds each client waits between two calls. A client that parsed 2,000 process
#: structs in a loop would be measuring this test's own CPU: the whole answer is read and
#: checked for completeness instead, and 50 clients at one call a second keep the
#: daemon serving about 50 calls a second, a third of them the full process list.
PAUSE = scale(0.05, 1.0)


def crashers(count: int) -> str:
    """``count`` programs in group ``crash``, each a ``sleep`` of its own length, restarted
    for ever (lengths spread evenly over LIFETIME, so exits do not come in waves)."""
    low, high = LIFETIME
    names = [f"c{n:04d}" for n in range(count)]
    sections = [f"[group:crash]\nprograms = {','.join(names)}\n"]
    for n, name in enumerate(names):
        seconds = low + (high - low) * ((n * 7919) % count) / max(1, count - 1)
        sections.append(
            f"[program:{name}]\ncommand = sleep {seconds:.3f}\nstartsecs = 0\n"
            "autorestart = true\nstdout_logfile = NONE\nstderr_logfile = NONE\n"
        )
    return "".join(sections)


def config(folder: Path) -> str:
    crashing = PROGRAMS // CRASH_SHARE
    steady = PROGRAMS - crashing - WRITERS - CLIENTS
    parts = [
        "[supervisord]\nminfds = 16384\n",
        "[program:steady]\ncommand = sleep 3600\nprocess_name = s%(process_num)04d\n"
        f"numprocs = {steady}\nstartsecs = 0\n",
        crashers(crashing),
        "[program:writer]\n"
        "command = sh -c 'i=0; while :; do i=$((i+1)); echo line $i; sleep 0.005; done'\n"
        f"process_name = w%(process_num)d\nnumprocs = {WRITERS}\nstartsecs = 0\n"
        "stdout_logfile = %(here)s/w%(process_num)d.log\nstdout_logfile_maxbytes = 0\n",
        "[program:toggle]\ncommand = sleep 3600\nprocess_name = t%(process_num)02d\n"
        f"numprocs = {CLIENTS}\nstartsecs = 0\n",
        "[plugin:loadcheck]\nfactory = tests.reliability.load_plugin:LoadCheck\n",
    ]
    for i in range(5):
        parts.append(
            f"[eventlistener:listener{i}]\ncommand = {sys.executable} "
            f"{HERE / 'checking_listener.py'} {folder / f'listener{i}.json'}\n"
            "events = PROCESS_STATE\nbuffer_size = 1000000\n"
        )
    return "".join(parts)


def cost(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/status") as handle:
        rss = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def test_load_loses_nothing_and_costs_stay_flat(tmp_path: Path) -> None:
    daemon = RunningDaemon(tmp_path, {"PYTHONPATH": str(ROOT)})
    daemon.write(config(tmp_path))
    daemon.start(None, timeout=120)
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []

    def client(n: int) -> None:
        rpc = xmlrpc.client.ServerProxy(
            "http://localhost", transport=UnixTransport(str(daemon.sock))
        )
        toggle = f"toggle:t{n:02d}"
        step = 0
        while not stop.is_set():
            began = time.monotonic()
            try:
                if step % 3 == 0:
                    answer = raw_xmlrpc(daemon.sock, "supervisor.getAllProcessInfo")
                    if not answer.rstrip().endswith(b"</methodResponse>"):
                        errors.append(f"an incomplete answer of {len(answer)} bytes")
                elif step % 3 == 1:
                    rpc.supervisor.tailProcessStdoutLog("writer:w0", 0, 1000)
                else:
                    rpc.supervisor.stopProcess(toggle)
                    rpc.supervisor.startProcess(toggle)
            except Exception as problem:  # a client error is a finding, not a crash
                errors.append(repr(problem))
            latencies.append(time.monotonic() - began)
            step += 1
            stop.wait(PAUSE)

    try:
        rpc = daemon.rpc()
        wait_until(
            lambda: (
                sum(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo())
                >= PROGRAMS * 0.7
            ),
            timeout=120,
        )
        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert daemon.process is not None
        pid = daemon.process.pid
        began = time.monotonic()
        stop.wait(SECONDS * 0.3)  # warm-up
        early = cost(pid)
        stop.wait(SECONDS * 0.7)
        late = cost(pid)
        stop.set()
        for thread in threads:
            thread.join(30)
        elapsed = time.monotonic() - began
        report = rpc.loadcheck.report()
    finally:
        daemon.close(120)

    CASES["load: client calls"] += len(latencies)
    CASES["load: events per in-process listener"] += report["min_events"]
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
    listened = [json.loads((tmp_path / f"listener{i}.json").read_text()) for i in range(5)]
    crashing = PROGRAMS // CRASH_SHARE
    FIGURES["load"] = (
        f"{PROGRAMS} programs ({crashing} crash-looping, living {LIFETIME[0]:g}-{LIFETIME[1]:g} s) "
        f"for {elapsed:.0f} s with {CLIENTS} clients: {len(latencies):,} client calls, p99 "
        f"{p99:.0f} ms; {report['restarts']:,} restarts ({report['restarts'] / elapsed:.0f}/s), "
        f"p99 {report['restart_p99_ms']:.1f} ms from exit to the new STARTING; "
        f"{report['min_events']:,} events to each of 100 in-process listeners, none lost or "
        f"out of order; protocol listeners got {min(x['events'] for x in listened):,}-"
        f"{max(x['events'] for x in listened):,} events each, in order; RSS "
        f"{early[0] // 1024} → {late[0] // 1024} MiB and descriptors {early[1]} → {late[1]} "
        "from the end of the warm-up to the end"
    )
    print("\nload:", FIGURES["load"])
    assert errors == []
    assert report["violations"] == [], report["violations"]
    assert report["min_events"] == report["max_events"], "an in-process listener missed events"
    assert report["restarts"] > 0
    for summary in listened:
        assert summary["violations"] == [], summary["violations"]
        assert summary["events"] > 0
    for i in range(WRITERS):
        numbers = [
            int(line.split()[1])
            for line in (tmp_path / f"w{i}.log").read_text().splitlines()
            if line.startswith("line ")
        ]
        assert numbers == list(range(1, len(numbers) + 1)), f"w{i}: a log line was lost"
        assert len(numbers) > 100
    growth = 0.05 if FULL else 0.10
    slack = 0 if FULL else 4096  # KiB: allocator noise in a 14 s window
    assert late[0] <= early[0] * (1 + growth) + slack, f"RSS grew from {early[0]} to {late[0]} KiB"
    # The count moves with what is in flight when it is taken: a crash-looping program's
    # three pipes exist only while it lives, a client's socket only during a call. A leak
    # of even one descriptor per restart would be far past that (hundreds of restarts).
    in_flight = 3 * crashing + CLIENTS
    assert late[1] <= early[1] + in_flight, f"descriptors grew from {early[1]} to {late[1]}"
