"""The zope Interfaces that edges, plugins and the core program against."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    # Names for signatures only: the values crossing the door are frozen data (layers
    # 0 and 1), so no module here imports the core.
    from twisted.internet.defer import Deferred

    from supervise.config.diff import ConfigDiff
    from supervise.config.model import ConfigModel, GroupConfig, ProcessConfig
    from supervise.results import ProcessResult, ScaleResult, Target
    from supervise.snapshot import ProcessSnapshot, ResourceUsage
    from supervise.states import SupervisorState


class IEventListener(Interface):
    """Something that consumes events from the bus."""

    name = Attribute("str, used in logs")
    event_types = Attribute("tuple of Event classes; subclasses included")
    max_pending = Attribute("int, bound of this listener's queue while it is busy")

    def notify(event):  # type: ignore[no-untyped-def]  # Event -> Deferred | None
        """Take one event; a returned Deferred holds back the next until it fires."""


class ISubscription(Interface):
    """A listener's place on the bus."""

    pending = Attribute("int, events queued for this listener")
    dropped = Attribute("int, events dropped because the queue was full")
    failures = Attribute("int, events whose delivery raised or failed")

    def cancel() -> None:
        """Stop delivering events to this listener."""


class IEventBus(Interface):
    """The one bus every lifecycle event travels on."""

    def publish(event):  # type: ignore[no-untyped-def]  # Event -> Event
        """Stamp ``serial`` and ``when``, deliver in order, return the stamped event.

        Delivery is never re-entrant: a publish made while delivering is queued and
        delivered after the current event reached every listener.
        """

    def subscribe(listener: IEventListener) -> ISubscription:
        """Deliver every later event of the listener's types to it."""


class IChild(Interface):
    """A running child process, as the process machine sees it."""

    pid = Attribute("int")

    def signal(sig: int, group: bool = False) -> None:
        """Send ``sig`` to the child (or its process group); ProcessGone if reaped."""

    def write_stdin(data: bytes) -> None:
        """Queue bytes for the child's stdin; NotRunning if it is closed."""

    def close_stdin() -> None:
        """Close the child's stdin."""


class IChildProtocol(Interface):
    """Receives what happens to one child."""

    def output(stream: str, data: bytes) -> None:
        """Bytes the child wrote on ``stdout`` or ``stderr``."""

    def exited(status: int) -> None:
        """Once, after the child is reaped: its raw wait status."""


class IProcessSpawner(Interface):
    """Starts children."""

    def spawn(spec, protocol):  # type: ignore[no-untyped-def]  # SpawnSpec, IChildProtocol -> IChild
        """Start a child from a SpawnSpec; failures before exec raise SpawnError."""

    def adopt(pid, protocol, fds=None, label=""):  # type: ignore[no-untyped-def]  # int, IChildProtocol, dict | None, str -> IChild
        """Watch an existing process as a child; ``fds`` are its pipes, if any (inherited
        through a re-exec, or taken back from the descriptor keeper); ``label`` names it."""

    def owns(pid: int) -> bool:
        """True if ``pid`` is already some program's child."""


class IProcess(Interface):
    """One supervised process, as the control API sees it."""

    config = Attribute("ProcessConfig")
    state = Attribute("ProcessState")

    def start() -> None:
        """Ask the process to start; AlreadyStarted etc. when it cannot."""

    def stop() -> None:
        """Ask the process to stop; NotRunning when it is not running."""


class IPluginContext(Interface):
    """What a plugin gets to work with."""

    name = Attribute("str: the plugin's section name")
    control = Attribute(
        "ISupervisorControl: snapshots, start, stop, signal, waits … (the one door into the core)"
    )
    bus = Attribute("IEventBus: publish your own events, or subscribe more listeners")
    reactor = Attribute("the Twisted reactor (IReactorTime, IReactorProcess …)")
    log = Attribute("twisted.logger.Logger namespaced for this plugin")


class ISupervisorPlugin(Interface):
    """An in-process plugin, found through the ``supervise.plugins`` entry point group.

    Enabled by a ``[plugin:<name>]`` section whose options are given to ``configure``.
    Every method may be left to ``supervise.plugin.Plugin``'s defaults.
    """

    def configure(options, context):  # type: ignore[no-untyped-def]
        """Validate and keep the section's options; raise ValueError naming the option."""

    def listeners():  # type: ignore[no-untyped-def]
        """IEventListener providers to subscribe to the bus."""

    def resources():  # type: ignore[no-untyped-def]
        """``{b"path": IResource}`` mounted under ``/plugins/<name>/``."""

    def rpc_namespaces():  # type: ignore[no-untyped-def]
        """``{"namespace": object}`` served over XML-RPC as ``namespace.method``."""

    def services():  # type: ignore[no-untyped-def]
        """IService providers started and stopped with the daemon."""


class IResourceUsage(Interface):
    """Each running program's CPU and memory, sampled by the daemon every ``interval``
    seconds (``[supervisord] usage_interval``); every sample is also published on the bus
    as ``ResourcesSampled``."""

    interval = Attribute("float: seconds between samples (0: sampling is off)")

    def latest() -> Mapping[str, ResourceUsage]:
        """The last sample of every program that was running then, by namespec."""

    def history(namespec: str) -> Sequence[ResourceUsage]:
        """A program's recent samples, oldest first (empty if none)."""


class ISupervisorControl(Interface):
    """The one door into the core: everything an edge (XML-RPC, console, cluster agent,
    plugins) reads of the supervised processes or asks of them.

    Names are supervisord's namespecs (SUPERVISOR.md §6.2): ``name``, ``group:name``,
    ``group:*``. A name that designates nothing raises ``BadName`` with the name as
    given; every other refusal is one of ``supervise.errors``, each mapped to one
    supervisord fault by ``rpc/faults.py``. Processes are seen only as frozen
    ``ProcessSnapshot`` values and configuration as frozen ``supervise.config.model``
    values, never as live objects.
    """

    bus = Attribute("IEventBus: subscribe to lifecycle events, publish your own")

    # -- reading ------------------------------------------------------------------------

    def supervisor_state() -> SupervisorState:
        """The daemon's own state (RUNNING, RESTARTING, SHUTDOWN)."""

    def resolve(name: str) -> Target:
        """What ``name`` designates: one process, or a whole group for ``group:*``."""

    def snapshot(namespec: str) -> ProcessSnapshot:
        """One process as it is now; a group form is ``BadName``."""

    def snapshots() -> Sequence[ProcessSnapshot]:
        """Every process, sorted by group then process name (getAllProcessInfo's order)."""

    def process_config(namespec: str) -> ProcessConfig:
        """The configuration a process runs with."""

    def group_config(name: str) -> GroupConfig:
        """The configuration of an active group."""

    def group_names() -> Sequence[str]:
        """The active groups, in start order (priority, then name)."""

    def active_config() -> ConfigModel:
        """The configuration the daemon runs."""

    def latest_config() -> ConfigModel:
        """The configuration last read: after ``reread``, what ``add_group`` and
        ``update`` would use; otherwise the one the daemon runs."""

    # -- waiting --------------------------------------------------------------------------

    def when(
        namespecs: Sequence[str],
        predicate: Callable[[ProcessSnapshot], bool],
        timeout: float | None = None,
    ) -> Deferred[list[ProcessSnapshot]]:
        """Fire with the processes' snapshots once every one satisfies ``predicate``.

        The predicate is checked now and at each of their ``PROCESS_STATE_*`` events
        (seeing the state the event reports). The Deferred always fires on a later
        reactor turn, never inside a state transition; after ``timeout`` seconds it fails
        with ``WaitTimedOut``. Cancelling it stops the wait.
        """

    # -- commands -------------------------------------------------------------------------

    def start(namespec: str, wait: bool = True) -> Deferred[bool]:
        """Start one process (and first what it ``depends_on``).

        With ``wait``, fire when it is RUNNING; fail ``SpawnFailed`` on a spawn error and
        ``AbnormalTermination`` when it leaves STARTING otherwise (SUPERVISOR.md §6.4).
        """

    def stop(namespec: str, wait: bool = True) -> Deferred[bool]:
        """Stop one process; with ``wait``, fire once it is stopped."""

    def start_group(name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every process of a group that is not running; one result each, in
        completion order."""

    def stop_group(name: str, wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process of a group; one result each."""

    def start_all(wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Start every process that is not running, group by group."""

    def stop_all(wait: bool = True) -> Deferred[list[ProcessResult]]:
        """Stop every running process."""

    def signal(namespec: str, sig: int) -> None:
        """Send signal number ``sig`` to one process (``NotRunning`` unless signallable)."""

    def signal_group(name: str, sig: int) -> list[ProcessResult]:
        """Signal every signallable process of a group."""

    def signal_all(sig: int) -> list[ProcessResult]:
        """Signal every signallable process."""

    def send_stdin(namespec: str, data: bytes) -> None:
        """Write bytes to a running process's stdin (``NotRunning`` otherwise)."""

    # -- process logs ---------------------------------------------------------------------

    def read_log(namespec: str, channel: str, offset: int, length: int) -> bytes:
        """Read a process's ``stdout`` or ``stderr`` log the way readProcessStdoutLog does
        (SUPERVISOR.md §6.3); ``NoFile`` when it has no file, ``Failed`` if unreadable."""

    def tail_log(namespec: str, channel: str, offset: int, length: int) -> tuple[bytes, int, bool]:
        """``(data, new offset, overflow)`` as tailProcessStdoutLog answers."""

    def follow_log(
        namespec: str, channel: str, follower: Callable[[bytes], None], backlog: int = 1024
    ) -> Callable[[], None]:
        """Give ``follower`` the last ``backlog`` bytes of the log file now, then every
        byte the process writes to it; return the function that stops following.

        ``NoFile`` when the channel has no log file.
        """

    def clear_log(namespec: str) -> None:
        """Empty both log files of one process (backups kept); ``Failed`` on an OS error."""

    def clear_all_logs() -> list[ProcessResult]:
        """Empty the log files of every process."""

    # -- configuration --------------------------------------------------------------------

    def reread() -> ConfigDiff:
        """Read the configuration again and say what changed (``CantReread`` on error)."""

    def add_group(name: str) -> None:
        """Activate a group of the configuration last read."""

    def remove_group(name: str) -> None:
        """Drop an active group whose processes are all stopped (``StillRunning``)."""

    def update(model: ConfigModel, only: set[str] | None = None) -> Deferred[ConfigDiff]:
        """Apply ``model`` as supervisorctl's ``update``: removed groups stopped and
        dropped, changed ones restarted, added ones started, the others untouched.
        ``only`` limits it to those group names."""

    # -- run-time choices (kept across reload and re-exec) ----------------------------------

    def disable(name: str) -> Deferred[list[str]]:
        """Disable the processes ``name`` designates: stop them; nothing starts them
        (autostart, a schedule, ``start``: ``Disabled``) until enabled. Fires with their
        namespecs once all are stopped."""

    def enable(name: str) -> list[str]:
        """Enable disabled processes again (none is started); their namespecs."""

    def scale(name: str, count: int) -> Deferred[ScaleResult]:
        """Run ``count`` processes of the ``[program:x]`` ``name``: new ones follow its
        ``process_name``, the highest numbers are stopped and removed first, the others are
        untouched. ``BadArguments`` for a count out of range, ``NotScalable`` for a group
        that cannot change."""


class IDaemonControl(Interface):
    """What the XML-RPC namespaces and the console need of the daemon itself."""

    def pid() -> int:
        """The daemon's pid."""

    def identifier() -> str:
        """``[supervisord] identifier``."""

    def main_log_path() -> str | None:
        """The main log file, None when logging to syslog."""

    def clear_main_log() -> None:
        """Empty the main log file (OSError if it cannot)."""

    def request_shutdown() -> None:
        """Stop everything and exit, once the current reply is sent."""

    def request_restart() -> None:
        """Reload everything (supervisord's ``restart``), once the current reply is sent;
        raises CantReread (nothing changes) when the configuration does not load."""

    def request_reexec() -> None:
        """Replace the daemon with a fresh copy of itself keeping every child."""

    def reopen_logs() -> None:
        """Reopen the main log and every process log (SIGUSR2)."""

    def daemon_info() -> Mapping[str, Any]:
        """Who this daemon is, for the console's header (identification, version,
        state, pid, cluster)."""
