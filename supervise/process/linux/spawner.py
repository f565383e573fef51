"""Start children and watch them without polling.

``ReactorSpawner`` forks through ``subprocess.Popen`` (its C path closes descriptors
with ``close_range`` and sets user, groups, umask, cwd and the process group), then
hands the pipes to the reactor and watches the exit with a pidfd (DESIGN.md §7), so
one exit costs one wake-up whatever the number of children.
"""

from __future__ import annotations

import errno
import os
import pwd
import signal as signal_module
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field
from twisted.internet import main
from twisted.internet.interfaces import IReactorFDSet, IReadDescriptor, IWriteDescriptor
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from supervise.errors import NotRunning, ProcessGone
from supervise.interfaces import IChild, IChildProtocol, IProcessSpawner
from supervise.process.linux.cgroups import join_in_child
from supervise.process.linux.pidfd import ExitWatcher
from supervise.process.linux.pipestore import PipeStore
from supervise.process.linux.reaper import Reaper
from supervise.process.spec import ChildSetupError, SpawnSpec

log = Logger()

READ_SIZE = 128 * 1024
READS_PER_WAKEUP = 8
#: Pipe capacity asked of the kernel for children's output (F_SETPIPE_SZ): a writer
#: blocks less often; the kernel caps it at /proc/sys/fs/pipe-max-size.
PIPE_SIZE = 1024 * 1024


@implementer(IReadDescriptor)
@define(eq=False)
class PipeReader:
    """Reads one child pipe in large chunks and passes bytes straight on."""

    fd: int
    stream: str
    on_data: Callable[[str, bytes], None]

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:  # noqa: N802 - Twisted's name
        return f"pipe-{self.stream}"

    def doRead(self) -> Failure | None:  # noqa: N802 - Twisted's name
        # Several reads per wake-up: a fast writer costs fewer reactor turns.
        for _ in range(READS_PER_WAKEUP):
            try:
                data = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                return None
            except OSError:
                return main.CONNECTION_LOST  # type: ignore[return-value]  # the reactor takes an exception here
            if not data:
                return main.CONNECTION_DONE  # type: ignore[return-value]  # the reactor takes an exception here
            self.on_data(self.stream, data)
            if len(data) < READ_SIZE:
                return None
        return None

    def drain(self) -> None:
        """Read whatever is buffered now, without waiting for more."""
        while True:
            try:
                data = os.read(self.fd, READ_SIZE)
            except OSError:
                return
            if not data:
                return
            self.on_data(self.stream, data)

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@implementer(IWriteDescriptor)
@define(eq=False)
class StdinWriter:
    """Writes queued bytes to a child's stdin when the pipe is writable."""

    fd: int
    reactor: IReactorFDSet
    buffer: bytearray = field(factory=bytearray)
    closed: bool = False

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:  # noqa: N802 - Twisted's name
        return "pipe-stdin"

    def write(self, data: bytes) -> None:
        """Queue ``data``; BrokenPipeError once the child closed its stdin (supervisord's
        EPIPE: NO_FILE over XML-RPC)."""
        if self.closed:
            raise BrokenPipeError(errno.EPIPE, "Process' stdin channel is closed")
        if not self.buffer:
            self.reactor.addWriter(self)
        self.buffer += data

    def doWrite(self) -> Failure | None:  # noqa: N802 - Twisted's name
        try:
            written = os.write(self.fd, self.buffer)
        except BlockingIOError:
            return None
        except OSError:
            return main.CONNECTION_LOST  # type: ignore[return-value]  # the reactor takes an exception here
        del self.buffer[:written]
        if not self.buffer:
            self.reactor.removeWriter(self)
        return None

    def connectionLost(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.buffer.clear()
            self.reactor.removeWriter(self)
            os.close(self.fd)


class WatchedChildBase:
    """What a spawned child and an adopted one share: signals, stdin, the end of life."""

    # Fields of the attrs subclasses; declared for the type checker.
    reactor: Any
    protocol: IChildProtocol
    pidfd: int
    watcher: ExitWatcher | None
    reaped: bool
    reaper: Reaper | None
    readers: list[PipeReader]
    stdin: StdinWriter | None
    label: str
    pipes: PipeStore | None

    @property
    def pid(self) -> int:
        """The process id (a field or a property of the subclass)."""
        raise NotImplementedError

    def signal(self, sig: int, group: bool = False) -> None:
        """Signal the process (by pidfd: never a reused pid), or its process group."""
        if self.reaped:
            raise ProcessGone(self.pid)
        try:
            if group:
                os.killpg(os.getpgid(self.pid), sig)
            elif self.pidfd >= 0:
                signal_module.pidfd_send_signal(self.pidfd, sig)
            else:
                os.kill(self.pid, sig)  # not reaped yet, so the pid is still this child's
        except ProcessLookupError:
            raise ProcessGone(self.pid) from None

    def write_stdin(self, data: bytes) -> None:
        """Queue bytes for the child's stdin (NotRunning once reaped; BrokenPipeError when
        it has no stdin channel, as supervisord's EPIPE)."""
        if self.reaped:
            raise NotRunning("the process has exited")
        if self.stdin is None:
            raise BrokenPipeError(errno.EPIPE, "Process has no stdin channel")
        self.stdin.write(data)

    def close_stdin(self) -> None:
        """Close the child's stdin."""
        if self.stdin is not None:
            self.stdin.close()

    def handoff_fds(self) -> dict[str, int]:
        """The pipe descriptors to pass on through a re-exec."""
        fds = {reader.stream: reader.fd for reader in self.readers if reader.fd >= 0}
        if self.stdin is not None and not self.stdin.closed:
            fds["stdin"] = self.stdin.fd
        return fds

    def _finish(self, status: int) -> None:
        """The process is reaped: stop watching, drain and close its pipes, report."""
        self.reaped = True
        if self.reaper is not None:
            self.reaper.disown(self.pid)
        if self.watcher is not None:
            self.reactor.removeReader(self.watcher)
        if self.pidfd >= 0:
            os.close(self.pidfd)
        for reader in self.readers:
            if reader.fd < 0:
                continue  # closed at end of file, and already removed from the reactor
            reader.drain()
            # (Removed while its descriptor is open: Twisted looks a closed one up by
            # scanning every registered descriptor, 70 µs each at 2,000 programs.)
            self.reactor.removeReader(reader)
            reader.close()
        if self.pipes is not None:
            self.pipes.drop(self.label, self.pid)
        if self.stdin is not None:
            self.stdin.close()
        self.protocol.exited(status)


@implementer(IChild)
@define(eq=False)
class Child(WatchedChildBase):
    """A child started by ReactorSpawner."""

    pid: int
    reactor: Any
    protocol: IChildProtocol
    pidfd: int
    readers: list[PipeReader] = field(factory=list)
    stdin: StdinWriter | None = None
    watcher: ExitWatcher | None = None
    reaped: bool = False
    reaper: Reaper | None = None
    label: str = ""
    pipes: PipeStore | None = None

    def check_exit(self) -> None:
        """Reap the child if it has exited; then drain its pipes and report."""
        if self.reaped:
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return
        self._finish(status)


@implementer(IProcessSpawner)
@define(eq=False)
class ReactorSpawner:
    """Spawns real children on a Twisted reactor (IReactorFDSet)."""

    reactor: Any
    reaper: Reaper | None = None
    #: Keeps children's pipes outside the daemon (None: no keeper).
    pipes: PipeStore | None = None

    def adopt(
        self,
        pid: int,
        protocol: IChildProtocol,
        fds: Mapping[str, int] | None = None,
        label: str = "",
    ) -> AdoptedChild:
        """Watch a process we did not start directly; ``fds`` are its inherited pipes.

        A child handed over by a re-exec that exited meanwhile (reaped already, its
        status kept by the reaper) is reported exited on the next reactor turn, after its
        pipes are drained.
        """
        early = self.reaper.early_exit(pid) if self.reaper is not None else None
        pidfd = os.pidfd_open(pid) if early is None else -1
        child = AdoptedChild(
            pid, self.reactor, protocol, pidfd, reaper=self.reaper, label=label,
            pipes=self.pipes if fds else None,
        )  # fmt: skip
        for stream, fd in (fds or {}).items():
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
            if stream == "stdin":
                child.stdin = StdinWriter(fd, self.reactor)
            else:
                reader = PipeReader(fd, stream, protocol.output)
                child.readers.append(reader)
                self.reactor.addReader(reader)
        if early is not None:
            child.early = early
            self.reactor.callLater(0, child.finish_early)
            return child
        child.watcher = ExitWatcher(child.pidfd, child.check_exit)
        self.reactor.addReader(child.watcher)
        if self.reaper is not None:
            self.reaper.own(pid, child.check_exit)
        return child

    def owns(self, pid: int) -> bool:
        """True if ``pid`` is already a child of some program."""
        return self.reaper is not None and pid in self.reaper.owned

    def spawn(self, spec: SpawnSpec, protocol: IChildProtocol) -> Child:
        """Start ``spec``; raise ChildSetupError when the child cannot be set up."""
        if spec.uid is not None and os.getuid() != 0 and spec.uid != os.getuid():
            raise ChildSetupError(
                [
                    f"supervisor: couldn't setuid to {spec.uid}: Can't drop privilege as nonroot user",
                    "supervisor: child process was not spawned",
                ]
            )
        kwargs: dict[str, Any] = {}
        steps: list[Callable[[], None]] = []
        if spec.cgroup is not None:
            steps.append(join_in_child(spec.cgroup))
        if spec.rlimits:
            steps.append(set_limits(spec.rlimits))
        argv, filename = spec.argv, spec.filename
        if spec.listen_fds:
            # systemd's convention: the sockets at fds 3.., LISTEN_PID = the program's pid,
            # which only a shell exec'ing it can know (it keeps its pid through exec).
            steps.append(place_fds(spec.listen_fds))
            kwargs["pass_fds"] = tuple(range(3, 3 + len(spec.listen_fds)))
            argv = (
                "/bin/sh",
                "-c",
                'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"',
                filename,
                *argv[1:],
            )
            filename = "/bin/sh"
        if steps:
            kwargs["preexec_fn"] = _run_all(steps)
        if spec.uid is not None and spec.uid != os.getuid():
            gid, groups = spec.gid, spec.groups
            if gid is None:
                # The user's primary group and groups, read at each spawn as supervisord does.
                try:
                    record = pwd.getpwuid(spec.uid)
                except KeyError:
                    raise ChildSetupError(
                        [
                            f"supervisor: couldn't setuid to {spec.uid}: no such user",
                            "supervisor: child process was not spawned",
                        ]
                    ) from None
                gid, groups = record.pw_gid, tuple(os.getgrouplist(record.pw_name, record.pw_gid))
            kwargs.update(user=spec.uid, group=gid, extra_groups=list(groups or ()))
        try:
            popen = subprocess.Popen(
                argv,
                executable=filename,
                stdin=spec.stdin_fd if spec.stdin_fd is not None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if spec.redirect_stderr else subprocess.PIPE,
                cwd=spec.cwd,
                env=dict(spec.env),
                umask=spec.umask if spec.umask is not None else -1,
                process_group=0,
                close_fds=True,
                bufsize=0,
                **kwargs,
            )
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                raise  # no pipes for it: supervisord's "making dispatchers" error, not the child's
            raise ChildSetupError(_setup_messages(error, spec)) from None
        # With the daemon's SIGCHLD reaper running, an exit is found by waitid(P_ALL) in
        # O(1) and no pidfd is needed (one descriptor less per child); until the child
        # is reaped its pid cannot be reused, so plain kill() is safe.
        on_sigchld = self.reaper is not None and self.reaper.active
        pidfd = -1 if on_sigchld else os.pidfd_open(popen.pid)
        child = Child(popen.pid, self.reactor, protocol, pidfd, label=spec.label, pipes=self.pipes)
        for stream, pipe in (("stdout", popen.stdout), ("stderr", popen.stderr)):
            if pipe is None:
                continue
            fd = os.dup(pipe.fileno())
            pipe.close()
            os.set_blocking(fd, False)
            _grow_pipe(fd)
            reader = PipeReader(fd, stream, protocol.output)
            child.readers.append(reader)
            self.reactor.addReader(reader)
        if self.pipes is not None:
            self.pipes.keep(spec.label, popen.pid, {r.stream: r.fd for r in child.readers})
        if popen.stdin is not None:
            fd = os.dup(popen.stdin.fileno())
            popen.stdin.close()
            os.set_blocking(fd, False)
            child.stdin = StdinWriter(fd, self.reactor)
        if pidfd >= 0:
            child.watcher = ExitWatcher(pidfd, child.check_exit)
            self.reactor.addReader(child.watcher)
        if self.reaper is not None:
            child.reaper = self.reaper
            self.reaper.own(popen.pid, child.check_exit)
        # The child is reaped here (check_exit), never through the Popen object, which is
        # let go (0.6 KiB a program): a return code set keeps its finaliser from queueing
        # the pid for subprocess's own reaping, which would steal the exit status.
        popen.returncode = 0
        return child


@implementer(IChild)
@define(eq=False)
class AdoptedChild(WatchedChildBase):
    """A process watched by pidfd that this daemon did not spawn itself.

    A daemonized program's pid, a survivor of a dead daemon (no pipes), or a child handed
    over by a re-exec (its pipes passed on as inherited descriptors). When it is our
    child its exit status is read; otherwise it is reported as unknown (-1).
    """

    pid: int
    reactor: Any
    protocol: IChildProtocol
    pidfd: int
    watcher: ExitWatcher | None = None
    reaped: bool = False
    reaper: Reaper | None = None
    readers: list[PipeReader] = field(factory=list)
    stdin: StdinWriter | None = None
    label: str = ""
    pipes: PipeStore | None = None
    #: The raw status of a handed-over child that exited before its take-over.
    early: int | None = None

    def finish_early(self) -> None:
        """The process had exited before it was taken over: report that now."""
        if not self.reaped and self.early is not None:
            self._finish(self.early)

    def signal(self, sig: int, group: bool = False) -> None:
        """Signal the process; ProcessGone if it had exited before its take-over."""
        if self.early is not None:
            raise ProcessGone(self.pid)
        super().signal(sig, group)

    def check_exit(self) -> None:
        """Report the exit once the process is gone (pipes drained first)."""
        if self.reaped:
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                return
        except ChildProcessError:
            # Not our child (no subreaper): the pidfd says it exited, its status is lost.
            status = -1
        self._finish(status)


def _grow_pipe(fd: int) -> None:
    import fcntl

    try:
        fcntl.fcntl(fd, 1031, PIPE_SIZE)  # F_SETPIPE_SZ
    except OSError:
        pass  # not allowed beyond pipe-max-size for unprivileged users: keep the default


def place_fds(fds: tuple[int, ...]) -> Callable[[], None]:
    """A ``preexec_fn`` step putting ``fds`` at 3, 4, … (via high numbers: no clobbering)."""

    def place() -> None:
        import fcntl

        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in fds]
        for target, fd in enumerate(high, start=3):
            os.dup2(fd, target)
            os.close(fd)

    return place


def set_limits(limits: tuple[tuple[str, int, int | None], ...]) -> Callable[[], None]:
    """A ``preexec_fn`` step setting ``rlimit_*`` (a hard limit of None stays as it is)."""
    import resource

    steps = [
        (getattr(resource, f"RLIMIT_{name.upper()}"), soft, hard) for name, soft, hard in limits
    ]

    def apply() -> None:
        for which, soft, hard in steps:
            resource.setrlimit(
                which, (soft, resource.getrlimit(which)[1] if hard is None else hard)
            )

    return apply


def _run_all(steps: list[Callable[[], None]]) -> Callable[[], None]:
    def run() -> None:
        for step in steps:
            step()

    return run


def _setup_messages(error: OSError, spec: SpawnSpec) -> list[str]:
    code = errno.errorcode.get(error.errno or 0, str(error.errno))
    if spec.cwd is not None and error.filename == spec.cwd:
        first = f"supervisor: couldn't chdir to {spec.cwd}: {code}"
    elif isinstance(error, PermissionError) and error.filename is None:
        first = f"supervisor: couldn't setuid to {spec.uid}: {error.strerror}"
    else:
        first = f"supervisor: couldn't exec {spec.argv[0]}: {code}"
    return [first, "supervisor: child process was not spawned"]
