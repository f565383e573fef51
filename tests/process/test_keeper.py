"""Layer 3: the descriptor keeper with real processes — children's output outlives a
SIGKILLed daemon, and a dead, hung or abused keeper never hurts the daemon."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervise.process.linux import keeper_main
from supervise.process.linux.keeper import (
    InvalidKey,
    KeeperError,
    KeeperUnavailable,
    child_key,
    child_match,
    connect,
    launch_keeper,
    spawn_keeper,
)
from supervise.testing import wait_until
from tests.reliability.conftest import FIGURES

PY = sys.executable
ROOT = str(Path(__file__).resolve().parents[2])
F_GETPIPE_SZ = 1032
WRITE_SYSCALL = {"x86_64": 1, "aarch64": 64}.get(platform.machine())

#: A program writing numbered lines (100 per write), then ``done <pid>``; it dies of
#: SIGPIPE like a C program would if nobody holds its pipe's read end.
WRITER = r"""
import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
def put(data):
    while data:
        data = data[os.write(1, data):]
n = int(sys.argv[1]) if len(sys.argv) > 1 else -1
i = 0
while n < 0 or i < n:
    top = i + 100 if n < 0 else min(n, i + 100)
    put("".join(f"{j}\n" for j in range(i, top)).encode())
    i = top
put(f"done {os.getpid()}\n".encode())
"""

#: "Daemon 1": starts a keeper and a writer (in its own process group, as the spawner
#: does), keeps the writer's stdout read end, reads some of it, reports what it read,
#: then waits to be killed.
DAEMON_ONE = r"""
import os, subprocess, sys
from supervise.process.linux.keeper import child_key, connect, spawn_keeper
path, log, writer, lines, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
out = sys.stdout.buffer
keeper_pid = spawn_keeper(path, log_path=log)
out.write(f"keeper {keeper_pid}\n".encode()); out.flush()
child = subprocess.Popen([sys.executable, "-c", writer, str(lines)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, process_group=0)
out.write(f"child {child.pid}\n".encode()); out.flush()
fd = child.stdout.fileno()
client = connect(path)
client.keep(child_key("web", child.pid, "stdout"), fd)
got = b""
while got.count(b"\n") < first:
    got += os.read(fd, 4096)
out.write(f"read {len(got)}\n".encode() + got); out.flush()
sys.stdin.read()  # until killed
"""


# --- bounded waits --------------------------------------------------------------------


def wait_exit(pid: int, timeout: float) -> bool:
    """True once ``pid`` (any process, not only a child) has exited; False at the timeout."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], timeout)[0])
    finally:
        os.close(pidfd)


def is_running(pidfd: int) -> bool:
    return not select.select([pidfd], [], [], 0)[0]


def read_exactly(fd: int, size: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < size:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            pytest.fail(f"only {len(data)} of {size} bytes after {timeout} s")
        chunk = os.read(fd, size - len(data))
        if not chunk:
            pytest.fail(f"end of file after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_line(fd: int, timeout: float) -> str:
    line = b""
    while not line.endswith(b"\n"):
        line += read_exactly(fd, 1, timeout)
    return line.decode().strip()


def read_to_eof(fd: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            pytest.fail(f"no end of file after {timeout} s")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


# --- facts about pipes and processes --------------------------------------------------


def buffered(fd: int) -> int:
    value = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, value)
    return int.from_bytes(value, sys.byteorder)


def pipe_full(fd: int) -> bool:
    """The pipe holds so much that a writer of up to a page has to wait."""
    return buffered(fd) > fcntl.fcntl(fd, F_GETPIPE_SZ) - 4096


def blocked_in_write(pid: int) -> bool:
    """``pid`` sleeps in write(2) (architectures we know), else just sleeps."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        syscall = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return state == "S" and (WRITE_SYSCALL is None or syscall == str(WRITE_SYSCALL))


def pipes_held(pid: int) -> set[int]:
    """Inodes of the pipes process ``pid`` has open."""
    inodes = set()
    for entry in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{entry}")
        except OSError:
            continue
        if target.startswith("pipe:["):
            inodes.add(int(target[6:-1]))
    return inodes


def descriptors(pid: int) -> dict[int, str]:
    found = {}
    for entry in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[int(entry)] = os.readlink(f"/proc/{pid}/fd/{entry}")
        except OSError:
            pass
    return found


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of ``pid``, KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["RssAnon"].split()[0])


def raw_frame(body: bytes) -> bytes:
    return struct.pack("!I", len(body)) + body


# --- fixtures -------------------------------------------------------------------------


class Keeper:
    """A keeper started for a test, with its socket, pid and log."""

    def __init__(self, path: str, pid: int, log: Path) -> None:
        self.path, self.pid, self.log = path, pid, log

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


class Reaper:
    """Kills, at the end of a test, every process the test left running."""

    def __init__(self) -> None:
        self.pidfds: list[int] = []

    def watch(self, pid: int) -> int:
        pidfd = os.pidfd_open(pid)
        self.pidfds.append(pidfd)
        return pidfd

    def finish(self) -> None:
        for pidfd in self.pidfds:
            if is_running(pidfd):
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                select.select([pidfd], [], [], 10)
            os.close(pidfd)


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    left = Reaper()
    yield left
    left.finish()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (unix socket paths stop at 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="kp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start(short_dir: Path, reaper: Reaper) -> Callable[..., Keeper]:
    def start(idle_timeout: float = 60.0, name: str = "keeper.sock") -> Keeper:
        path, log = short_dir / name, short_dir / f"{name}.log"
        pid = spawn_keeper(str(path), idle_timeout=idle_timeout, log_path=str(log))
        reaper.watch(pid)
        return Keeper(str(path), pid, log)

    return start


@pytest.fixture
def keeper(start: Callable[..., Keeper]) -> Keeper:
    return start()


# --- the point of it all --------------------------------------------------------------


def test_output_survives_daemon_sigkill(short_dir: Path, reaper: Reaper) -> None:
    """Lines a child writes while no daemon runs wait in its pipe; the next daemon reads them all, once."""
    lines, first = 200_000, 1_000
    path, log = short_dir / "keeper.sock", short_dir / "keeper.log"
    daemon = subprocess.Popen(
        [PY, "-c", DAEMON_ONE, str(path), str(log), WRITER, str(lines), str(first)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        assert daemon.stdout is not None
        out = daemon.stdout.fileno()
        keeper_pid = int(read_line(out, 30).removeprefix("keeper "))
        reaper.watch(keeper_pid)
        child_pid = int(read_line(out, 30).removeprefix("child "))
        child = reaper.watch(child_pid)
        prefix = read_exactly(out, int(read_line(out, 30).removeprefix("read ")), 30)
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)  # daemon 1's whole process group
        daemon.wait(timeout=10)
    assert prefix.count(b"\n") >= first
    assert not wait_exit(keeper_pid, 0) and is_running(child)

    daemon_two = connect(str(path))
    assert daemon_two is not None
    taken = daemon_two.take()
    assert [kept.key for kept in taken] == [child_key("web", child_pid, "stdout")]
    fd = taken[0].fd
    wait_until(
        lambda: pipe_full(fd) and blocked_in_write(child_pid),
        30,
        what="the child waits on its full pipe",
    )
    assert is_running(child), "the child died with daemon 1"
    rest = read_to_eof(fd, 60)
    os.close(fd)

    text = (prefix + rest).decode().splitlines()
    assert text[-1] == f"done {child_pid}", "the same child finished writing"
    numbers = [int(line) for line in text[:-1]]
    missing = sorted(set(range(lines)) - set(numbers))
    assert (len(numbers), missing[:5]) == (lines, []), "every line arrives once, in order"
    assert numbers == list(range(lines))
    assert select.select([child], [], [], 30)[0], "the child exits once its output is read"
    daemon_two.drop(child_match("web", child_pid))  # 0 if the keeper saw the pipe end first
    assert daemon_two.status().kept == 0
    daemon_two.quit()
    assert wait_exit(keeper_pid, 10)


def test_drop_lets_the_pipe_close(keeper: Keeper) -> None:
    """Once dropped, the keeper's copy is closed: a writer with no reader left dies of SIGPIPE."""
    read_end, write_end = os.pipe()
    child = subprocess.Popen(
        [PY, "-c", WRITER], stdout=write_end, stderr=subprocess.DEVNULL, process_group=0
    )
    os.close(write_end)
    try:
        client = connect(keeper.path)
        assert client is not None
        client.keep(child_key("web", child.pid, "stdout"), read_end)
        inode = os.fstat(read_end).st_ino
        assert inode in pipes_held(keeper.pid)
        wait_until(lambda: pipe_full(read_end), 30, what="the pipe fills up")
        os.close(read_end)  # the daemon's copy goes, as in a crash
        assert client.status().kept == 1
        wait_until(lambda: blocked_in_write(child.pid), 30, what="the child waits on its full pipe")
        assert child.poll() is None

        assert client.drop(child_match("web", child.pid)) == 1
        assert child.wait(timeout=30) == -signal.SIGPIPE
        assert inode not in pipes_held(keeper.pid)
        assert client.drop(child_match("web", child.pid)) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


# --- lifecycle ------------------------------------------------------------------------


def test_keeper_is_isolated(start: Callable[..., Keeper]) -> None:
    """The keeper has its own session, ignores SIGPIPE/SIGHUP/SIGINT and inherits no descriptor."""
    stray_read, stray_write = os.pipe()
    os.set_inheritable(stray_read, True)
    os.set_inheritable(stray_write, True)
    try:
        keeper = start()
    finally:
        os.close(stray_read)
        os.close(stray_write)
    assert os.getsid(keeper.pid) == os.getpgid(keeper.pid) != os.getsid(0)
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{keeper.pid}/status").read_text().splitlines()
    )
    ignored = int(status["SigIgn"].strip(), 16)
    for sig in (signal.SIGPIPE, signal.SIGHUP, signal.SIGINT):
        assert ignored & (1 << (sig - 1)), sig
    assert os.readlink(f"/proc/{keeper.pid}/cwd") == "/"
    held = descriptors(keeper.pid)
    assert (held.pop(0), held.pop(1), held.pop(2)) == ("/dev/null", "/dev/null", str(keeper.log))
    assert sorted(kind.split(":")[0] for kind in held.values()) == ["anon_inode", "socket"]
    assert oct(os.stat(keeper.path).st_mode & 0o777) == "0o600"


def test_keeper_process_imports_no_twisted() -> None:
    """The keeper's module loads with the standard library alone, and small."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import keeper_main; "
        "print(sorted(m for m in ('twisted', 'attrs', 'zope', 'supervise') if m in sys.modules))"
    )
    result = subprocess.run(
        [PY, "-I", "-S", "-c", code, str(Path(keeper_main.__file__).parent)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_quit_ends_the_keeper(keeper: Keeper) -> None:
    """quit closes everything the keeper holds, removes its socket and ends it."""
    read_end, write_end = os.pipe()
    client = connect(keeper.path)
    assert client is not None
    client.keep(child_key("web", 1, "stdout"), read_end)
    os.close(read_end)
    client.quit()
    assert client.closed
    assert wait_exit(keeper.pid, 10)
    assert not os.path.exists(keeper.path)
    with pytest.raises(BrokenPipeError):
        os.write(write_end, b"x")  # no reader left anywhere
    os.close(write_end)


def test_idle_keeper_exits_by_itself(start: Callable[..., Keeper]) -> None:
    """A keeper nobody connects to and that keeps nothing exits after its idle timeout."""
    keeper = start(idle_timeout=0.2)
    assert wait_exit(keeper.pid, 10)
    assert not os.path.exists(keeper.path)
    assert "nothing kept for 0.2 s: exiting" in keeper.log_text()


def test_idle_timeout_waits_for_nothing_kept_and_no_daemon(start: Callable[..., Keeper]) -> None:
    """A keeper holding descriptors, or serving a daemon, outlives its idle timeout."""
    keeper = start(idle_timeout=0.3)
    read_end, write_end = os.pipe()
    client = connect(keeper.path)
    assert client is not None
    client.keep(child_key("web", 1, "stdout"), read_end)
    client.close()
    assert not wait_exit(keeper.pid, 1.0), "exited while holding a descriptor"
    client = connect(keeper.path)
    assert client is not None
    assert client.drop({"namespec": "web"}) == 1
    assert not wait_exit(keeper.pid, 1.0), "exited while a daemon is connected"
    client.close()
    assert wait_exit(keeper.pid, 10)
    os.close(read_end)
    os.close(write_end)


# --- connections ----------------------------------------------------------------------


def test_second_connection_replaces_the_first(keeper: Keeper) -> None:
    """A new daemon's connection replaces the old one, whose calls then fail cleanly."""
    first = connect(keeper.path)
    second = connect(keeper.path)
    assert first is not None and second is not None
    with pytest.raises(KeeperUnavailable):
        first.status()
    assert first.closed
    with pytest.raises(KeeperUnavailable, match="not connected"):
        first.keep(child_key("web", 1, "stdout"), 0)
    assert second.status().pid == keeper.pid == second.keeper_pid
    assert "replaces daemon pid" in keeper.log_text()


MALFORMED = {
    "huge length": (b"\xff\xff\xff\xff", 0),
    "not json": (raw_frame(b"not json"), 0),
    "not an object": (raw_frame(b"[1, 2]"), 0),
    "unknown op": (raw_frame(b'{"op": "bogus"}'), 0),
    "key not scalar": (raw_frame(b'{"op": "keep", "keys": [{"a": [1]}], "fds": 1}'), 1),
    "keys and fds differ": (raw_frame(b'{"op": "keep", "keys": [{"a": 1}], "fds": 2}'), 1),
    "fds on a status": (raw_frame(b'{"op": "status", "fds": 1}'), 1),
    "empty drop": (raw_frame(b'{"op": "drop", "match": {}}'), 0),
    "fds count a string": (raw_frame(b'{"op": "status", "fds": "1"}'), 0),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_message_drops_only_the_connection(keeper: Keeper, name: str) -> None:
    """A malformed message is logged and its connection dropped; the keeper lives on, leaks nothing."""
    data, fd_count = MALFORMED[name]
    read_end, write_end = os.pipe()
    client = connect(keeper.path)
    assert client is not None
    client.keep(child_key("web", 1, "stdout"), read_end)
    baseline = len(descriptors(keeper.pid))
    client.close()

    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(10)
    raw.connect(keeper.path)
    if fd_count:
        socket.send_fds(raw, [data], [write_end] * fd_count)
    else:
        raw.sendall(data)
    answer = b""
    while chunk := raw.recv(4096):  # until the keeper hangs up (bounded by the timeout)
        answer += chunk
    raw.close()
    if answer:
        assert json.loads(answer[4:])["ok"] is False

    client = connect(keeper.path)
    assert client is not None
    assert client.status().kept == 1
    assert len(descriptors(keeper.pid)) == baseline, "descriptors sent with it were closed"
    assert "malformed message" in keeper.log_text()
    os.close(read_end)
    os.close(write_end)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another uid needs root")
def test_other_uid_is_refused(keeper: Keeper) -> None:
    """A process of another uid that reaches the socket is refused (SO_PEERCRED)."""
    os.chmod(Path(keeper.path).parent, 0o755)
    os.chmod(keeper.path, 0o666)  # past the file mode, the credential check still holds
    code = (
        "import os, socket, struct, sys\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])\n"
        'body = b\'{"op": "hello", "version": 1}\'\n'
        "try:\n"
        "    s.sendall(struct.pack('!I', len(body)) + body)\n"
        "    print('answered' if s.recv(4096) else 'refused')\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print('refused')\n"
    )
    result = subprocess.run(
        [PY, "-I", "-c", code, keeper.path], capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "refused", result.stderr
    assert "uid 65534 is not 0" in keeper.log_text()
    client = connect(keeper.path)
    assert client is not None and client.status().kept == 0


# --- a dead or hung keeper never hurts the daemon -------------------------------------


def test_dead_keeper_raises_typed_errors(start: Callable[..., Keeper]) -> None:
    """Calls to a killed keeper raise KeeperUnavailable; a new keeper takes over its stale socket."""
    keeper = start()
    client = connect(keeper.path)
    assert client is not None
    os.kill(keeper.pid, signal.SIGKILL)
    assert wait_exit(keeper.pid, 10)
    read_end, write_end = os.pipe()
    with pytest.raises(KeeperUnavailable):
        client.keep(child_key("web", 1, "stdout"), read_end)
    assert client.closed
    for call in (client.status, client.take, client.quit, lambda: client.drop({"pid": 1})):
        with pytest.raises(KeeperUnavailable):
            call()
    assert connect(keeper.path) is None  # the socket file is left, nobody listens

    successor = start()  # same path: the stale socket is replaced
    again = connect(successor.path)
    assert again is not None and again.status().pid == successor.pid != keeper.pid
    os.close(read_end)
    os.close(write_end)


def test_hung_keeper_times_out(keeper: Keeper) -> None:
    """A call to a stopped keeper gives up after the client's timeout."""
    client = connect(keeper.path, timeout=0.3)
    assert client is not None
    os.kill(keeper.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        with pytest.raises(KeeperUnavailable, match="no answer"):
            client.status()
        assert time.monotonic() - began < 5
    finally:
        os.kill(keeper.pid, signal.SIGCONT)


def test_spawn_refuses_a_second_keeper_and_foreign_files(keeper: Keeper, short_dir: Path) -> None:
    """spawn_keeper fails cleanly where a keeper already listens or another file lies."""
    with pytest.raises(KeeperError, match="already listens"):
        spawn_keeper(keeper.path)
    client = connect(keeper.path)
    assert client is not None and client.status().pid == keeper.pid
    other = short_dir / "not-a-socket"
    other.write_text("precious")
    with pytest.raises(KeeperError, match="cannot listen"):
        spawn_keeper(str(other))
    assert other.read_text() == "precious"
    assert connect(str(short_dir / "nobody.sock")) is None
    with pytest.raises(KeeperError, match="longer than"):
        spawn_keeper("/tmp/" + "x" * 200)


def test_a_launched_keeper_holds_what_was_sent_before_it_listened(short_dir: Path) -> None:
    """The daemon's start does not wait for its keeper: pipes sent at once, before the
    keeper runs, are held, and a daemon gone right after still loses none of their bytes."""
    path, log = short_dir / "keeper.sock", short_dir / "keeper.log"
    read_end, write_end = os.pipe()
    os.write(write_end, b"written before the keeper listened\n")
    client, keeper = launch_keeper(str(path), log_path=str(log))
    try:
        client.send_keep([(child_key("web", 7, "stdout"), read_end)])
        os.close(read_end)
        client.close()  # the daemon is gone
        wait_until(lambda: connect(str(path)) is not None)
        successor = connect(str(path))
        assert successor is not None and successor.status().pid == keeper.pid
        [kept] = successor.take()
        assert kept.key == {"namespec": "web", "pid": 7, "stream": "stdout"}
        assert os.read(kept.fd, 100) == b"written before the keeper listened\n"
        os.close(kept.fd)
        successor.quit()
        assert keeper.wait(10) == 0
    finally:
        os.close(write_end)
        if keeper.poll() is None:
            keeper.kill()
            keeper.wait()


def test_a_launched_keeper_that_cannot_listen_fails_its_client(keeper: Keeper) -> None:
    """A second keeper on a taken path exits, and its client's next call says so: the
    daemon carries on without it (its PipeStore logs the problem)."""
    client, second = launch_keeper(keeper.path)
    assert second.wait(10) == keeper_main.EXIT_ALREADY_RUNNING
    with pytest.raises(KeeperUnavailable):
        client.status()
    assert client.closed
    first = connect(keeper.path)
    assert first is not None and first.status().pid == keeper.pid


def test_invalid_key_is_refused_locally(keeper: Keeper) -> None:
    """A bad key or a closed descriptor raises a KeeperError locally; the client stays usable."""
    client = connect(keeper.path)
    assert client is not None
    for key in ({}, {"a": [1]}, {"a": "x" * 2000}, {1: 2}):
        with pytest.raises(InvalidKey):
            client.keep(key, 0)  # type: ignore[arg-type]
    read_end, write_end = os.pipe()
    os.close(read_end)
    with pytest.raises(KeeperError, match="cannot keep descriptor"):
        client.keep(child_key("web", 1, "stdout"), read_end)
    os.close(write_end)
    assert client.status().kept == 0


# --- what the keeper lets go by itself ------------------------------------------------


def test_empty_pipe_without_writer_is_let_go(keeper: Keeper) -> None:
    """A kept pipe whose writers are gone is closed when empty, kept while bytes remain."""
    empty_read, empty_write = os.pipe()
    full_read, full_write = os.pipe()
    client = connect(keeper.path)
    assert client is not None
    client.keep_all(
        [(child_key("a", 1, "stdout"), empty_read), (child_key("b", 2, "stdout"), full_read)]
    )
    os.close(empty_read)
    os.close(full_read)
    os.write(full_write, b"last words")
    os.close(full_write)
    os.close(empty_write)
    wait_until(lambda: client.status().kept == 1, 10, what="the empty pipe is let go")
    (kept,) = client.take()
    assert kept.key == child_key("b", 2, "stdout")
    assert read_to_eof(kept.fd, 10) == b"last words"
    os.close(kept.fd)
    assert "has no writer and no bytes left" in keeper.log_text()


# --- scale ----------------------------------------------------------------------------


def test_four_thousand_descriptors(keeper: Keeper) -> None:
    """A keeper holds 2,000 programs' stdout and stderr and hands all 4,000 back in one take()."""
    programs, count = 2_000, 4_000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 3 * count + 100
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} descriptors, hard limit {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    pipes = [os.pipe() for _ in range(count)]
    taken = []
    try:
        client = connect(keeper.path)
        assert client is not None
        rss_empty = rss_kib(keeper.pid)
        keys = [
            child_key(f"p{i // 2}", 100_000 + i // 2, ("stdout", "stderr")[i % 2])
            for i in range(count)
        ]
        began = time.perf_counter()
        assert client.keep_all(zip(keys, [r for r, _ in pipes], strict=True)) == count
        keep_all_s = time.perf_counter() - began
        for read_end, _ in pipes:
            os.close(read_end)
        rss_full = rss_kib(keeper.pid)
        client.close()

        daemon_two = connect(keeper.path)
        assert daemon_two is not None
        began = time.perf_counter()
        taken = daemon_two.take()
        take_s = time.perf_counter() - began
        assert [kept.key for kept in taken] == keys
        for kept, (_, write_end) in zip(taken, pipes, strict=True):
            assert os.fstat(kept.fd).st_ino == os.fstat(write_end).st_ino
        for kept in taken:
            os.close(kept.fd)

        # What the daemon pays per child: keep both streams at spawn, drop at reap.
        began = time.perf_counter()
        for i in range(programs):
            daemon_two.keep(keys[2 * i], pipes[2 * i][1])  # re-kept under the same key
        keep_call_s = (time.perf_counter() - began) / programs
        began = time.perf_counter()
        for i in range(programs):
            assert daemon_two.drop(child_match(f"p{i}", 100_000 + i)) == 2
        drop_call_s = (time.perf_counter() - began) / programs
        assert daemon_two.status().kept == 0
    finally:
        for kept in taken:
            try:
                os.close(kept.fd)
            except OSError:
                pass
        for read_end, write_end in pipes:
            for fd in (read_end, write_end):
                try:
                    os.close(fd)
                except OSError:
                    pass
    assert rss_full[0] < 48 * 1024 and take_s < 5
    FIGURES["keeper"] = (
        f"keeper RSS {rss_empty[0] / 1024:.1f} MiB (anonymous {rss_empty[1] / 1024:.1f}) empty, "
        f"{rss_full[0] / 1024:.1f} MiB (anonymous {rss_full[1] / 1024:.1f}) holding {count} fds; "
        f"keep_all of {count} {keep_all_s * 1000:.0f} ms; take() of {count} {take_s * 1000:.0f} ms; "
        f"one keep() {keep_call_s * 1e6:.0f} µs, one drop() {drop_call_s * 1e6:.0f} µs"
    )


def test_take_beyond_the_callers_descriptor_limit_loses_nothing(keeper: Keeper) -> None:
    """A take() the caller has no room for fails with KeeperUnavailable; the keeper still holds all."""
    pipes = [os.pipe() for _ in range(100)]
    try:
        client = connect(keeper.path)
        assert client is not None
        client.keep_all((child_key(f"p{i}", i, "stdout"), r) for i, (r, _) in enumerate(pipes))
        client.close()
        code = (
            "import os, resource, sys\n"
            "from supervise.process.linux.keeper import KeeperUnavailable, connect\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (40, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
            "before = len(os.listdir('/proc/self/fd'))\n"
            "client = connect(sys.argv[1])\n"
            "try:\n"
            "    client.take()\n"
            "    print('took')\n"
            "except KeeperUnavailable as error:\n"
            "    print('unavailable', 'truncated' in str(error), client.closed,\n"
            "          len(os.listdir('/proc/self/fd')) == before)\n"
        )
        result = subprocess.run(
            [PY, "-c", code, keeper.path], capture_output=True, text=True, timeout=30, cwd=ROOT
        )
        assert result.stdout.strip() == "unavailable True True True", result.stderr
        client = connect(keeper.path)
        assert client is not None
        assert client.status().kept == 100
    finally:
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)


def test_keeps_and_drops_sent_without_waiting_hold_even_if_the_daemon_goes_at_once(
    keeper: Keeper,
) -> None:
    """send_keep (a spawn's keep, no round trip): the keeper holds every descriptor sent,
    in order, even when the sender disconnects before reading a single answer."""
    pipes = [os.pipe() for _ in range(150)]  # more than MAX_UNANSWERED sends
    try:
        client = connect(keeper.path)
        assert client is not None
        for i, (r, _) in enumerate(pipes):
            client.send_keep([(child_key(f"p{i}", i, "stdout"), r)])
        assert client.status().kept == len(pipes)  # answers read first, in order
        client.send_drop(child_match("p0", 0))
        assert client.status().kept == len(pipes) - 1
        client.send_keep([(child_key("late", 1, "stdout"), pipes[0][0])])
        client.close()  # gone without reading the last answer
        again = connect(keeper.path)
        assert again is not None
        taken = again.take()
        assert [k.key["namespec"] for k in taken] == [f"p{i}" for i in range(1, 150)] + ["late"]
        for kept in taken:
            os.close(kept.fd)
        again.close()
    finally:
        for r, w in pipes:
            os.close(r)
            os.close(w)
