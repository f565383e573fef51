"""Side-by-side benchmarks: supervise and PyPI's supervisord 4.3.0, same run, same configs.

    python benchmarks/run.py            # N = 50 and 500, 3 runs each, writes docs/performance.md
                                        # (its generated part; the text around it is kept)
    python benchmarks/run.py --full     # adds N = 2,000
    python benchmarks/run.py --quick    # N = 50, one run, nothing written (CI proves it works)

Each measure alternates targets, repeats, and prints median [min-max] and the ratio
supervise / supervisord (below 1.0 is better for times and costs, above for throughput).
Nothing here asserts: the numbers are for people.
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import daemon_profile
from figures import percentile
from supervisor.xmlrpc import SupervisorTransport

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # in-process measures (M6) use this checkout, as the daemons do
BIN = Path(sys.executable).parent
TARGETS = ("supervise", "supervisord")
F_SETPIPE_SZ = 1031
SUPERVISE_MAIN = "import sys; from supervise.cli import main; sys.exit(main())"
LOG_STAMP = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ success: (\S+) entered RUNNING"
)


class Daemon:
    """One daemon of either kind on a generated config in its own folder."""

    def __init__(self, kind: str, programs: str, minfds: int = 4096) -> None:
        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
        self.conf = self.folder / "d.conf"
        self.conf.write_text(
            "[supervisord]\n"
            f"logfile={self.folder}/main.log\npidfile={self.folder}/d.pid\nchildlogdir={self.folder}\n"
            f"minfds={minfds}\nloglevel=info\n"
            f"[unix_http_server]\nfile={self.folder}/d.sock\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            + programs
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, expect_running: bool = True) -> float:
        """Start; return seconds until every program is RUNNING (or, without
        ``expect_running``, until the daemon answers)."""
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # both run from compiled bytecode
        if self.kind == "supervise":
            # The command users run (`supervise -n -c FILE`), from this checkout.
            argv = [sys.executable, "-c", SUPERVISE_MAIN, "-n", "-c", str(self.conf)]
        else:
            argv = [str(BIN / "supervisord"), "-n", "-c", str(self.conf)]
        began = time.perf_counter()
        self.process = subprocess.Popen(
            argv, env=env, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                infos = self.rpc().supervisor.getAllProcessInfo()
                if not expect_running or (
                    infos and all(i["statename"] == "RUNNING" for i in infos)
                ):
                    return time.perf_counter() - began
            except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} did not start")

    @property
    def socket(self) -> Path:
        return self.folder / "d.sock"

    def rpc(self) -> xmlrpc.client.ServerProxy:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://localhost", transport=transport)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(300)
            except subprocess.TimeoutExpired:
                self.process.kill()


def sleepers(count: int, extra: str = "") -> str:
    return "".join(
        f"[program:p{n:04d}]\ncommand=sleep 100000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n{extra}"
        for n in range(count)
    )


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} [{min(values):.3g}-{max(values):.3g}]"


# -- measures ---------------------------------------------------------------------------


def m1_startup(count: int, runs: int) -> dict[str, list[float]]:
    """Seconds from launch to all N programs RUNNING."""
    results: dict[str, list[float]] = {t: [] for t in TARGETS}
    for _ in range(runs):
        for kind in TARGETS:
            daemon = Daemon(kind, sleepers(count), minfds=max(4096, count * 4 + 100))
            try:
                results[kind].append(daemon.start())
            finally:
                daemon.stop()
    return results


def spawn_floor(count: int, runs: int) -> list[float]:
    """Seconds a bare Python loop takes to spawn N ``sleep`` children the way supervise
    does (``subprocess``, stdout and stderr pipes, descriptors closed): the floor."""
    results = []
    for _ in range(runs):
        began = time.perf_counter()
        children = [
            subprocess.Popen(["sleep", "100000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(count)
        ]
        results.append(time.perf_counter() - began)
        for child in children:
            child.kill()
            child.wait()
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
    return results


def _running_at(log: Path, name: str, after: float) -> float | None:
    for line in log.read_text().splitlines():
        match = LOG_STAMP.match(line)
        if match and match.group(2) == name:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if stamp >= after - 0.002:
                return stamp
    return None


@contextmanager
def both_running(count: int) -> Iterator[dict[str, Daemon]]:
    """Both daemons on the same N ``sleep`` programs, all RUNNING; stopped afterwards."""
    daemons = {
        kind: Daemon(kind, sleepers(count), minfds=max(4096, count * 4 + 100)) for kind in TARGETS
    }
    try:
        for daemon in daemons.values():
            daemon.start()
        yield daemons
    finally:
        for daemon in daemons.values():
            daemon.stop()


class Poller(threading.Thread):
    """A client asking one process's info every 10 ms, as a dashboard would."""

    def __init__(self, daemon: Daemon, name: str) -> None:
        super().__init__(daemon=True)
        self.target, self.name, self.done = daemon, name, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            raw_call(self.target.socket, "supervisor.getProcessInfo", self.name)


def each_kill(count: int, kills: int) -> Iterator[tuple[str, Daemon, str, int]]:
    """Both daemons on N programs, all RUNNING; ``kills`` rounds of (daemon's kind, the
    daemon, the program to kill, its pid), alternating daemons."""
    with both_running(count) as daemons:
        for n in range(kills):
            for kind, daemon in daemons.items():
                name = f"p{n % count:04d}"
                yield kind, daemon, name, daemon.rpc().supervisor.getProcessInfo(name)["pid"]


def m2_restart(count: int, kills: int, polled: bool = False) -> dict[str, list[float]]:
    """Seconds from SIGKILL of a child to its replacement's RUNNING line: with no client
    traffic, or (``polled``) while a client polls the daemon every 10 ms."""
    results: dict[str, list[float]] = {t: [] for t in TARGETS}
    for kind, daemon, name, pid in each_kill(count, kills):
        poller = Poller(daemon, f"p{(int(name[1:]) + 1) % count:04d}")
        if polled:
            poller.start()
        # Idle: let supervisord's one-second loop settle so that no client
        # request wakes it; polled: let the poller run a while.
        time.sleep(0.3 if polled else 1.2)
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        stamp = None
        while stamp is None and time.monotonic() < deadline:
            time.sleep(0.05)
            stamp = _running_at(daemon.folder / "main.log", name, killed)
        poller.done.set()
        if polled:
            poller.join()
        if stamp is not None:
            results[kind].append(max(0.0, stamp - killed))
    return results


def m2_seen_running(count: int, kills: int, every: float = 0.005) -> dict[str, list[float]]:
    """Seconds from SIGKILL of a child until a client asking ``getProcessInfo`` every
    ``every`` s sees its replacement RUNNING (a new pid)."""
    results: dict[str, list[float]] = {t: [] for t in TARGETS}
    for kind, daemon, name, pid in each_kill(count, kills):
        time.sleep(0.3)
        killed = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = raw_call(daemon.socket, "supervisor.getProcessInfo", name)
            info = xmlrpc.client.loads(answer.split(b"\r\n\r\n", 1)[1])[0][0]
            if info["statename"] == "RUNNING" and info["pid"] != pid:
                results[kind].append(time.perf_counter() - killed)
                break
            time.sleep(every)
    return results


def m2_round_trip(count: int, trips: int) -> dict[str, dict[str, list[float]]]:
    """Seconds for stopProcess(wait) and for startProcess(wait), through xmlrpc.client."""
    results: dict[str, dict[str, list[float]]] = {t: {"stop": [], "start": []} for t in TARGETS}
    with both_running(count) as daemons:
        for n in range(trips):
            for kind, daemon in daemons.items():
                proxy, name = daemon.rpc(), f"p{n % count:04d}"
                for call, key in ((proxy.supervisor.stopProcess, "stop"), (proxy.supervisor.startProcess, "start")):  # fmt: skip
                    began = time.perf_counter()
                    call(name, True)
                    results[kind][key].append(time.perf_counter() - began)
    return results


def _proc(pid: int) -> tuple[float, int, int]:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as handle:
        rss = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
    return cpu, rss, len(os.listdir(f"/proc/{pid}/fd"))


def m3_idle(count: int, seconds: float) -> dict[str, dict[str, float]]:
    """CPU seconds over an idle period, RSS (KiB) and open descriptors."""
    with both_running(count) as daemons:
        time.sleep(2)
        before = {kind: _proc(d.pid)[0] for kind, d in daemons.items()}
        time.sleep(seconds)
        out = {}
        for kind, daemon in daemons.items():
            cpu, rss, fds = _proc(daemon.pid)
            out[kind] = {"cpu": cpu - before[kind], "rss": rss, "fds": fds}
        return out


WRITER = "import sys\nblock = b'x' * 65535 + b'\\n'\nfor _ in range({n}):\n    sys.stdout.buffer.write(block)\n"


def pipe_to_file(writer: Path, target: Path, mebibytes: int) -> float:
    """MiB/s of the same writer through a 1 MiB pipe into a file, copied by the
    plainest reader there is (1 MiB reads, each written straight out): the limit."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 1 << 20)
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(writer)], stdout=write_end)
    os.close(write_end)
    while data := os.read(read_end, 1 << 20):
        os.write(out, data)
    child.wait()
    elapsed = time.perf_counter() - began
    os.close(read_end)
    os.close(out)
    target.unlink()
    return mebibytes / elapsed


def m4_logs(mebibytes: int, runs: int) -> dict[str, list[float]]:
    """MiB/s from a fast writer to the log files (rotation on), and the pipe-to-file limit."""
    blocks = mebibytes * 16
    results: dict[str, list[float]] = {t: [] for t in (*TARGETS, "pipe to file")}
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="bench-pipe-"))
        (folder / "w.py").write_text(WRITER.format(n=blocks))
        results["pipe to file"].append(pipe_to_file(folder / "w.py", folder / "out", mebibytes))
        for kind in TARGETS:
            daemon = Daemon(
                kind,
                f"[program:w]\ncommand={sys.executable} {folder}/w.py\nstartsecs=0\nautostart=false\n"
                f"autorestart=false\nstdout_logfile={folder}/{kind}.log\nstdout_logfile_maxbytes=50MB\n"
                "stdout_logfile_backups=10\n",
            )
            try:
                daemon.start(expect_running=False)
                total = blocks * 65536
                began = time.perf_counter()
                daemon.rpc().supervisor.startProcess("w", False)
                while sum(p.stat().st_size for p in folder.glob(f"{kind}.log*")) < total:
                    time.sleep(0.01)
                results[kind].append(mebibytes / (time.perf_counter() - began))
            finally:
                daemon.stop()
                for path in folder.glob(f"{kind}.log*"):
                    path.unlink()
    return results


M5_ROWS = (
    ("all p50", "getAllProcessInfo p50"),
    ("all p95", "getAllProcessInfo p95"),
    ("one p50", "getProcessInfo p50"),
    ("one p95", "getProcessInfo p95"),
    ("all parsed p50", "getAllProcessInfo via xmlrpc.client p50"),
)


def raw_call(socket_path: Path, method: str, *params: object) -> bytes:
    """One call's whole answer, unparsed: what a daemon costs to answer, without the
    client's own unmarshalling (Python's xmlrpc.client takes ~22 ms to parse 500
    process structs, the same for both daemons)."""
    from supervise.testing import raw_xmlrpc  # this checkout's (sys.path above)

    answer = raw_xmlrpc(socket_path, method, *params)
    if not answer.startswith(b"HTTP/1.") or b" 200 " not in answer[:16]:
        raise RuntimeError(f"{method}: {answer[:200]!r}")
    return answer


def m5_rpc(count: int, calls: int) -> dict[str, dict[str, float]]:
    """getAllProcessInfo and getProcessInfo latency (ms) p50/p95 through the unix socket:
    the raw answer time, and the round trip through xmlrpc.client (parsing included)."""
    out: dict[str, dict[str, float]] = {}
    with both_running(count) as daemons:
        for kind, daemon in daemons.items():
            proxy = daemon.rpc()
            timings: dict[str, list[float]] = {"all": [], "one": [], "all parsed": []}
            for n in range(calls):
                requests: dict[str, tuple[Callable[..., object], tuple[object, ...]]] = {
                    "all": (raw_call, (daemon.socket, "supervisor.getAllProcessInfo")),
                    "one": (raw_call, (daemon.socket, "supervisor.getProcessInfo", f"p{n % count:04d}")),
                    "all parsed": (proxy.supervisor.getAllProcessInfo, ()),
                }  # fmt: skip
                for key, (call, args) in requests.items():
                    began = time.perf_counter()
                    call(*args)
                    timings[key].append((time.perf_counter() - began) * 1000)
            out[kind] = {
                f"{key} {label}": percentile(values, fraction)
                for key, values in timings.items()
                for label, fraction in (("p50", 0.5), ("p95", 0.95))
            }
    return out


def m6_bus(events: int) -> dict[str, dict[int, float]]:
    """In-process event delivery: events handed to each of 1, 10, 100 listeners per second."""
    from supervisor import events as sd_events

    from supervise.events.bus import CallbackListener, EventBus
    from supervise.events.types import ProcessStateEvent, ProcessStateRunning
    from supervise.states import ProcessState

    out: dict[str, dict[int, float]] = {"supervise": {}, "supervisord": {}}
    got = [0]

    def count(_: object) -> None:
        got[0] += 1

    for listeners in (1, 10, 100):
        got[0] = 0
        bus = EventBus(time.time)
        for n in range(listeners):
            bus.subscribe(CallbackListener(f"l{n}", (ProcessStateEvent,), count, 10**9))
        began = time.perf_counter()
        for _ in range(events):
            bus.publish(ProcessStateRunning("g", "p", ProcessState.STARTING, pid=1))
        out["supervise"][listeners] = got[0] / (time.perf_counter() - began)

        sd_events.clear()
        got[0] = 0
        for _ in range(listeners):
            sd_events.subscribe(sd_events.ProcessStateEvent, count)
        process = type(
            "P", (), {"pid": 1, "config": type("C", (), {"name": "p"})(), "group": None}
        )()
        began = time.perf_counter()
        for _ in range(events):
            sd_events.notify(sd_events.ProcessStateRunningEvent(process, 10))
        out["supervisord"][listeners] = got[0] / (time.perf_counter() - began)
        sd_events.clear()
    return out


def m6_exit_to_listener(kills: int) -> dict[str, list[float]]:
    """Seconds from SIGKILL of a child to a supervisord-protocol listener's receipt of EXITED."""
    results: dict[str, list[float]] = {t: [] for t in TARGETS}
    listener = Path(__file__).parent / "exit_listener.py"
    daemons = {}
    for kind in TARGETS:
        record = Path(tempfile.mkdtemp(prefix="bench-m6-")) / "events.log"
        config = sleepers(1) + (
            f"[eventlistener:timer]\ncommand = {sys.executable} {listener} {record}\n"
            "events = PROCESS_STATE_EXITED\n"
        )
        daemons[kind] = (Daemon(kind, config), record)
    try:
        for daemon, _ in daemons.values():
            daemon.start(expect_running=False)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                infos = daemon.rpc().supervisor.getAllProcessInfo()
                if infos and all(i["statename"] == "RUNNING" for i in infos):
                    break
                time.sleep(0.05)
        for _ in range(kills):
            for kind, (daemon, record) in daemons.items():
                pid = daemon.rpc().supervisor.getProcessInfo("p0000")["pid"]
                time.sleep(1.2)  # idle daemons, as in M2
                seen = record.read_text().count("\n") if record.exists() else 0
                killed = time.time()
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    lines = record.read_text().splitlines() if record.exists() else []
                    if len(lines) > seen:
                        results[kind].append(max(0.0, float(lines[seen].split()[0]) - killed))
                        break
                    time.sleep(0.001)
    finally:
        for daemon, _ in daemons.values():
            daemon.stop()
    return results


# -- report -----------------------------------------------------------------------------


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "n/a"


M1_TARGETS = {50: 0.7, 500: 0.3}


def target(measured: float | None, goal: float | None, unit: str = "") -> str:
    """A target cell: the goal and whether the measured ratio meets it ('' without one)."""
    if goal is None:
        return ""
    if measured is None:
        return f"≤ {goal:g}{unit}: n/a"
    return f"≤ {goal:g}{unit}: {'met' if measured <= goal else 'missed'} ({measured:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument(
        "--brief", action="store_true", help="N = 50 and 500, fewer rounds (a loaded machine)"
    )
    options = parser.parse_args()
    few = options.quick or options.brief  # fewer repetitions of every measure
    compileall.compile_dir(ROOT / "supervise", quiet=1)  # as an installed copy would be
    sizes = [50] if options.quick else [50, 500] + ([2000] if options.full else [])
    growth = [100, 500, 2000] if options.full else []
    runs = 1 if options.quick else 2 if options.brief else 3
    lines: list[str] = []
    grown: dict[tuple[str, int], tuple[float, float]] = {}  # (measure, N) -> (ours, theirs)

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def row(
        measure: str, count: int, ours: float, theirs: float, goal: float | None = None
    ) -> None:
        say(f"| {measure} | {count} | {ours:.3g} | {theirs:.3g} | {ratio(ours, theirs)} | "
            f"{target(ours / theirs if theirs else None, goal)} |")  # fmt: skip
        if count in growth:
            grown[(measure, count)] = (ours, theirs)

    say("| measure | N | supervise | supervisord | ratio | target (issue 20) |")
    say("|---|---|---|---|---|---|")
    for count in sizes:
        m1 = m1_startup(count, runs)
        ours, theirs = statistics.median(m1["supervise"]), statistics.median(m1["supervisord"])
        say(f"| M1 start-up, s | {count} | {summary(m1['supervise'])} | {summary(m1['supervisord'])} | "
            f"{ratio(ours, theirs)} | {target(ours / theirs, M1_TARGETS.get(count))} |")  # fmt: skip
        floor = spawn_floor(count, runs)
        say(f"| M1 spawn-loop floor (bare `subprocess` loop), s | {count} | {summary(floor)} | | "
            f"supervise {ours / statistics.median(floor):.1f}x the floor | "
            f"{target(ours / statistics.median(floor), 3.0 if count >= 2000 else None, 'x the floor')} |")  # fmt: skip
    for count in [1, 50] if options.quick else sorted({1, 500, *growth}):
        m2 = m2_restart(
            count, 3 if options.quick else 10 if few else 50 if count in (1, 500) else 20
        )
        for label, p in (("p50", 0.5), ("p95", 0.95)):
            ours, theirs = percentile(m2["supervise"], p), percentile(m2["supervisord"], p)
            row(f"M2 restart after SIGKILL {label}, s", count, ours, theirs)
    for count in [50] if options.quick else [1, 500]:
        m2 = m2_restart(count, 3 if options.quick else 10 if few else 50, polled=True)
        for label, p in (("p50", 0.5), ("p95", 0.95)):
            ours, theirs = percentile(m2["supervise"], p), percentile(m2["supervisord"], p)
            row(f"M2 restart after SIGKILL, a client polling, {label}, s", count, ours, theirs)
        seen = m2_seen_running(count, 3 if options.quick else 10 if few else 30)
        for label, p in (("p50", 0.5), ("p95", 0.95)):
            ours, theirs = percentile(seen["supervise"], p), percentile(seen["supervisord"], p)
            row(f"M2 kill → RUNNING seen by a client polling every 5 ms, {label}, s", count,
                ours, theirs, 0.5 if label == "p50" else None)  # fmt: skip
        trips = m2_round_trip(count, 5 if options.quick else 10 if few else 30)
        for key in ("stop", "start"):
            ours = statistics.median(trips["supervise"][key])
            theirs = statistics.median(trips["supervisord"][key])
            row(f"M2 {key}Process(wait) p50, s", count, ours, theirs)
    rss: dict[int, dict[str, float]] = {}
    for count in sorted({*sizes, *growth}):
        m3 = m3_idle(count, 5 if options.quick else 10 if few else 30)
        rss[count] = {kind: m3[kind]["rss"] for kind in TARGETS}
        for key, unit in (("cpu", "CPU s"), ("rss", "RSS KiB"), ("fds", "open fds")):
            goal = 1.0 if key == "rss" and count in (50, 500) else None
            row(f"M3 idle {unit}", count, m3["supervise"][key], m3["supervisord"][key], goal)
    if 50 in rss and 500 in rss:
        ours, theirs = ((rss[500][kind] - rss[50][kind]) / 450 for kind in TARGETS)
        say(f"| M3 RSS per program (50 → 500 programs), KiB | 450 | {ours:.3g} | {theirs:.3g} | "
            f"{ratio(ours, theirs)} | {target(ours / theirs if theirs > 0 else None, 0.7)} |")  # fmt: skip
    m4 = m4_logs(16 if options.quick else 64 if few else 256, runs)
    limit = statistics.median(m4["pipe to file"])
    for kind in TARGETS:
        say(f"| M4 log throughput, MiB/s ({kind}) | 1 | {summary(m4[kind])} | pipe→file {limit:.0f} | "
            f"{statistics.median(m4[kind]) / limit:.2f} of the limit | |")  # fmt: skip
    say(f"| M4 ratio supervise/supervisord (higher is better) | 1 | | | "
        f"{ratio(statistics.median(m4['supervise']), statistics.median(m4['supervisord']))} | |")  # fmt: skip
    for count in sorted({*sizes, *growth}):
        m5 = m5_rpc(count, 20 if options.quick else 50 if few else 200 if count <= 500 else 10)
        for key, name in M5_ROWS:
            goal = 0.1 if key == "all p50" and count == 500 else None
            row(f"M5 {name}, ms", count, m5["supervise"][key], m5["supervisord"][key], goal)
    m6 = m6_bus(2_000 if options.quick else 20_000)
    for listeners in (1, 10, 100):
        ours, theirs = m6["supervise"][listeners], m6["supervisord"][listeners]
        say(f"| M6 bus deliveries/s, {listeners} in-process listeners (higher is better) | {listeners} | "
            f"{ours:.3g} | {theirs:.3g} | {ratio(ours, theirs)} | |")  # fmt: skip
    m6x = m6_exit_to_listener(3 if options.quick else 5 if few else 20)
    for label, p in (("p50", 0.5), ("p95", 0.95)):
        ours, theirs = percentile(m6x["supervise"], p), percentile(m6x["supervisord"], p)
        say(f"| M6 exit → protocol listener {label}, s | 1 | {ours:.3g} | {theirs:.3g} | {ratio(ours, theirs)} | |")  # fmt: skip
    if options.quick:
        return
    if growth:
        say("")
        say("### Cost growth")
        say("")
        say(f"Each figure at N = {', '.join(map(str, growth))}; the last column is the growth "
            f"from {growth[-2]} to {growth[-1]} programs ({growth[-1] // growth[-2]} = linear).")  # fmt: skip
        say("")
        say("| measure | daemon | " + " | ".join(f"N={n}" for n in growth) + " | growth |")
        say("|---|---|" + "---|" * (len(growth) + 1))
        measured_at_all = [m for m in dict.fromkeys(m for m, _ in grown) if all((m, n) in grown for n in growth)]  # fmt: skip
        for measure in measured_at_all:
            for index, kind in enumerate(TARGETS):
                values = [grown[(measure, n)][index] for n in growth]
                say(f"| {measure} | {kind} | " + " | ".join(f"{v:.3g}" for v in values)
                    + f" | {ratio(values[-1], values[-2])} |")  # fmt: skip
    say("")
    say("### Import and memory profile of a plain daemon (`supervise -n`, one program)")
    say("")
    say("Before issue 20 (commit 85b18a2; the same measure, `python benchmarks/daemon_profile.py "
        "CHECKOUT`, run on this machine on 2026-12-02; its import times were taken under a "
        "heavier load than this run's: compare module counts and memory):")  # fmt: skip
    say("")
    say(PROFILE_BEFORE)
    say("")
    say("Now (this run; import times are inflated by `-X importtime` and the machine's load):")
    say("")
    say(daemon_profile.markdown(daemon_profile.profile(ROOT)))
    command = "python benchmarks/run.py" + (
        " --full" if options.full else " --brief" if options.brief else ""
    )
    facts = (
        f"{platform.node()}: {os.cpu_count()} CPUs, Linux {platform.release()}, Python "
        f"{platform.python_version()}, {datetime.now().strftime('%Y-%m-%d')}"
    )
    write_report(
        f"Generated by `{command}` ({runs} runs per measure, targets alternating) on {facts}.\n"
        + (BRIEF_NOTE if options.brief else "")
        + "Times: median [min-max] over runs; ratio = supervise / supervisord (lower is better,\n"
        "except M4 throughput).\n\n" + "\n".join(lines)
    )


BEGIN = "<!-- generated by benchmarks/run.py: begin -->"
END = "<!-- generated by benchmarks/run.py: end -->"


def write_report(generated: str) -> None:
    """Replace the generated part of docs/performance.md (between BEGIN and END); the
    text around it, how the figures are taken and what they mean, is kept as written."""
    path = ROOT / "docs" / "performance.md"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
    else:
        head, tail = "# Performance\n\n", "\n"
    path.write_text(f"{head}{BEGIN}\n{generated}\n{END}{tail}")


BRIEF_NOTE = """\
A shortened run (`--brief`: N = 50 and 500, fewer rounds, kills and calls): on this
machine, shared with seven engineers' test suites (load average above 20 on 2 CPUs), a
2,000-program start and stop of both daemons took minutes each and `--full` could not
finish in the session. Absolute times are several times an idle machine's; read the ratios.
"""

PROFILE_BEFORE = """\
- 673 modules loaded; by package: twisted 149, supervise 127, cryptography 53, asyncio
  29, importlib 22, email 15, attr 13, xml 11
- imports: 4993 ms in all (`-X importtime`); the slowest top-level ones: supervise.cli
  2311 ms, supervise.service 1965 ms, twisted.scripts.twistd 399 ms, site 105 ms,
  twisted.trial.itrial 55 ms, supervise.tap 47 ms
- resident: 56.3 MiB; by mapping: anonymous 24.4, [heap] 10.3, _rust.abi3.so 7.3,
  libpython3.11.so.1.0 5.1, libcrypto.so.3 3.4, libc.so.6 1.4, libm.so.6 0.5,
  _cffi_backend.cpython-311-x86_64-linux-gnu.so 0.3
- held by Python (tracemalloc): 30.9 MiB; by allocating package:
  frozen:importlib._bootstrap_external 14.3, frozen:importlib._bootstrap 3.1, attr 2.7,
  twisted 1.9, frozen:abc 0.9, zope 0.8, supervise 0.6, cryptography 0.6"""


if __name__ == "__main__":
    main()
