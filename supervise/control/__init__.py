"""SupervisorControl: the one door into the core (``ISupervisorControl``).

Every edge — XML-RPC, the console, the cluster agent, plugins — reads processes as
snapshots and acts on them here, with supervisord's rules and errors. Names are
supervisord's namespecs (``name``, ``group:name``, ``group:*``) and are resolved in one
place (``ProcessLookup`` in ``lookup.py``). Waiting is one primitive (``when``), fed by the
bus's ``PROCESS_STATE_*`` events and fired on a later reactor turn, never by polling and
never inside a transition (SUPERVISOR.md §6.4).

Reading, signals and stdin live here; the other families live beside this module and
``SupervisorControl`` delegates to them under the interface's names:

- ``lookup.py``: ``ProcessLookup``, namespecs to live groups and processes
- ``lifecycle.py``: ``ProcessLifecycle``, start and stop (one, a group, all) and ``when``
- ``logs.py``: ``ProcessLogs``, each process's log files (read, tail, follow, clear)
- ``updates.py``: ``ConfigUpdates``, supervisorctl's reread, update, add and remove
- ``choices.py``: ``RuntimeControls``, disable, enable and scale (kept across restarts)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import define, field
from twisted.internet.defer import Deferred
from zope.interface import implementer

from supervise.config.diff import ConfigDiff
from supervise.config.model import ConfigModel, GroupConfig, ProcessConfig
from supervise.control.choices import RuntimeControls
from supervise.control.lifecycle import ProcessLifecycle
from supervise.control.logs import ProcessLogs
from supervise.control.lookup import ProcessLookup, split_namespec
from supervise.control.updates import ConfigUpdates
from supervise.errors import NoFile, NotRunning, SuperviseError
from supervise.interfaces import IEventBus, ISupervisorControl
from supervise.process.program import Program
from supervise.results import ProcessResult, ScaleResult, Target
from supervise.snapshot import ProcessSnapshot
from supervise.states import SIGNALLABLE_STATES, SupervisorState
from supervise.supervisor import Supervisor
from supervise.waiting import StateWaiters

__all__ = [
    "ConfigUpdates",
    "ProcessLifecycle",
    "ProcessLogs",
    "ProcessLookup",
    "ProcessResult",
    "RuntimeControls",
    "SupervisorControl",
    "split_namespec",
]


@implementer(ISupervisorControl)
@define(eq=False)
class SupervisorControl:
    """Commands on a Supervisor, with supervisord's rules and errors.

    :ivar reread_model: reads the configuration again (raises ValueError/ConfigError).
    :ivar processes: finds groups and processes by supervisord's names.
    :ivar lifecycle: starts and stops processes and waits for their states.
    :ivar logs: the processes' log files.
    :ivar config_updates: reread, update, add and remove.
    """

    supervisor: Supervisor
    reread_model: Callable[[], ConfigModel]
    processes: ProcessLookup = field(init=False)
    lifecycle: ProcessLifecycle = field(init=False)
    logs: ProcessLogs = field(init=False)
    config_updates: ConfigUpdates = field(init=False)
    runtime: RuntimeControls = field(init=False)
    _waiters: StateWaiters = field(init=False)

    def __attrs_post_init__(self) -> None:
        self._waiters = self.supervisor.waiters
        self.processes = ProcessLookup(self.supervisor)
        self.lifecycle = ProcessLifecycle(self.supervisor, self.processes, self._waiters)
        self.logs = ProcessLogs(self.processes)
        self.config_updates = ConfigUpdates(self.supervisor, self.processes, self.reread_model)
        self.runtime = RuntimeControls(self.supervisor, self.processes)

    @property
    def bus(self) -> IEventBus:
        """The bus every lifecycle event travels on."""
        return self.supervisor.bus

    @property
    def pending(self) -> ConfigModel | None:
        """The configuration last read by ``reread``, until ``update`` applies it."""
        return self.config_updates.pending

    @pending.setter
    def pending(self, model: ConfigModel | None) -> None:
        self.config_updates.pending = model

    # -- names: ProcessLookup ---------------------------------------------------------

    def resolve(self, name: str) -> Target:
        """What ``name`` designates (BadName with the name as given otherwise)."""
        return self.processes.resolve(name)

    def _sorted_processes(self) -> list[Program]:
        """Every live process by group then name: for plugins written before
        ``snapshots()``, which they should use instead."""
        return sorted(self.processes.all_programs(), key=lambda p: (p.group, p.name))

    # -- reading -----------------------------------------------------------------------

    def supervisor_state(self) -> SupervisorState:
        """The daemon's own state."""
        return self.supervisor.state

    def snapshot(self, namespec: str) -> ProcessSnapshot:
        """One process as it is now."""
        return self.processes.program(namespec).snapshot()

    def snapshots(self) -> list[ProcessSnapshot]:
        """Every process, by group then process name."""
        return [p.snapshot() for p in self._sorted_processes()]

    def process_config(self, namespec: str) -> ProcessConfig:
        """The configuration a process runs with."""
        return self.processes.program(namespec).config

    def group_config(self, name: str) -> GroupConfig:
        """The configuration of an active group."""
        return self.processes.group(name).config

    def group_names(self) -> list[str]:
        """Active groups in start order."""
        return [g.name for g in self.supervisor.ordered_groups()]

    def active_config(self) -> ConfigModel:
        """The configuration the daemon runs."""
        return self.supervisor.model

    def latest_config(self) -> ConfigModel:
        """The configuration last read (or the running one)."""
        return self.config_updates.latest_config()

    # -- waiting and start / stop: ProcessLifecycle ----------------------------------

    def when(
        self,
        namespecs: Sequence[str],
        predicate: Callable[[ProcessSnapshot], bool],
        timeout: float | None = None,
    ) -> Deferred[list[ProcessSnapshot]]:
        """Fire with the snapshots once every process satisfies ``predicate``."""
        return self.lifecycle.when(namespecs, predicate, timeout)

    def start(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Start one process; fire True when RUNNING (or at once when not waiting)."""
        return self.lifecycle.start(namespec, wait)

    def stop(self, namespec: str, wait: bool = True) -> Deferred[bool]:
        """Stop one process; fire True once it is stopped (or at once)."""
        return self.lifecycle.stop(namespec, wait)

    def start_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process of a group."""
        return self.lifecycle.start_group(name, wait)

    def start_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every not-running process, group by group."""
        return self.lifecycle.start_all(wait)

    def stop_group(self, name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process of a group (in start order, as supervisord does)."""
        return self.lifecycle.stop_group(name, wait)

    def stop_all(self, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process (in start order, as supervisord's API does)."""
        return self.lifecycle.stop_all(wait)

    # -- run-time choices: RuntimeControls ------------------------------------------

    def disable(self, name: str) -> Deferred[list[str]]:
        """Disable and stop processes; fire with their namespecs once stopped."""
        return self.runtime.disable(name)

    def enable(self, name: str) -> list[str]:
        """Enable processes again (none is started)."""
        return self.runtime.enable(name)

    def scale(self, name: str, count: int) -> Deferred[ScaleResult]:
        """Run ``count`` processes of a program; fire once the change is done."""
        return self.runtime.scale(name, count)

    # -- signals and stdin --------------------------------------------------------------

    def signal(self, namespec: str, sig: int) -> None:
        """Signal one process (NotRunning, its machine's answer, unless it is signallable)."""
        program = self.processes.program(namespec)
        try:
            program.signal(sig)
        except NotRunning:
            raise NotRunning(namespec) from None

    def signal_group(self, name: str, sig: int) -> list[ProcessResult]:
        """Signal every signallable process of a group."""
        return self._signal_each(self.processes.group(name).ordered(), sig)

    def signal_all(self, sig: int) -> list[ProcessResult]:
        """Signal every signallable process."""
        return self._signal_each(self.processes.all_programs(), sig)

    @staticmethod
    def _signal_each(programs: Sequence[Program], sig: int) -> list[ProcessResult]:
        results = []
        for program in programs:
            if program.state not in SIGNALLABLE_STATES:
                continue
            try:
                program.signal(sig)
            except SuperviseError as error:
                results.append(ProcessResult(program.name, program.group, error))
            else:
                results.append(ProcessResult(program.name, program.group))
        return results

    def send_stdin(self, namespec: str, data: bytes) -> None:
        """Write to a running process's stdin (NoFile when its stdin is closed)."""
        program = self.processes.program(namespec)
        try:
            program.write_stdin(data)
        except NotRunning:
            raise NotRunning(namespec) from None
        except OSError:
            raise NoFile(namespec) from None

    # -- process logs: ProcessLogs ---------------------------------------------------

    def read_log(self, namespec: str, channel: str, offset: int, length: int) -> bytes:
        """A slice of a process's log, as readProcessStdoutLog reads it."""
        return self.logs.read_log(namespec, channel, offset, length)

    def tail_log(
        self, namespec: str, channel: str, offset: int, length: int
    ) -> tuple[bytes, int, bool]:
        """The end of a process's log, as tailProcessStdoutLog answers."""
        return self.logs.tail_log(namespec, channel, offset, length)

    def follow_log(
        self,
        namespec: str,
        channel: str,
        follower: Callable[[bytes], None],
        backlog: int = 1024,
    ) -> Callable[[], None]:
        """The last ``backlog`` bytes now, then every new byte; returns the unfollow."""
        return self.logs.follow_log(namespec, channel, follower, backlog)

    def clear_log(self, namespec: str) -> None:
        """Empty both log files of one process (Failed on an OS error)."""
        self.logs.clear_log(namespec)

    def clear_all_logs(self) -> list[ProcessResult]:
        """Empty the logs of every process; one result each."""
        return self.logs.clear_all_logs()

    # -- configuration: ConfigUpdates ------------------------------------------------

    def reread(self) -> ConfigDiff:
        """Read the configuration again and say what changed (CantReread on error)."""
        return self.config_updates.reread()

    def add_group(self, name: str) -> None:
        """Add a group from the last-read configuration."""
        self.config_updates.add_group(name)

    def remove_group(self, name: str) -> None:
        """Remove a group whose processes are all stopped."""
        self.config_updates.remove_group(name)

    def update(self, model: ConfigModel, only: set[str] | None = None) -> Deferred[ConfigDiff]:
        """Apply ``model`` as supervisorctl's ``update`` would."""
        return self.config_updates.update(model, only)
