"""Program: one supervised process, a small façade over its machine.

The machine (``machine.py``) decides; the states' data (``starting.py``,
``running.py``, ``stopping.py``, ``backoff.py``) own their timers and checks; the
Program records what the machine decided (state, times, spawn error) for snapshots, and
is the core the machine's outputs use: spawning, adopting, signalling and cleaning up
through the collaborators in its ``ProcessHost``.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from typing import Any

from attrs import define, evolve, field
from twisted.logger import Logger
from zope.interface import implementer

from supervise.config.model import ProcessConfig
from supervise.errors import Disabled, SpawnError
from supervise.events.types import STATE_EVENTS, OutOfMemory
from supervise.interfaces import IChildProtocol, IProcess
from supervise.logs.channel import OutputChannel
from supervise.process import command
from supervise.process.ended import ProcessEnd
from supervise.process.host import ProcessHost
from supervise.process.inputs import ChildRun, ProcessInputs
from supervise.process.interfaces import IReadinessCheck, ITreeKiller
from supervise.process.machine import ProcessMachine
from supervise.process.output import ProgramOutput
from supervise.process.restore import record, restore
from supervise.process.saved import SavedProcess
from supervise.process.spec import ChildSetupError, build_spawn_spec
from supervise.process.status import TOO_QUICK
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState

log = Logger()

__all__ = ["Program"]


@implementer(IProcess, IChildProtocol)
@define(eq=False)
class Program:
    """One process of a group: its config, its machine, and what the machine recorded.

    :ivar state: the last state the machine entered (a record; the machine decides).
    :ivar stdout_listener: sees every stdout chunk first (an event listener's protocol).
    """

    config: ProcessConfig
    host: ProcessHost
    stdin_fd: int | None = None
    stdout_listener: Callable[[bytes], None] | None = None
    state: ProcessState = field(default=ProcessState.STOPPED, init=False)
    tries: int = field(default=0, init=False)
    spawns: int = field(default=0, init=False)
    health_failures: int = field(default=0, init=False)
    run: ChildRun | None = field(default=None, init=False)
    start_time: float = field(default=0.0, init=False)
    stop_time: float = field(default=0.0, init=False)
    spawnerr: str = field(default="", init=False)
    exitstatus: int = field(default=0, init=False)
    exit_text: str = field(default="", init=False)
    logs: ProgramOutput = field(init=False)
    tree: ITreeKiller = field(init=False)
    readiness: IReadinessCheck | None = field(default=None, init=False)
    health: IReadinessCheck | None = field(default=None, init=False)
    machine: ProcessInputs = field(init=False)
    #: Disabled: started by nothing (schedule, autostart, start) until enabled.
    disabled: bool = field(default=False, init=False)
    #: A scheduled program's next start (epoch seconds; 0 without a schedule).
    next_run: float = field(default=0.0, init=False)
    #: The group's process count now, and as the configuration says.
    numprocs: tuple[int, int] = field(default=(0, 0), init=False)
    _ticks: tuple[int, int | None] = field(default=(0, None), init=False)

    def __attrs_post_init__(self) -> None:
        host, extras = self.host, self.config.extras
        self.logs = ProgramOutput.create(self.config, host.bus, host.context)
        self.logs.pid = lambda: self.pid
        self.tree = host.trees(self.config)
        if extras.ready is not None and extras.ready != "notify":
            self.readiness = host.checks(extras.ready)
        if extras.healthcheck is not None:
            self.health = host.checks(extras.healthcheck)
        self.machine = ProcessMachine(self)

    # -- what edges read -------------------------------------------------------------

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

    @property
    def pid(self) -> int:
        """The running process's pid (0 when none runs)."""
        return self.run.pid if self.run is not None else 0

    @property
    def stdout(self) -> OutputChannel:
        """The stdout channel."""
        return self.logs.stdout

    @property
    def stderr(self) -> OutputChannel:
        """The stderr channel."""
        return self.logs.stderr

    @property
    def external(self) -> bool:
        """True when the running process was taken over, not spawned."""
        return self.run is not None and self.run.external

    def snapshot(self) -> ProcessSnapshot:
        """The process's state and times, frozen."""
        run = self.run
        return ProcessSnapshot(
            name=self.name,
            group=self.group,
            state=self.state,
            pid=self.pid,
            start=self.start_time,
            stop=self.stop_time,
            spawnerr=self.spawnerr,
            exitstatus=self.exitstatus,
            exit_text=self.exit_text,
            stdout_logfile=self.logs.stdout.path or "",
            stderr_logfile=self.logs.stderr.path or "",
            spawns=self.spawns,
            namespec=self.namespec,
            health_failures=self.health_failures,
            notify_status=run.notify_status if run is not None else "",
            cgroup=getattr(self.tree, "path", None) or "",
            adopted=self.external,
            log_dropped=self.logs.dropped,
            tries=self.tries,
            disabled=self.disabled,
            next_run=self.next_run,
            numprocs=self.numprocs[0],
            numprocs_declared=self.numprocs[1],
        )

    # -- commands (the machine decides; rejections are its own) --------------------------

    def start(self) -> None:
        """Start the process (AlreadyStarted, Disabled, Failed when it cannot)."""
        if self.disabled:
            raise Disabled(f"{self.namespec} is disabled (enable it first)")
        self.machine.start()

    def stop(self) -> None:
        """Stop the process (NotRunning when it is not running)."""
        self.machine.stop()

    def give_up(self) -> None:
        """Turn BACKOFF into FATAL (the daemon is stopping everything); else nothing."""
        self.machine.give_up()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to a signallable process (NotRunning otherwise)."""
        self.machine.send_signal(sig)

    def write_stdin(self, data: bytes) -> None:
        """Send bytes to the process's stdin (NotRunning if it is not running)."""
        self.machine.write_stdin(data)

    def check_command(self) -> None:
        """Raise SpawnError now if the command cannot be resolved (startProcess's check)."""
        command.resolve(
            self.config.command,
            command.search_path(self.config.environment, self.host.context.environ),
        )

    # -- IChildProtocol ----------------------------------------------------------------

    def output(self, stream: str, data: bytes) -> None:
        """Bytes the child wrote."""
        if stream == "stdout" and self.stdout_listener is not None:
            self.stdout_listener(data)
        self.logs.write(stream, data)

    def exited(self, status: int) -> None:
        """The main process was reaped: the machine decides what that means."""
        if self.run is not None:
            self.run.exit_status = status
        self.machine.child_exited(status)

    # -- MachineCore ----------------------------------------------------------------------

    def may_restart(self) -> bool:
        """Automatic starts happen only while the daemon is RUNNING, never when disabled."""
        return not self.disabled and self.host.may_restart()

    def enter(self, state: ProcessState, **fields: Any) -> None:
        """Record the new state and publish its event."""
        previous = self.state
        self.state = state
        self.host.bus.publish(STATE_EVENTS[state](self.group, self.name, previous, **fields))

    def recall(self, state: ProcessState) -> None:
        """Record ``state`` as a previous daemon left it, with no event."""
        self.state = state

    def spawn(self, machine: ProcessInputs) -> ChildRun | None:
        """Start a child; None (``start_failed`` queued) when it cannot be."""
        host, extras = self.host, self.config.extras
        try:
            spec = build_spawn_spec(self.config, host.context, self.stdin_fd)
        except SpawnError as error:
            machine.start_failed(error.message, None)
            return None
        try:
            self.logs.open()
        except OSError as error:
            self.logs.stdout.close()
            self.logs.stderr.close()
            code = errno.errorcode.get(error.errno or 0, str(error.errno))
            machine.start_failed(
                f"unknown error making dispatchers for {self.name!r}: {code}", None
            )
            return None
        notify = None
        if extras.ready == "notify" or extras.watchdog_sec is not None:
            notify = host.notify.open(f"{self.namespec}-{self.spawns}", self._notified)
            env = {**spec.env, "NOTIFY_SOCKET": notify.address}
            if extras.watchdog_sec is not None:
                env["WATCHDOG_USEC"] = str(int(extras.watchdog_sec * 1_000_000))
            spec = evolve(spec, env=env)
        spec = self.tree.prepare(spec, f"{self.namespec}-{self.spawns}")
        try:
            child = host.spawner.spawn(spec, self)
        except ChildSetupError as error:
            # supervisord's child writes these lines and exits 127 right after the fork.
            if notify is not None:
                notify.close()
            self.logs.stderr.write(("\n".join(error.lines) + "\n").encode())
            machine.start_failed(TOO_QUICK, 127 << 8)
            return None
        except OSError as error:
            if notify is not None:
                notify.close()
            self.logs.stdout.close()
            self.logs.stderr.close()
            if error.errno in (errno.EMFILE, errno.ENFILE):
                code = errno.errorcode[error.errno]
                message = f"unknown error making dispatchers for {self.name!r}: {code}"
            else:
                message = f"unknown error during fork for {self.name!r}: {error}"
            machine.start_failed(message, None)
            return None
        # The environment is kept only for a readiness check's commands (1.5 KiB a program).
        env = spec.env if self.readiness is not None else {}
        self.run = ChildRun(child, child.pid, env=env, notify=notify)
        log.info(
            "spawned: {name!r} with pid {pid}", name=self.name, pid=child.pid, program=self.namespec
        )
        return self.run

    def _notified(self, key: str, value: str) -> None:
        """One sd_notify message of the current run."""
        if key == "READY" and value == "1":
            self.machine.started()
        elif key == "WATCHDOG" and value == "1":
            self.machine.watchdog_ping()
        elif key == "STATUS" and self.run is not None:
            self.run.notify_status = value

    def adopt(self, pid: int, external: bool, fds: dict[str, int] | None = None) -> ChildRun:
        """Watch ``pid`` as this program's process (ProcessLookupError if it is gone)."""
        child = self.host.spawner.adopt(pid, self, fds, label=self.namespec)
        self.run = ChildRun(child, pid, external=external)
        return self.run

    def owns(self, pid: int) -> bool:
        """True if ``pid`` is already some program's child."""
        return bool(self.host.spawner.owns(pid))

    def find_watched(self) -> int | None:
        """The process a watched program stands for, if one runs (never another
        program's, never a zombie)."""
        extras, table = self.config.extras, self.host.table
        if extras.watch == "pidfile" and extras.pidfile is not None:
            pid = table.pidfile_pid(extras.pidfile, 0.0)
            pid = None if pid is None or self.owns(pid) else pid
        else:
            pattern = re.compile(extras.match or re.escape(self.config.command))
            pid = table.find(pattern, extras.match_user, self.owns)
        return pid if pid is not None and table.start_ticks(pid) is not None else None

    def signal_child(self, machine: ProcessInputs, sig: int, group: bool) -> None:
        """Signal the main process; ``kill_failed`` on an unexpected error."""
        from supervise.errors import ProcessGone

        run = self.run
        if run is None:
            return
        try:
            run.child.signal(sig, group)
        except ProcessGone:
            pass
        except OSError as error:
            log.critical(
                "unknown problem killing {name} ({pid}):{error}",
                name=self.name,
                pid=run.pid,
                error=error,
                program=self.namespec,
            )
            machine.kill_failed()

    def reaped(self) -> None:
        """The run is over: flush and close its output, release its tree, forget it."""
        run, self.run = self.run, None
        self.logs.flush_and_close()
        if run is not None and run.notify is not None:
            run.notify.close()
        killed = self.tree.release()
        if killed:
            log.warn(
                "out of memory: {name} (the kernel killed {n} of its processes)",
                name=self.name,
                n=killed,
                program=self.namespec,
            )
            self.host.bus.publish(OutOfMemory(self.group, self.name, killed))
        self.stop_time = self.host.wall_clock()

    def ended(self, state: ProcessState, status: int, expected: bool, why: str) -> None:
        """Tell the host the process ended for good."""
        end = ProcessEnd(
            self.group, self.name, self.namespec, state, status, expected, why,
            critical=self.config.extras.critical,
            scheduled=self.config.extras.schedule is not None,
        )  # fmt: skip
        self.host.ended(end)

    # -- across the daemon's own restarts -------------------------------------------------

    def restore(self, saved: SavedProcess, handed_over: bool) -> bool:
        """Take over what a previous daemon left (``process/restore.py``); True when a
        running process was adopted."""
        return restore(self, saved, handed_over)

    def saved(self, with_fds: bool) -> SavedProcess:
        """This process for the state file (``with_fds``: its pipes, for a re-exec)."""
        pid = self.pid
        if self._ticks[0] != pid:
            # Read /proc once per pid, not on every state-file write.
            self._ticks = (pid, self.host.table.start_ticks(pid) if pid else None)
        return record(self, self._ticks[1], with_fds)
