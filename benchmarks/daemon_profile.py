"""Where a plain daemon's start-up time and memory go: the modules it loads (and the
import time they cost), its resident memory by mapping (/proc/PID/smaps), and the bytes
Python holds by the package that allocated them (tracemalloc).

    python benchmarks/daemon_profile.py [CHECKOUT]   # prints the profile's Markdown

The daemon is ``supervise -n`` on one ``sleep`` program, run through
``supervise/testing/module_report.py`` (of this checkout, on CHECKOUT's code), once
with ``-X importtime`` and once under tracemalloc (which slows it and adds its own
memory, so RSS is read from the first run).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

from attrs import frozen

HERE = Path(__file__).resolve().parents[1]
REPORTER = HERE / "supervise" / "testing" / "module_report.py"
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@frozen
class Profile:
    """One daemon's profile."""

    modules: int
    packages: list[tuple[str, int]]  # top-level package, modules loaded from it
    import_ms: float  # all imports' cumulative time
    slowest: list[tuple[str, float]]  # top-level imports by cumulative ms
    rss_kib: int
    mappings: list[tuple[str, int]]  # smaps: mapping, resident KiB
    python_kib: int  # bytes tracemalloc sees held
    allocators: list[tuple[str, int]]  # package, KiB held


def run_daemon(root: Path, python_options: list[str], env: dict[str, str]) -> tuple[Path, int, str]:
    """Start the reporter on a one-program config; once it answers, have it report.
    Returns the report's path, the daemon's RSS (KiB) and its smaps text."""
    folder = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    conf = folder / "d.conf"
    conf.write_text(
        f"[supervisord]\nlogfile={folder}/main.log\npidfile={folder}/d.pid\n"
        f"childlogdir={folder}\n[unix_http_server]\nfile={folder}/d.sock\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        "[program:one]\ncommand=sleep 100000\nstartsecs=0\n"
    )
    report = folder / "modules.txt"
    environ = dict(os.environ, PYTHONPATH=str(root), MODULE_REPORT=str(report), **env)
    with open(folder / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, *python_options, str(REPORTER), "-n", "-c", str(conf)],
            cwd=folder, env=environ, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    sys.path.insert(0, str(HERE))
    from supervise.testing import raw_xmlrpc

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if b"RUNNING" in raw_xmlrpc(folder / "d.sock", "supervisor.getAllProcessInfo"):
                    break
            except OSError:
                pass
            time.sleep(0.05)
        time.sleep(1)  # settled
        with open(f"/proc/{process.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        smaps = Path(f"/proc/{process.pid}/smaps").read_text()
        process.send_signal(signal.SIGWINCH)
        while not report.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(60)
    return report, rss, smaps


def resident_by_mapping(smaps: str) -> list[tuple[str, int]]:
    """Resident KiB by mapped file (its base name) or kind ([heap], anonymous)."""
    sizes: Counter[str] = Counter()
    name = ""
    for line in smaps.splitlines():
        fields = line.split()
        if fields and re.match(r"^[0-9a-f]+-[0-9a-f]+$", fields[0]):
            name = os.path.basename(fields[5]) if len(fields) > 5 else "anonymous"
        elif fields and fields[0] == "Rss:":
            sizes[name] += int(fields[1])
    return sizes.most_common()


def profile(root: Path) -> Profile:
    """Profile ``supervise -n`` as CHECKOUT ``root`` has it."""
    report, rss, smaps = run_daemon(root, ["-X", "importtime"], {})
    names = [line.split()[0] for line in report.read_text().splitlines()]
    packages = Counter(name.split(".")[0] for name in names)
    cumulative: dict[str, float] = {}
    for line in (report.parent / "stderr.txt").read_text().splitlines():
        match = IMPORT_LINE.match(line)
        if match and not match.group(3):  # a top-level import
            cumulative[match.group(4)] = int(match.group(2)) / 1000
    traced, _, _ = run_daemon(root, [], {"PYTHONTRACEMALLOC": "1"})
    held = [
        (owner, int(size) // 1024)
        for owner, size in (
            line.rsplit(" ", 1) for line in Path(f"{traced}.memory").read_text().splitlines()
        )
    ]
    return Profile(
        modules=len(names),
        packages=packages.most_common(8),
        import_ms=sum(cumulative.values()),
        slowest=sorted(cumulative.items(), key=lambda item: -item[1])[:6],
        rss_kib=rss,
        mappings=resident_by_mapping(smaps)[:8],
        python_kib=sum(kib for _, kib in held),
        allocators=held[:8],
    )


def markdown(found: Profile) -> str:
    """The profile as Markdown list items."""
    items = [
        f"- {found.modules} modules loaded; by package: "
        + ", ".join(f"{name} {count}" for name, count in found.packages),
        f"- imports: {found.import_ms:.0f} ms in all (`-X importtime`); the slowest "
        "top-level ones: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in found.slowest),
        f"- resident: {found.rss_kib / 1024:.1f} MiB; by mapping: "
        + ", ".join(f"{name} {kib / 1024:.1f}" for name, kib in found.mappings),
        f"- held by Python (tracemalloc): {found.python_kib / 1024:.1f} MiB; by allocating "
        "package: " + ", ".join(f"{name} {kib / 1024:.1f}" for name, kib in found.allocators),
    ]
    return "\n".join(textwrap.fill(item, 88, subsequent_indent="  ") for item in items)


if __name__ == "__main__":
    print(markdown(profile(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE)))
