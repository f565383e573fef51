"""Layer 3: real children in the reactor — exit codes, signals, groups, env, logs, users."""

from __future__ import annotations

import os
import pwd
import signal
import sys
import time

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred

from supervise.config.model import ChannelConfig, ProcessConfig
from supervise.config.values import AutoRestart, LogTarget
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import ProcessStateEvent
from supervise.process.linux.host import real_host
from supervise.process.linux.spawner import ReactorSpawner
from supervise.process.program import Program
from supervise.process.spec import SpawnContext
from supervise.states import ProcessState

S = ProcessState
PY = sys.executable


class Core:
    """One real program on the real reactor, with its events recorded."""

    def __init__(self, tmp_path, name: str, command: str, **options: object) -> None:
        self.bus = EventBus(time.time)
        self.events: list[ProcessStateEvent] = []
        self.bus.subscribe(CallbackListener("rec", (ProcessStateEvent,), self.events.append))
        options.setdefault("stdout", ChannelConfig(str(tmp_path / f"{name}.out"), 0, 0))
        options.setdefault("stderr", ChannelConfig(str(tmp_path / f"{name}.err"), 0, 0))
        config = ProcessConfig(name=name, group=name, program=name, command=command, **options)  # type: ignore[arg-type]
        context = SpawnContext(dict(os.environ), "unix:///tmp/x.sock", str(tmp_path), "test")
        host = real_host(reactor, time.time, ReactorSpawner(reactor), self.bus, context)
        self.program = Program(config, host)

    def reach(self, state: ProcessState, timeout: float = 15) -> Deferred[None]:
        """Fire when the program enters ``state``; fail after ``timeout`` seconds."""
        done: Deferred[None] = Deferred()
        if self.program.state is state:
            done.callback(None)
            return done

        def seen(event: ProcessStateEvent) -> None:
            if event.state is state and not done.called:
                done.callback(None)

        subscription = self.bus.subscribe(CallbackListener("reach", (ProcessStateEvent,), seen))
        done.addBoth(lambda result: subscription.cancel() or result)
        return done.addTimeout(timeout, reactor)

    def states(self) -> list[ProcessState]:
        return [e.state for e in self.events]


def read(path) -> bytes:
    return open(path, "rb").read()


@pytest_twisted.ensureDeferred
async def test_exit_code_reported(tmp_path):
    """A program exiting 3 ends EXITED, unexpected when exitcodes=0."""
    core = Core(tmp_path, "boom", "sh -c 'exit 3'", startsecs=0, autorestart=AutoRestart.NEVER)
    core.program.start()
    await core.reach(S.EXITED)
    assert (core.events[-1].expected, core.program.exitstatus, core.program.spawnerr) == (
        False,
        3,
        "Bad exit code 3",
    )


@pytest_twisted.ensureDeferred
async def test_quick_exit_goes_fatal_after_retries(tmp_path):
    """A program that dies at once backs off and ends FATAL after startretries."""
    core = Core(tmp_path, "crash", "sh -c 'echo dying >&2; exit 1'", startsecs=1, startretries=1)
    core.program.start()
    await core.reach(S.FATAL)
    assert core.states() == [S.STARTING, S.BACKOFF, S.STARTING, S.BACKOFF, S.FATAL]
    assert read(tmp_path / "crash.err") == b"dying\ndying\n"


@pytest_twisted.ensureDeferred
async def test_term_ignoring_child_is_killed_after_stopwaitsecs(tmp_path):
    """A child ignoring SIGTERM is SIGKILLed once stopwaitsecs has passed."""
    script = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    core = Core(tmp_path, "stubborn", f'{PY} -c "{script}"', startsecs=1, stopwaitsecs=1)
    core.program.start()
    await core.reach(S.RUNNING)
    began = time.monotonic()
    core.program.stop()
    await core.reach(S.STOPPED)
    assert time.monotonic() - began >= 1.0
    assert core.program.exitstatus == -1


@pytest_twisted.ensureDeferred
async def test_stopasgroup_leaves_no_grandchild(tmp_path):
    """stopasgroup stops the program's grandchildren too."""
    pidfile = tmp_path / "grandchild.pid"
    core = Core(
        tmp_path,
        "tree",
        f"sh -c 'sleep 60 & echo $! > {pidfile}; wait'",
        startsecs=1,
        stopasgroup=True,
        killasgroup=True,
    )
    core.program.start()
    await core.reach(S.RUNNING)
    grandchild = int(pidfile.read_text())
    core.program.stop()
    await core.reach(S.STOPPED)
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        await _tick()
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _tick() -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(0.05, d.callback, None)
    return d


@pytest_twisted.ensureDeferred
async def test_environment_given_to_children(tmp_path):
    """Children get SUPERVISOR_* variables plus the program's environment."""
    command = "sh -c 'echo $SUPERVISOR_ENABLED $SUPERVISOR_PROCESS_NAME $SUPERVISOR_GROUP_NAME $SUPERVISOR_SERVER_URL $FOO'"
    core = Core(
        tmp_path,
        "envy",
        command,
        startsecs=0,
        autorestart=AutoRestart.NEVER,
        environment={"FOO": "bar baz"},
    )
    core.program.start()
    await core.reach(S.EXITED)
    assert read(tmp_path / "envy.out") == b"1 envy envy unix:///tmp/x.sock bar baz\n"


@pytest_twisted.ensureDeferred
async def test_fast_writer_loses_no_byte_and_rotates(tmp_path):
    """Every byte of a fast writer lands in order across rotated files."""
    script = "import sys; [sys.stdout.write('%08d' % i + 'x' * 91 + chr(10)) for i in range(20000)]"
    out = tmp_path / "fast.out"
    core = Core(
        tmp_path, "fast", f'{PY} -c "{script}"', startsecs=0, autorestart=AutoRestart.NEVER,
        stdout=ChannelConfig(str(out), 100_000, 100),
    )  # fmt: skip
    core.program.start()
    await core.reach(S.EXITED)
    names = sorted(
        (p for p in tmp_path.iterdir() if p.name.startswith("fast.out")), key=_age, reverse=True
    )
    data = b"".join(read(p) for p in names)
    expected = b"".join(b"%08d" % i + b"x" * 91 + b"\n" for i in range(20000))
    assert data == expected
    assert len(names) > 10 and all(os.path.getsize(p) < 100_000 + 65536 * 2 for p in names)


def _age(path) -> int:
    suffix = path.name.rsplit(".", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


@pytest_twisted.ensureDeferred
async def test_missing_directory_is_reported_in_stderr_log(tmp_path):
    """A bad directory is reported on the stderr log as supervisord words it, then BACKOFF."""
    core = Core(
        tmp_path, "lost", "/bin/true", startsecs=1, startretries=0, directory="/nonexistent-dir"
    )
    core.program.start()
    await core.reach(S.FATAL)
    assert read(tmp_path / "lost.err").startswith(
        b"supervisor: couldn't chdir to /nonexistent-dir: ENOENT\n"
    )


@pytest_twisted.ensureDeferred
async def test_stdin_reaches_the_child(tmp_path):
    """Bytes sent to stdin arrive at the child."""
    core = Core(tmp_path, "cat", "/bin/cat", startsecs=0)
    core.program.start()
    core.program.write_stdin(b"hello\n")
    deadline = time.monotonic() + 10
    while not read(tmp_path / "cat.out") and time.monotonic() < deadline:
        await _tick()
    core.program.stop()
    await core.reach(S.STOPPED)
    assert read(tmp_path / "cat.out") == b"hello\n"


@pytest.mark.skipif(os.getuid() != 0, reason="switching user needs root")
@pytest_twisted.ensureDeferred
async def test_user_switch_to_nobody(tmp_path):
    """user=nobody runs the child as nobody, with nobody's groups."""
    nobody = pwd.getpwnam("nobody")
    os.chmod(tmp_path, 0o777)
    core = Core(
        tmp_path, "who", "sh -c 'id -u; id -g'", startsecs=0, autorestart=AutoRestart.NEVER,
        user="nobody", uid=nobody.pw_uid,
    )  # fmt: skip
    core.program.start()
    await core.reach(S.EXITED)
    assert read(tmp_path / "who.out") == f"{nobody.pw_uid}\n{nobody.pw_gid}\n".encode()


@pytest_twisted.ensureDeferred
async def test_no_log_when_none(tmp_path):
    """stdout_logfile=NONE writes no file and reports no path."""
    core = Core(
        tmp_path,
        "quiet",
        "echo hi",
        startsecs=0,
        autorestart=AutoRestart.NEVER,
        stdout=ChannelConfig(LogTarget.NONE),
    )
    core.program.start()
    await core.reach(S.EXITED)
    assert core.program.snapshot().stdout_logfile == ""


def test_signal_death_status_text():
    """A death by signal is exit status -1 and 'terminated by SIGTERM'."""
    from supervise.process.status import decode_wait_status

    assert decode_wait_status(signal.SIGTERM) == (-1, "terminated by SIGTERM")
    assert decode_wait_status(3 << 8) == (3, "exit status 3")
