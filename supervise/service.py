"""make_service: the one place where the daemon is wired together.

Config → bus, spawner → a DaemonService whose children start in this order (and stop
one after the other in reverse, so programs stop before the HTTP servers close and the
pidfile goes last but one):

    SocketTable        [socket:x] sockets (before privileges are dropped)
    PrivilegesService  umask, working directory, [supervisord] user
    MainLogService     the main log
    SignalService      SIGTERM/HUP/USR1/USR2/CHLD
    LimitsService      subreaper, minfds/minprocs, root warning
    HTTPServers        listen (a second daemon stops here, having touched nothing)
    PidFileService     the pidfile (and twistd's, after a re-exec)
    CoreService        old AUTO logs, survivors, Supervisor + SupervisorControl
    PluginHost         plugins and their services
    SiteService        the resource tree, mounted on the servers
    ExitStatusService  a program that ends the daemon: shutdown, and its exit status
    ProgramsService    programs started (or taken over), ticks, state file
    UsageService       each program's CPU and memory, sampled every usage_interval
    ClusterService     cluster mode
    ReadyService       READY=1 to systemd
"""

from __future__ import annotations

import time
from typing import Any

from twisted.logger import Logger

from supervise.cluster.cache import Applied, load_applied
from supervise.config.errors import ConfigError
from supervise.config.model import ConfigModel
from supervise.daemon import preflight
from supervise.daemon.cluster import ClusterService
from supervise.daemon.control import DaemonControl
from supervise.daemon.core import DEBUG_LEVELS, CoreService, ProgramsService
from supervise.daemon.daemon import DaemonService, report_startup_error
from supervise.daemon.errors import StartupError
from supervise.daemon.exit_status import ExitStatusService
from supervise.daemon.handover import Handover
from supervise.daemon.http import SiteService
from supervise.daemon.keeper import KeeperService
from supervise.daemon.mainlog import MainLogService
from supervise.daemon.pidfile import PidFileService, ReadyService
from supervise.daemon.plugins import PluginHost
from supervise.daemon.process_env import LimitsService, PrivilegesService
from supervise.daemon.reload import Reloader
from supervise.daemon.runtime import Runtime
from supervise.daemon.servers import HTTPServers
from supervise.daemon.signals import SignalService
from supervise.daemon.socket_table import SocketTable
from supervise.daemon.statefile import StateFile, take_handoff
from supervise.daemon.usage import UsageService
from supervise.events.bus import EventBus
from supervise.events.journal import EventJournal
from supervise.options import DaemonOptions
from supervise.process.linux.pipestore import PipeStore
from supervise.process.linux.reaper import Reaper
from supervise.process.linux.spawner import ReactorSpawner

log = Logger(namespace="supervise.service")


def make_service(
    options: DaemonOptions, reactor: Any = None, model: ConfigModel | None = None
) -> DaemonService:
    """Build the daemon's service (``model``: the configuration, if already read).

    Raises ConfigError if the configuration is invalid, and StartupError if the daemon
    could not start (an HTTP server's address in use, an unusable main log): both are
    found here, before twistd forks into the background.
    """
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    handoff = take_handoff(options.handoff)
    if model is None:
        model = options.load()
    applied = Applied()
    if model.cluster is not None:
        model, applied = with_cached_revision(options, model)
    if handoff is None:
        preflight.check(model)
    use_monotonic_clock(reactor)
    return wire(Runtime(options, model, reactor, handoff), applied)


def wire(runtime: Runtime, applied: Applied) -> DaemonService:
    """The services of one daemon and what each is handed."""
    options, reactor = runtime.options, runtime.reactor
    bus = EventBus(time.time)
    if runtime.model.supervisord.loglevel in DEBUG_LEVELS:
        bus.subscribe(EventJournal())
    reaper = Reaper()
    if runtime.handoff is not None:
        # Children that exit during the hand-off are kept for their programs.
        reaper.expect(p.pid for p in runtime.handoff.processes)
    pipes = PipeStore(f"{runtime.state_path}.keeper")
    keeper = KeeperService(runtime, pipes, reaper)
    spawner = ReactorSpawner(reactor, reaper, pipes)
    sockets = SocketTable(runtime)
    mainlog = MainLogService(runtime)
    servers = HTTPServers(runtime)
    pidfiles = PidFileService(runtime)
    statefile = StateFile(runtime)

    def read_config() -> ConfigModel:
        """The local files, plus the cluster revision this node runs."""
        return options.load(cluster.hook())

    core = CoreService(runtime, bus, spawner, sockets, statefile, read_config, keeper)
    cluster = ClusterService(runtime, bus, core, applied)
    plugins = PluginHost(runtime, bus, core)
    programs = ProgramsService(runtime, bus, core)
    daemon = DaemonControl(
        runtime,
        mainlog,
        core,
        restart=lambda: reloader.reload(),
        reexec=lambda: handover.run(),
        cluster_status=cluster.status,
    )
    usage = UsageService(
        runtime.model.supervisord.usage_interval,
        reactor,
        bus,
        lambda: core.control.snapshots() if core.control is not None else [],
    )
    site = SiteService(runtime, bus, core, plugins, daemon, servers, usage)
    cluster.watchers.append(site.refresh_console)
    reloader = Reloader(runtime, read_config, core, servers, site, mainlog, pidfiles)
    handover = Handover(runtime, core, programs, servers, sockets, pidfiles, statefile, mainlog)

    def startup_error(problem: StartupError) -> Any:
        report_startup_error(options, problem)

    top = DaemonService(startup_error)
    for part in (
        sockets,
        PrivilegesService(runtime),
        mainlog,
        SignalService(daemon, reactor, reaper),
        LimitsService(runtime),
        servers,
        pidfiles,
        keeper,
        core,
        plugins,
        site,
        ExitStatusService(bus, daemon),
        programs,
        usage,
        cluster,
        ReadyService(runtime),
    ):
        part.setServiceParent(top)
    return top


def with_cached_revision(options: DaemonOptions, model: ConfigModel) -> tuple[ConfigModel, Applied]:
    """Add the cluster revision this node ran last (from its cache), if it still applies."""
    from supervise.cluster_store.definitions import extra_sections

    assert model.cluster is not None
    applied = load_applied(model.cluster.cache)
    if not applied.number:
        return model, applied
    try:
        return options.load(extra_sections(applied.number, applied.sections)), applied
    except ConfigError as problem:
        log.error(
            "cluster: the cached revision {n} no longer applies ({problem}); starting without it",
            n=applied.number,
            problem=problem,
        )
        return model, Applied()


def use_monotonic_clock(reactor: Any) -> bool:
    """Schedule on ``time.monotonic`` so a wall-clock step moves no deadline.

    Twisted schedules ``callLater`` on ``time.time`` (twisted/twisted #2424); switching is
    safe only before anything is scheduled, so it is skipped (and False returned) otherwise.
    """
    if reactor.getDelayedCalls():
        return False
    reactor.seconds = time.monotonic
    return True


__all__ = ["DaemonOptions", "DaemonService", "StartupError", "make_service"]
