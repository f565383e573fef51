"""Faults around the daemon never cost a running program or the daemon itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.testing import RunningDaemon, wait_until
from tests.e2e.conftest import ROOT
from tests.e2e.test_handoff import pids_with
from tests.reliability.conftest import CASES, scale

pytestmark = pytest.mark.e2e


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[RunningDaemon]:
    made = RunningDaemon(tmp_path, {"PYTHONPATH": str(ROOT)})
    yield made
    made.close()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)])


def test_a_full_log_disk_costs_no_program_and_logging_resumes(
    daemon: RunningDaemon, small_disk: Path
) -> None:
    daemon.start(
        "[program:chatty]\n"
        "command = sh -c 'i=0; while :; do i=$((i+1)); printf \"%%0200d\\n\" $i; sleep 0.001; done'\n"
        f"stdout_logfile = {small_disk}/chatty.log\nstdout_logfile_maxbytes = 0\nstartsecs = 0\n"
    )
    rpc = daemon.rpc()
    pid = rpc.supervisor.getProcessInfo("chatty")["pid"]
    main_log = daemon.tmp / "main.log"
    wait_until(lambda: "cannot write" in main_log.read_text(), timeout=60)
    CASES["faults: disk full"] += 1
    info = rpc.supervisor.getProcessInfo("chatty")
    assert (info["statename"], info["pid"]) == ("RUNNING", pid)
    wait_until(lambda: rpc.supervise.getAllProcessInfo()[0]["log_dropped"] > 0)
    # Space returns (the log is cleared): writing resumes, and the loss was reported.
    rpc.supervisor.clearProcessLogs("chatty")
    wait_until(lambda: "writing again" in main_log.read_text())
    wait_until(lambda: (small_disk / "chatty.log").stat().st_size > 0)
    assert rpc.supervisor.getProcessInfo("chatty")["pid"] == pid


def test_a_flood_without_newlines_is_logged_whole_in_bounded_memory(
    daemon: RunningDaemon,
) -> None:
    size = scale(20, 200) * 1024 * 1024
    daemon.start(
        "[program:flood]\n"
        f"command = {sys.executable} -c \"import os, time; os.write(1, b'x' * {size}); time.sleep(3600)\"\n"
        f"stdout_logfile = {daemon.tmp}/flood.log\nstdout_logfile_maxbytes = 0\nstartsecs = 0\n"
    )
    assert daemon.process is not None
    before = rss_kib(daemon.process.pid)
    log = daemon.tmp / "flood.log"
    wait_until(lambda: log.exists() and log.stat().st_size == size, timeout=60)
    CASES["faults: floods"] += 1
    assert rss_kib(daemon.process.pid) < before + 20 * 1024  # no line buffering of 20+ MiB
    assert daemon.rpc().supervisor.getProcessInfo("flood")["statename"] == "RUNNING"


def test_a_child_that_closes_its_output_runs_on_without_a_busy_loop(
    daemon: RunningDaemon,
) -> None:
    daemon.start("[program:mute]\ncommand = sh -c 'exec >&- 2>&-; sleep 3600'\nstartsecs = 1\n")
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.getProcessInfo("mute")["statename"] == "RUNNING")
    assert daemon.process is not None
    began = cpu_seconds(daemon.process.pid)
    time.sleep(2)  # a measurement window, not a synchronisation
    CASES["faults: closed output"] += 1
    assert cpu_seconds(daemon.process.pid) - began < 0.2, "the daemon spins on a closed pipe"
    assert rpc.supervisor.getProcessInfo("mute")["statename"] == "RUNNING"


def test_a_program_that_forks_many_children_is_stopped_whole(daemon: RunningDaemon) -> None:
    count = scale(300, 1000)
    tag = f"sleep {48000 + os.getpid() % 1000}"
    daemon.start(
        f"[program:forker]\ncommand = sh -c 'for i in $(seq {count}); do {tag} & done; wait'\n"
        "startsecs = 0\nstopasgroup = true\nkillasgroup = true\nstopwaitsecs = 5\n"
    )
    wait_until(lambda: len(pids_with(tag)) == count, timeout=60)
    CASES["faults: forkers"] += count
    assert daemon.rpc().supervisor.stopProcess("forker") is True
    wait_until(lambda: not pids_with(tag), timeout=30)


def test_descriptor_exhaustion_is_a_clear_error_not_a_crash(daemon: RunningDaemon) -> None:
    programs = 40
    daemon.start(
        f"[program:many]\ncommand = sleep 3600\nprocess_name = m%(process_num)02d\n"
        f"numprocs = {programs}\nautostart = false\nstartsecs = 0\n"
    )
    assert daemon.process is not None
    used = len(os.listdir(f"/proc/{daemon.process.pid}/fd"))
    # Leave room for about half the programs' pipes.
    subprocess.run(["prlimit", f"--pid={daemon.process.pid}", f"--nofile={used + 40}:"], check=True)
    rpc = daemon.rpc()
    results = rpc.supervisor.startAllProcesses(False)
    CASES["faults: descriptor exhaustion"] += 1
    failed = [r for r in results if r["status"] != 80]
    assert failed, "some starts should have failed for want of descriptors"
    infos = rpc.supervisor.getAllProcessInfo()
    errors = {i["spawnerr"] for i in infos if i["spawnerr"]}
    # supervisord's own wording for it: "unknown error making dispatchers for 'x': EMFILE"
    assert any("EMFILE" in e for e in errors), errors
    assert rpc.supervisor.getState()["statename"] == "RUNNING"
    # Room again: the rest start.
    subprocess.run(["prlimit", f"--pid={daemon.process.pid}", "--nofile=4096:"], check=True)
    for info in infos:
        if info["statename"] != "RUNNING":
            try:
                rpc.supervisor.startProcess(f"many:{info['name']}")
            except Exception:
                pass
    wait_until(lambda: all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo()))


HUNG_LISTENER = (
    "import sys, time; sys.stdout.write('READY\\n'); sys.stdout.flush(); "
    "sys.stdin.readline(); time.sleep(3600)"
)
COUNTING_LISTENER = (
    "import sys; from supervisor import childutils\n"
    "n = 0\n"
    "while True:\n"
    "    childutils.listener.wait(sys.stdin, sys.stdout); n += 1\n"
    "    open(sys.argv[1], 'w').write(str(n)); childutils.listener.ok(sys.stdout)\n"
)


def test_a_listener_that_never_answers_stalls_nothing_else(daemon: RunningDaemon) -> None:
    counter = daemon.tmp / "count"
    (daemon.tmp / "counting.py").write_text(COUNTING_LISTENER)
    daemon.start(
        "[program:crasher]\ncommand = sleep 0.2\nstartsecs = 0\nautorestart = true\n"
        f'[eventlistener:hung]\ncommand = {sys.executable} -c "{HUNG_LISTENER}"\n'
        "events = PROCESS_STATE\nbuffer_size = 10\nstopwaitsecs = 2\n"
        f"[eventlistener:counting]\ncommand = {sys.executable} {daemon.tmp}/counting.py {counter}\n"
        "events = PROCESS_STATE\n"
    )
    rpc = daemon.rpc()
    main_log = daemon.tmp / "main.log"
    # The hung pool overflows and says so; the other pool goes on receiving.
    wait_until(lambda: "event buffer overflowed" in main_log.read_text(), timeout=30)
    wait_until(lambda: counter.exists() and int(counter.read_text() or 0) > 20, timeout=30)
    seen = int(counter.read_text() or 0)
    wait_until(lambda: int(counter.read_text() or 0) > seen + 10, timeout=30)
    CASES["faults: hung listener"] += 1
    hung = rpc.supervisor.getProcessInfo("hung:hung")
    assert hung["statename"] == "RUNNING"
    assert rpc.supervisor.getState()["statename"] == "RUNNING"
    # Shutdown does not wait for it for ever: it is killed after its stopwaitsecs.
    began = time.monotonic()
    assert daemon.stop(timeout=60) == 0
    assert time.monotonic() - began < 30
    assert not _alive(hung["pid"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_child_that_leaves_its_session_is_stopped_with_its_tree(daemon: RunningDaemon) -> None:
    tag = f"sleep {47000 + os.getpid() % 1000}"
    daemon.start(
        # The program's child calls setsid: a new session and process group, out of reach
        # of stopasgroup's killpg; cgroup = true keeps it in the program's tree.
        f"[program:escaper]\ncommand = sh -c 'setsid {tag} & wait'\nstartsecs = 0\n"
        "stopasgroup = true\ncgroup = true\n"
    )
    wait_until(lambda: len(pids_with(tag)) == 1, timeout=30)
    (escaped,) = pids_with(tag)
    assert os.getsid(escaped) == escaped  # it did leave the session
    CASES["faults: session leavers"] += 1
    assert daemon.rpc().supervisor.stopProcess("escaper") is True
    wait_until(lambda: not pids_with(tag), timeout=30)
