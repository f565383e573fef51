"""One supervised process: its machine, its child, its timers and its log channels."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable
from typing import Any

from attrs import define, evolve, field
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from supervise.config.model import ProcessConfig
from supervise.config.values import AutoRestart, signal_name
from supervise.errors import NotRunning, ProcessGone, SpawnError
from supervise.events.types import (
    STATE_EVENTS,
    OutOfMemory,
    ProcessCommunicationStderr,
    ProcessCommunicationStdout,
    ProcessLogStderr,
    ProcessLogStdout,
)
from supervise.interfaces import IChild, IChildProtocol, IEventBus, IProcess, IProcessSpawner
from supervise.logs.capture import CaptureFilter
from supervise.logs.channel import OutputChannel
from supervise.process import command, tree
from supervise.process.adoption import AdoptionMixin
from supervise.process.daemonized import PidfileWait
from supervise.process.health import HealthMixin
from supervise.process.machine import ProcessInputs, ProcessMachine
from supervise.process.readiness import NotifySocket
from supervise.process.spawner import ChildSetupError, SpawnSpec
from supervise.process.spec import SpawnContext, build_spawn_spec
from supervise.process.tree import EmptyWatch, PidsGone
from supervise.process.watch import SuccessorSearch
from supervise.snapshot import ProcessSnapshot
from supervise.states import SIGNALLABLE_STATES, ProcessState

log = Logger()

TOO_QUICK = "Exited too quickly (process log may have details)"


def decode_wait_status(status: int) -> tuple[int, str]:
    """Return supervisord's ``(exitstatus, text)``: -1 for a death by signal.

    A negative ``status`` means the exit status could not be read (an adopted process
    that is not our child).
    """
    if status < 0:
        return -1, "exit status unknown"
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return code, f"exit status {code}"
    if os.WIFSIGNALED(status):
        text = f"terminated by {signal_name(os.WTERMSIG(status))}"
        if os.WCOREDUMP(status):
            text += " (core dumped)"
        return -1, text
    return -1, f"unknown termination cause 0x{status:04x}"


@implementer(IProcess, IChildProtocol)
@define(eq=False)
class Program(AdoptionMixin, HealthMixin):
    """One process of a group; implements the machine's core and the child's protocol.

    :ivar may_restart: says whether automatic (re)starts are allowed now (the daemon
        is RUNNING, SUPERVISOR.md §3.1).
    """

    config: ProcessConfig
    clock: IReactorTime
    wall_clock: Callable[[], float]
    spawner: IProcessSpawner
    bus: IEventBus
    context: SpawnContext
    may_restart: Callable[[], bool] = lambda: True
    stdin_fd: int | None = None
    stdout_listener: Callable[[bytes], None] | None = None
    state: ProcessState = ProcessState.STOPPED
    tries: int = 0
    spawns: int = 0
    health_failures: int = 0
    child: IChild | None = None
    pid: int = 0
    start_time: float = 0.0
    stop_time: float = 0.0
    spawnerr: str = ""
    exitstatus: int = 0
    stdout: OutputChannel = field(init=False)
    stderr: OutputChannel = field(init=False)
    _timer: IDelayedCall | None = None
    _captures: dict[str, CaptureFilter] = field(factory=dict)
    _readiness: Deferred[Any] | None = None
    notify: NotifySocket | None = None
    _launcher_running: bool = False
    _pidfile_wait: PidfileWait | None = None
    cgroup: str | None = None
    _held_exit: int | None = None
    _empty_watch: EmptyWatch | None = None
    _tree_snapshot: list[int] = field(factory=list)
    _watchdog: IDelayedCall | None = None
    external: bool = False
    _ticks: tuple[int, int | None] = (0, None)
    _successor: SuccessorSearch | None = None
    _stragglers: PidsGone | None = None
    _watchers: list[Callable[[ProcessState], bool]] = field(factory=list)
    machine: ProcessInputs = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.machine = ProcessMachine(self)
        ctx = self.context
        for name, channel in (("stdout", self.config.stdout), ("stderr", self.config.stderr)):
            output = OutputChannel.create(
                self.config.name, name, channel, ctx.childlogdir, ctx.identifier, ctx.strip_ansi
            )
            setattr(self, name, output)
            if channel.capture_maxbytes > 0:
                self._captures[name] = CaptureFilter(channel.capture_maxbytes)

    # -- public API --------------------------------------------------------------

    @property
    def namespec(self) -> str:
        """``group:name`` (or the bare name for a homogeneous one-process group)."""
        return self.config.namespec

    @property
    def name(self) -> str:
        """The process name."""
        return self.config.name

    @property
    def group(self) -> str:
        """The group name."""
        return self.config.group

    def start(self) -> None:
        """Start the process (AlreadyStarted, Failed when it cannot)."""
        self.machine.start()

    def stop(self) -> None:
        """Stop the process (NotRunning when it is not running)."""
        self.machine.stop()

    def give_up(self) -> None:
        """Turn BACKOFF into FATAL (used when the daemon stops everything)."""
        if self.state is ProcessState.BACKOFF:
            self.machine.give_up()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to a signallable process (NotRunning otherwise)."""
        if self.state not in SIGNALLABLE_STATES or self.child is None:
            raise NotRunning(self.namespec)
        try:
            self.child.signal(sig)
        except ProcessGone:
            pass

    def write_stdin(self, data: bytes) -> None:
        """Send bytes to the process's stdin (NotRunning if it is not running)."""
        if self.child is None or self.state is ProcessState.STOPPING:
            raise NotRunning(self.namespec)
        self.child.write_stdin(data)

    def watch(self, watcher: Callable[[ProcessState], bool]) -> None:
        """Call ``watcher`` with each new state until it returns True."""
        self._watchers.append(watcher)

    def snapshot(self) -> ProcessSnapshot:
        """The process's state and times."""
        return ProcessSnapshot(
            namespec=self.namespec,
            health_failures=self.health_failures,
            notify_status=self.notify.status if self.notify is not None else "",
            cgroup=self.cgroup or "",
            adopted=self.external,
            log_dropped=self.stdout.dropped_total + self.stderr.dropped_total,
            tries=self.tries,
            name=self.name,
            group=self.group,
            state=self.state,
            pid=self.pid,
            start=self.start_time,
            stop=self.stop_time,
            spawnerr=self.spawnerr,
            exitstatus=self.exitstatus,
            stdout_logfile=self.stdout.path or "",
            stderr_logfile=self.stderr.path or "",
            spawns=self.spawns,
        )

    def check_command(self) -> None:
        """Raise SpawnError now if the command cannot be resolved (startProcess's check)."""
        command.resolve(self.config.command, self._search_path())

    # -- IChildProtocol ------------------------------------------------------------

    def output(self, stream: str, data: bytes) -> None:
        """Log bytes the child wrote; capture mode and events as the channel asks."""
        if stream == "stdout" and self.stdout_listener is not None:
            self.stdout_listener(data)
        capture = self._captures.get(stream)
        if capture is None:
            self._log(stream, data)
            return
        for kind, chunk in capture.feed(data):
            if kind == "log":
                self._log(stream, chunk)
            elif kind == "captured":
                self._log_event(stream, chunk)
            else:
                self._communicate(stream, chunk)

    def _log(self, stream: str, data: bytes) -> None:
        channel = self.stdout if stream == "stdout" else self.stderr
        logged = channel.write(data)
        if self.context.log_output:
            log.debug(
                "{name!r} {channel} output:\n{data}",
                name=self.name,
                channel=stream,
                data=logged.decode("utf-8", "replace"),
                program=self.namespec,
            )
        self._log_event(stream, logged)

    def _log_event(self, stream: str, data: bytes) -> None:
        """PROCESS_LOG_STDOUT/_STDERR for output, when the channel's events are enabled."""
        channel = self.stdout if stream == "stdout" else self.stderr
        if channel.config.events_enabled:
            kind = ProcessLogStdout if stream == "stdout" else ProcessLogStderr
            self.bus.publish(kind(self.group, self.name, self.pid, data))

    def _communicate(self, stream: str, data: bytes) -> None:
        kind = ProcessCommunicationStdout if stream == "stdout" else ProcessCommunicationStderr
        self.bus.publish(kind(self.group, self.name, self.pid, data))
        log.debug(
            "{name!r} {channel} emitted a comm event",
            name=self.name,
            channel=stream,
            program=self.namespec,
        )

    def exited(self, status: int) -> None:
        """The child was reaped (for a ``pidfile`` program, first the launcher).

        With a cgroup, the exit counts only once the whole tree is gone: left-overs are
        killed at once, or at the stop deadline when the program is being stopped.
        """
        if self.cgroup is not None and not self._launcher_running and tree.populated(self.cgroup):
            self._held_exit = status
            if self.state is not ProcessState.STOPPING:
                tree.kill(self.cgroup)
            self._empty_watch = EmptyWatch.start(self.clock, self.cgroup, self._tree_empty)
            return
        if self._tree_snapshot and self.state is ProcessState.STOPPING:
            snapshot, self._tree_snapshot = self._tree_snapshot, []
            self._held_exit = status
            self._stragglers = PidsGone.start(self.clock, snapshot, self._tree_empty)
            return
        if self.config.extras.watch is not None and self.state is ProcessState.RUNNING:
            self._search_successor(status)
            return
        if self._launcher_running:
            self._launcher_running = False
            launcher_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if launcher_ok and self.state is ProcessState.STARTING:
                self._await_daemon()
                return
        self.machine.exited(status)

    def _tree_empty(self) -> None:
        self._empty_watch = None
        self._stragglers = None
        status, self._held_exit = self._held_exit, None
        if status is not None:
            self.machine.exited(status)

    # -- MachineCore ------------------------------------------------------------------

    def enter(self, state: ProcessState, **fields: Any) -> None:
        """Record the new state and publish its event."""
        previous = self.state
        self.state = state
        event = STATE_EVENTS[state](self.group, self.name, previous, **fields)
        self.bus.publish(event)
        watchers, self._watchers = self._watchers, []
        kept = [w for w in watchers if not w(state)]
        # Watchers added while these ran (self._watchers) wait for the next change.
        self._watchers = kept + self._watchers

    def begin_start(self, machine: ProcessInputs, fresh: bool) -> None:
        """Enter STARTING and spawn the child."""
        if fresh:
            self.tries = 0
        self.start_time = self.wall_clock()
        self.spawns += 1
        self.spawnerr = ""
        self.enter(ProcessState.STARTING, tries=self.tries)
        self.external = False
        if self.config.extras.watch is not None:
            found = self._find_watched()
            if found is not None:
                try:
                    self._adopt_external(found, 0)
                except ProcessLookupError:
                    found = None
            if found is not None:
                self.spawns -= 1  # nothing was spawned: it was found running
                machine.startsecs_elapsed()
                return
        try:
            spec = self._spawn_spec()
        except SpawnError as error:
            self._spawn_error(machine, error.message)
            return
        try:
            self.stdout.open()
            self.stderr.open()
        except OSError as error:
            code = errno.errorcode.get(error.errno or 0, str(error.errno))
            self._spawn_error(
                machine, f"unknown error making dispatchers for {self.name!r}: {code}"
            )
            return
        if self.config.extras.ready == "notify":
            spec = self._with_notify_socket(spec, machine)
        if self.config.extras.cgroup and self.context.cgroups is not None:
            extras = self.config.extras
            limits = {
                file: value
                for file, value in (
                    ("memory.max", extras.memory_max),
                    ("cpu.max", extras.cpu_max),
                    ("pids.max", extras.pids_max),
                )
                if value is not None
            }
            self.cgroup = self.context.cgroups.make(f"{self.namespec}-{self.spawns}", limits)
            spec = evolve(spec, cgroup=self.cgroup)
        try:
            child = self.spawner.spawn(spec, self)
        except ChildSetupError as error:
            # supervisord's child writes these lines and exits 127 right after the fork;
            # the exit reaches the machine on the next turn, as a real one would.
            self.stderr.write(("\n".join(error.lines) + "\n").encode())
            self.clock.callLater(0, self._setup_failed, machine)
            return
        except OSError as error:
            self._spawn_error(machine, f"unknown error during fork for {self.name!r}: {error}")
            return
        self.child = child
        self.pid = child.pid
        log.info(
            "spawned: {name!r} with pid {pid}", name=self.name, pid=self.pid, program=self.namespec
        )
        ready = self.config.extras.ready
        if self.config.extras.pidfile is not None:
            self._launcher_running = True  # startsecs counts from the daemon's adoption
        elif ready == "notify":
            self._timer = self.clock.callLater(self.config.extras.ready_timeout, machine.not_ready)
        elif ready is not None:
            self._check_readiness(machine, ready, spec)
        else:
            self._arm_startsecs(machine)

    def _arm_startsecs(self, machine: ProcessInputs) -> None:
        """RUNNING now with startsecs=0, else when startsecs have passed."""
        if self.config.startsecs <= 0:
            machine.startsecs_elapsed()
        else:
            self._timer = self.clock.callLater(self.config.startsecs, machine.startsecs_elapsed)

    def _setup_failed(self, machine: ProcessInputs) -> None:
        if self.state is ProcessState.STARTING and self.child is None:
            machine.exited(127 << 8)

    def _spawn_error(self, machine: ProcessInputs, message: str) -> None:
        self.spawnerr = message
        log.info("spawnerr: {message}", message=message, program=self.namespec)
        machine.spawn_failed()

    def promote(self) -> None:
        """Enter RUNNING; the retry count starts over."""
        self.tries = 0
        if self.config.extras.ready is not None:
            log.info(
                "success: {name} entered RUNNING state, it is ready ({ready})",
                name=self.name,
                ready=self.config.extras.ready,
                program=self.namespec,
            )
        else:
            log.info(
                "success: {name} entered RUNNING state, process has stayed up for > than "
                "{startsecs} seconds (startsecs)",
                name=self.name,
                startsecs=self.config.startsecs,
                program=self.namespec,
            )
        self.enter(ProcessState.RUNNING, pid=self.pid)
        if self.config.extras.watchdog_sec is not None and self.state is ProcessState.RUNNING:
            self._watchdog_ping()
        if self.config.extras.healthcheck is not None and self.state is ProcessState.RUNNING:
            self._timer = self.clock.callLater(
                self.config.extras.healthcheck_interval, self._health_probe
            )

    def back_off(self, machine: ProcessInputs, status: int | None) -> None:
        """Enter BACKOFF; retry after ``tries`` seconds, or give up."""
        if status is not None:
            _, why = decode_wait_status(status)
            log.warn(
                "exited: {name} ({why}; not expected)",
                name=self.name,
                why=why,
                program=self.namespec,
            )
            self.spawnerr = TOO_QUICK
            self._reaped()
        self.tries += 1
        self.enter(ProcessState.BACKOFF, tries=self.tries)
        retries = self.config.startretries
        if retries != -1 and self.tries > retries:
            machine.give_up()
        else:
            self._timer = self.clock.callLater(self.backoff_delay(), machine.backoff_elapsed)

    def backoff_delay(self) -> float:
        """Seconds before the next retry: supervisord's 1, 2, 3 … or exponential if asked."""
        extras = self.config.extras
        if extras.backoff_initial is None:
            return float(self.tries)
        delay: float = extras.backoff_initial * 2.0 ** min(self.tries - 1, 60)
        return min(delay, extras.backoff_max) if extras.backoff_max is not None else delay

    def fatal(self) -> None:
        """Enter FATAL."""
        self.tries = 0
        log.info(
            "gave up: {name} entered FATAL state, too many start retries too quickly",
            name=self.name,
            program=self.namespec,
        )
        self.enter(ProcessState.FATAL)

    def exited_running(self, machine: ProcessInputs, status: int) -> None:
        """Enter EXITED; restart per ``autorestart`` while the daemon is running."""
        pid = self.pid
        code, why = decode_wait_status(status)
        expected = code in self.config.exitcodes
        self.exitstatus = code
        self.tries = 0
        self._reaped()
        if expected:
            log.info(
                "exited: {name} ({why}; expected)", name=self.name, why=why, program=self.namespec
            )
        else:
            self.spawnerr = f"Bad exit code {code}"
            log.warn(
                "exited: {name} ({why}; not expected)",
                name=self.name,
                why=why,
                program=self.namespec,
            )
        self.enter(ProcessState.EXITED, pid=pid, expected=expected)
        policy = self.config.autorestart
        restart = policy is AutoRestart.ALWAYS or (
            policy is AutoRestart.UNEXPECTED and not expected
        )
        if restart and self.may_restart():
            machine.restart_after_exit()

    def begin_stop(self, machine: ProcessInputs) -> None:
        """Enter STOPPING, send the stop signal, arm the SIGKILL deadline."""
        self.enter(ProcessState.STOPPING, pid=self.pid)
        if self._successor is not None:
            # Stopped while waiting for a watched process's successor: nothing is running.
            self._successor.stop()
            self._successor = None
            machine.exited(0)
            return
        if self.config.extras.cgroup and self.cgroup is None and self.pid:
            # No cgroups here: remember the whole tree now, sessions and all (fallback).
            self._tree_snapshot = tree.descendants(self.pid)
        if self.child is None:
            # A pidfile program between its launcher's exit and the daemon's adoption.
            self._launcher_running = False
            machine.exited(0)
            return
        self._timer = self.clock.callLater(self.config.stopwaitsecs, machine.stop_timeout)
        self._send(machine, self.config.stopsignal, self.config.stopasgroup)

    def stopped_backoff(self) -> None:
        """Enter STOPPED from BACKOFF."""
        self.tries = 0
        self.enter(ProcessState.STOPPED, pid=0)

    def stopped(self, status: int) -> None:
        """Enter STOPPED after a requested stop."""
        pid = self.pid
        code, why = decode_wait_status(status)
        self.exitstatus = code
        self._reaped()
        if code in self.config.exitcodes:
            log.info("stopped: {name} ({why})", name=self.name, why=why, program=self.namespec)
        else:
            log.warn("stopped: {name} ({why})", name=self.name, why=why, program=self.namespec)
        self.enter(ProcessState.STOPPED, pid=pid)

    def escalate(self, machine: ProcessInputs) -> None:
        """SIGKILL a process that outlived ``stopwaitsecs``."""
        self._timer = None
        log.warn(
            "killing {name!r} ({pid}) with SIGKILL",
            name=self.name,
            pid=self.pid,
            program=self.namespec,
        )
        self._send(machine, signal.SIGKILL, self.config.killasgroup)
        if self.cgroup is not None:
            tree.kill(self.cgroup)
        for pid in self._tree_snapshot:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self._stragglers is not None:
            self._stragglers.kill()

    def unknown(self) -> None:
        """Enter UNKNOWN."""
        self.enter(ProcessState.UNKNOWN)

    def cancel_timer(self) -> None:
        """Cancel the pending deadline (and readiness check) of the state being left."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._readiness is not None:
            checking, self._readiness = self._readiness, None
            checking.cancel()
        if self._pidfile_wait is not None:
            self._pidfile_wait.stop()
            self._pidfile_wait = None

    # -- helpers --------------------------------------------------------------------

    def _send(self, machine: ProcessInputs, sig: int, group: bool) -> None:
        if self.child is None:
            return
        try:
            self.child.signal(sig, group)
        except ProcessGone:
            pass
        except OSError as error:
            log.critical(
                "unknown problem killing {name} ({pid}):{error}",
                name=self.name,
                pid=self.pid,
                error=error,
                program=self.namespec,
            )
            machine.kill_failed()

    def _reaped(self) -> None:
        for stream, capture in self._captures.items():
            for _, chunk in capture.flush():
                self._log(stream, chunk)
        if self.notify is not None:
            self.notify.close()
            self.notify = None
        if self.cgroup is not None:
            if self._empty_watch is not None:
                self._empty_watch.stop()
                self._empty_watch = None
            killed = tree.oom_kills(self.cgroup)
            if killed:
                log.warn(
                    "out of memory: {name} (the kernel killed {n} of its processes)",
                    name=self.name,
                    n=killed,
                    program=self.namespec,
                )
                self.bus.publish(OutOfMemory(self.group, self.name, killed))
            tree.remove(self.cgroup)
            self.cgroup = None
        if self._stragglers is not None:
            self._stragglers.stop()
            self._stragglers = None
        self._tree_snapshot = []
        self.stop_time = self.wall_clock()
        self.child = None
        self.pid = 0
        self.stdout.close()
        self.stderr.close()

    def _search_path(self) -> list[str]:
        return command.search_path(self.config.environment, self.context.environ)

    def _spawn_spec(self) -> SpawnSpec:
        return build_spawn_spec(self.config, self.context, self.stdin_fd)
