"""Public test helpers for supervise and its plugins.

- ``FakeSpawner``/``FakeChild``/``Harness``: programs on a fake clock, children that exit
  when the test says (layer 2).
- ``RunningDaemon``: the real ``twistd -n supervise`` in a temporary folder, ready when
  it says ``READY=1``, with an XML-RPC proxy (layer 4).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from attrs import define, field
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from zope.interface import implementer

from supervise.config.model import ProcessConfig
from supervise.errors import NotRunning, ProcessGone
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import Event, ProcessStateEvent
from supervise.interfaces import IChild, IChildProtocol, IProcessSpawner
from supervise.process.host import ProcessHost
from supervise.process.interfaces import (
    IFileWatcher,
    INotifyChannel,
    INotifySockets,
    IProcessTable,
    IReadinessCheck,
    ITreeKiller,
)
from supervise.process.program import Program
from supervise.process.spec import SpawnContext, SpawnSpec
from supervise.states import ProcessState


@implementer(IChild)
@define(eq=False)
class FakeChild:
    """A child that lives until ``exit`` or ``kill`` is called by the test."""

    pid: int
    spec: SpawnSpec
    protocol: IChildProtocol
    signals: list[tuple[int, bool]] = field(factory=list)
    stdin: bytearray = field(factory=bytearray)
    alive: bool = True
    dies_on_signal: bool = True

    def signal(self, sig: int, group: bool = False) -> None:
        """Record the signal; by default a signal kills the child at once."""
        if not self.alive:
            raise ProcessGone(self.pid)
        self.signals.append((sig, group))
        if self.dies_on_signal or sig == signal.SIGKILL:
            self.kill(sig)

    def write_stdin(self, data: bytes) -> None:
        """Record bytes written to stdin."""
        if not self.alive:
            raise NotRunning(str(self.pid))
        self.stdin += data

    def close_stdin(self) -> None:
        """Nothing to close."""

    def exit(self, code: int = 0) -> None:
        """The child exits with ``code``."""
        self._end(code << 8)

    def kill(self, sig: int) -> None:
        """The child dies of ``sig``."""
        self._end(sig)

    def write(self, stream: str, data: bytes) -> None:
        """The child writes output."""
        self.protocol.output(stream, data)

    def _end(self, status: int) -> None:
        if self.alive:
            self.alive = False
            self.protocol.exited(status)


@implementer(IProcessSpawner)
@define(eq=False)
class FakeSpawner:
    """Hands out FakeChildren; set ``fail_next`` to an exception to fail one spawn."""

    children: list[FakeChild] = field(factory=list)
    next_pid: int = 1000
    fail_next: Exception | None = None
    dies_on_signal: bool = True

    def spawn(self, spec: SpawnSpec, protocol: IChildProtocol) -> FakeChild:
        """Create a live FakeChild."""
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.next_pid += 1
        child = FakeChild(self.next_pid, spec, protocol, dies_on_signal=self.dies_on_signal)
        self.children.append(child)
        return child

    def adopt(
        self,
        pid: int,
        protocol: IChildProtocol,
        fds: Mapping[str, int] | None = None,
        label: str = "",
    ) -> FakeChild:
        """Watch an existing pid: a FakeChild the test can end."""
        spec = SpawnSpec(filename="", argv=(), env={})
        child = FakeChild(pid, spec, protocol, dies_on_signal=self.dies_on_signal)
        self.children.append(child)
        return child

    def owns(self, pid: int) -> bool:
        """True for pids of live fake children."""
        return any(c.pid == pid and c.alive for c in self.children)

    @property
    def last(self) -> FakeChild:
        """The most recently spawned child."""
        return self.children[-1]

    def live(self) -> list[FakeChild]:
        """Children still alive."""
        return [c for c in self.children if c.alive]


@implementer(IProcessTable)
@define(eq=False)
class FakeProcessTable:
    """A process table the test writes: live pids, command lines, pidfile contents.

    :ivar processes: pid → command line of every live process.
    :ivar pidfiles: path → (pid, written at).
    """

    processes: dict[int, str] = field(factory=dict)
    pidfiles: dict[str, tuple[int, float]] = field(factory=dict)
    started: dict[int, float] = field(factory=dict)
    signalled: list[tuple[int, int]] = field(factory=list)

    def signal(self, pid: int, sig: int) -> None:
        """A signal ends the process (it leaves the table)."""
        self.signalled.append((pid, sig))
        self.processes.pop(pid, None)

    def start_ticks(self, pid: int) -> int | None:
        """A fixed tick count per live pid."""
        return pid * 100 if pid in self.processes else None

    def start_time(self, pid: int) -> float | None:
        """When the test said ``pid`` started."""
        return self.started.get(pid) if pid in self.processes else None

    def find(self, pattern: Any, user: str | None, exclude: Callable[[int], bool]) -> int | None:
        """The lowest live pid whose command line matches."""
        found = [p for p, line in self.processes.items() if pattern.search(line) and not exclude(p)]
        return min(found) if found else None

    def pidfile_pid(self, path: str, written_since: float) -> int | None:
        """The live pid a pidfile names, if written since ``written_since``."""
        entry = self.pidfiles.get(path)
        if entry is None or entry[1] < written_since - 1 or entry[0] not in self.processes:
            return None
        return entry[0]


@implementer(IFileWatcher)
@define(eq=False)
class FakeFiles:
    """File watches the test fires with ``changed(path)``."""

    watchers: dict[str, list[Callable[[], None]]] = field(factory=dict)

    def watch(self, path: str, on_change: Callable[[], None]) -> Callable[[], None]:
        """Remember the watch; the returned function ends it."""
        self.watchers.setdefault(path, []).append(on_change)
        return lambda: self.watchers.get(path, []).remove(on_change)

    def changed(self, path: str) -> None:
        """``path`` changed: call its watchers."""
        for on_change in list(self.watchers.get(path, [])):
            on_change()


@implementer(INotifyChannel)
@define(eq=False)
class FakeNotifyChannel:
    """An sd_notify socket; the test sends with ``send("READY=1")``."""

    address: str
    on_message: Callable[[str, str], None]
    closed: bool = False

    def send(self, line: str) -> None:
        """The program sent ``line``."""
        if not self.closed:
            key, _, value = line.partition("=")
            self.on_message(key, value)

    def close(self) -> None:
        """Stop listening."""
        self.closed = True


@implementer(INotifySockets)
@define(eq=False)
class FakeNotifySockets:
    """Opens FakeNotifyChannels; ``last`` is the newest."""

    opened: list[FakeNotifyChannel] = field(factory=list)

    def open(self, label: str, on_message: Callable[[str, str], None]) -> FakeNotifyChannel:
        """A new channel."""
        channel = FakeNotifyChannel(f"@fake-{label}", on_message)
        self.opened.append(channel)
        return channel

    @property
    def last(self) -> FakeNotifyChannel:
        """The newest channel."""
        return self.opened[-1]


@implementer(IReadinessCheck)
@define(eq=False)
class FakeCheck:
    """A probe whose attempts the test answers: ``answer(True)`` fires the pending one.

    :ivar attempts: every attempt's Deferred, in order.
    """

    description: str
    attempts: list[Deferred[bool]] = field(factory=list)
    cancelled: int = 0

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """A new pending attempt."""

        def cancel(_: Deferred[bool]) -> None:
            self.cancelled += 1

        attempt: Deferred[bool] = Deferred(cancel)
        attempt.addErrback(lambda failure: failure.trap(CancelledError) and False)
        self.attempts.append(attempt)
        return attempt

    def answer(self, passed: bool) -> None:
        """The pending attempt passes or fails."""
        pending = [a for a in self.attempts if not a.called]
        assert pending, f"no pending attempt of {self.description}"
        pending[-1].callback(passed)


@implementer(ITreeKiller)
@define(eq=False)
class FakeTree:
    """A program's tree the test populates: ``members`` beyond the main process.

    :ivar signals: (member, signal) sent to members; a member dies on SIGKILL, or on any
        signal unless listed in ``stubborn``.
    """

    members: list[int] = field(factory=list)
    stubborn: set[int] = field(factory=set)
    signals: list[tuple[int, int]] = field(factory=list)
    remembered: list[int] = field(factory=list)
    empty: Deferred[None] | None = None
    released: int = 0

    def prepare(self, spec: SpawnSpec, label: str) -> SpawnSpec:
        """Unchanged."""
        return spec

    def remember(self, pid: int) -> None:
        """Note the members now."""
        self.remembered = list(self.members)

    def signal_rest(self, pid: int, sig: int) -> None:
        """Signal each member; they die unless stubborn (SIGKILL always kills)."""
        for member in list(self.members):
            self.signals.append((member, sig))
            if sig == signal.SIGKILL or member not in self.stubborn:
                self.members.remove(member)
        if not self.members and self.empty is not None and not self.empty.called:
            self.empty.callback(None)

    def when_empty(self, pid: int) -> Deferred[None]:
        """Fire once no member is left."""
        self.empty = Deferred()
        if not self.members:
            self.empty.callback(None)
        return self.empty

    def release(self) -> int:
        """Count releases."""
        self.released += 1
        return 0


@define(eq=False)
class Harness:
    """Programs on a fake clock and fake spawner, with every event recorded."""

    tmpdir: str
    clock: Clock = field(factory=Clock)
    spawner: FakeSpawner = field(factory=FakeSpawner)
    bus: EventBus = field(init=False)
    events: list[Event] = field(factory=list)
    programs: dict[str, Program] = field(factory=dict)
    restarts_allowed: bool = True
    table: FakeProcessTable = field(factory=FakeProcessTable)
    files: FakeFiles = field(factory=FakeFiles)
    notify: FakeNotifySockets = field(factory=FakeNotifySockets)
    trees: dict[str, FakeTree] = field(factory=dict)
    checks: dict[str, FakeCheck] = field(factory=dict)
    host: ProcessHost = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.bus = EventBus(self.clock.seconds)
        self.bus.subscribe(CallbackListener("recorder", (Event,), self.events.append))
        context = SpawnContext(
            environ=dict(os.environ), server_url=None, childlogdir=self.tmpdir, identifier="test"
        )
        self.host = ProcessHost(
            clock=self.clock,
            wall_clock=self.clock.seconds,
            spawner=self.spawner,
            bus=self.bus,
            context=context,
            table=self.table,
            files=self.files,
            notify=self.notify,
            trees=lambda config: self.trees.setdefault(config.name, FakeTree()),
            checks=lambda spec: self.checks.setdefault(spec, FakeCheck(spec)),
            may_restart=lambda: self.restarts_allowed,
        )

    def add(self, name: str, command: str = "/bin/true", **options: object) -> Program:
        """Add a program (its options are ProcessConfig fields)."""
        config = ProcessConfig(name=name, group=name, program=name, command=command, **options)  # type: ignore[arg-type]
        program = Program(config, self.host)
        self.programs[name] = program
        return program

    def states(self, name: str) -> list[ProcessState]:
        """The states ``name`` entered, in order."""
        return [
            e.state for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name
        ]

    def state_events(self, name: str) -> Iterable[ProcessStateEvent]:
        """The state events of ``name``."""
        return [e for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name]


def wait_until(
    condition: Callable[[], object], timeout: float = 20.0, interval: float = 0.05
) -> None:
    """Check ``condition`` in the test (never in the daemon) until true; fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:g}s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tool(name: str) -> str:
    """A console script beside the running Python (twistd, supervisorctl …), else on PATH."""
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else (shutil.which(name) or name)


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC over a unix-domain socket."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def make_connection(self, host: Any) -> Any:
        from supervise.ctl.client import UnixHTTPConnection

        return UnixHTTPConnection(self.path)


def raw_xmlrpc(socket_path: str | Path, method: str, *params: Any) -> bytes:
    """One XML-RPC call over a unix socket as a raw HTTP/1.0 request: the whole answer,
    status line to end, unparsed (what the daemon sent, not what a client made of it)."""
    body = xmlrpc.client.dumps(params, method).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(60)
        connection.connect(str(socket_path))
        connection.sendall(
            b"POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        chunks = []
        while chunk := connection.recv(1 << 20):
            chunks.append(chunk)
    return b"".join(chunks)


class RunningDaemon:
    """The real daemon in ``folder``: write a config, start, talk to it, stop it.

    :ivar environ: extra environment for the daemon (``PYTHONPATH`` for a plugin under test).
    """

    def __init__(self, folder: Path, environ: Mapping[str, str] | None = None) -> None:
        self.tmp = Path(folder)
        self.conf = self.tmp / "supervisord.conf"
        self.sock = self.tmp / "supervise.sock"
        self.extra_environ = dict(environ or {})
        self.process: subprocess.Popen[bytes] | None = None

    def write(self, body: str) -> Path:
        """Write the config: standard sections (logs and socket in the folder) plus ``body``."""
        head = f"""
        [supervisord]
        logfile = {self.tmp}/main.log
        pidfile = {self.tmp}/supervisord.pid
        childlogdir = {self.tmp}
        identifier = e2e
        [unix_http_server]
        file = {self.sock}
        [supervisorctl]
        serverurl = unix://{self.sock}
        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
        """
        self.conf.write_text(textwrap.dedent(head) + textwrap.dedent(body))
        return self.conf

    def env(self) -> dict[str, str]:
        """The daemon's environment."""
        env = dict(os.environ)
        env.update(self.extra_environ)
        return env

    def start(self, body: str | None, timeout: float = 20) -> RunningDaemon:
        """Start on a config with ``body`` (None: the config already written); return
        once the daemon sent READY=1."""
        if body is not None:
            self.write(body)
        notify = self.tmp / "notify.sock"
        if notify.exists():
            notify.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify))
        os.chmod(notify, 0o777)  # a daemon that drops privileges must still reach it
        env = self.env()
        env["NOTIFY_SOCKET"] = str(notify)
        with open(self.tmp / "twistd.out", "wb") as out:
            self.process = subprocess.Popen(
                [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(self.conf)],
                env=env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        listener.settimeout(0.2)
        deadline = time.monotonic() + timeout
        message = b""
        try:
            while not message:
                try:
                    message = listener.recv(1024)
                except TimeoutError:
                    # Bounded wait on the daemon's own word; give up early if it died.
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.kill()
                        output = (self.tmp / "twistd.out").read_text()
                        raise AssertionError(f"daemon did not report READY=1:\n{output}") from None
        finally:
            listener.close()
        assert message.startswith(b"READY=1")
        return self

    def rpc(self) -> Any:
        """An XML-RPC proxy over the unix socket."""
        return xmlrpc.client.ServerProxy(
            "http://localhost", transport=UnixTransport(str(self.sock))
        )

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM the daemon; return its exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the daemon if it still runs (its programs survive, as after a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def close(self, timeout: float = 30) -> None:
        """Stop the daemon and its programs (SIGTERM); SIGKILL it if it hangs. What a
        killed daemon left behind goes too: its programs (found by the owner mark in
        their environment) and its descriptor keeper."""
        try:
            self.stop(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        from supervise.process.linux.keeper import KeeperError, connect
        from supervise.process.linux.proctable import owned_survivors

        for copies in owned_survivors(str(self.tmp / "supervisord.pid.state")).values():
            for pid, _ in copies:
                for kill in (os.killpg, os.kill):  # its process group, else itself
                    try:
                        kill(pid, signal.SIGKILL)
                        break
                    except OSError:
                        continue
        try:
            keeper = connect(str(self.tmp / "supervisord.pid.state.keeper"))
            if keeper is not None:
                keeper.quit()
        except KeeperError:
            pass
