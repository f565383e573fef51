"""makeService: the one place where the daemon is wired together.

Config → bus, spawner, supervisor, control → HTTP servers; signals; main log; pidfile.
"""

from __future__ import annotations

import os
import resource as rlimits
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger, globalLogPublisher
from twisted.web import resource
from zope.interface import implementer

from supervise import __version__
from supervise.cluster.cache import Applied, load_applied
from supervise.config.errors import ConfigError
from supervise.config.model import ConfigModel, GroupConfig, SocketConfig
from supervise.config.values import import_spec
from supervise.control import SupervisorControl
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.journal import EventJournal
from supervise.events.ticks import Ticker
from supervise.events.types import ProcessStateEvent
from supervise.interfaces import IDaemonControl, ISubscription
from supervise.logs.channel import cleanup_auto_logs
from supervise.logs.mainlog import MainLogObserver, stdout_echo
from supervise.logs.rotating import RotatingFile
from supervise.options import DaemonOptions
from supervise.plugins import LoadedPlugin, PluginContext, load_all
from supervise.process.reaper import Reaper, become_subreaper
from supervise.process.spawner import ReactorSpawner
from supervise.process.spec import SpawnContext
from supervise.process.tree import CgroupTree
from supervise.restarts import RestartMixin
from supervise.rpc.registry import methods_of, public_methods
from supervise.rpc.resource import XMLRPCResource
from supervise.rpc.supervise_ns import SuperviseNamespace
from supervise.rpc.supervisor_ns import SupervisorNamespace
from supervise.rpc.system_ns import SystemNamespace
from supervise.rpc.transport import ServerStartError, listen
from supervise.sockets import inherited_sockets, open_listening
from supervise.states import SupervisorState
from supervise.supervisor import Supervisor
from supervise.web.console import mount_console
from supervise.web.guard import new_token
from supervise.web.logtail import MainLogTail, ProcessLogTail

if TYPE_CHECKING:
    # Cluster mode (and its Redis client) is imported only when [cluster] is configured:
    # it would otherwise cost every daemon ~80 ms of start-up and a few MiB.
    from supervise.cluster.agent import ClusterAgent
    from supervise.cluster.console import ConsoleMount

log = Logger()

MAIN_RPC_FACTORIES = frozenset(
    {"supervisor.rpcinterface:make_main_rpcinterface", "supervise.rpc:make_main_rpcinterface"}
)


DEBUG_LEVELS = frozenset({"debug", "trace", "blather"})
#: A plugin serving itself as a namespace does not serve its plugin hooks.
PLUGIN_METHODS = frozenset({"configure", "listeners", "resources", "rpc_namespaces", "services"})


class StartupError(Exception):
    """The daemon cannot start; the message says why."""


def server_url(model: ConfigModel) -> str | None:
    """The AUTO ``SUPERVISOR_SERVER_URL``: the first unix server, else the first inet one."""
    for kind in ("unix", "inet"):
        for server_config in model.servers:
            if server_config.kind == kind:
                return server_config.url
    return None


@implementer(IDaemonControl)
class SupervisorService(RestartMixin, Service):
    """The daemon as a Twisted service (``twistd supervise`` and ``supervise``)."""

    def __init__(
        self,
        options: DaemonOptions,
        model: ConfigModel,
        reactor: Any,
        applied: Applied | None = None,
    ) -> None:
        self.options = options
        self.model = model
        self.reactor = reactor
        self.bus = EventBus(time.time)
        if model.supervisord.loglevel in DEBUG_LEVELS:
            self.bus.subscribe(EventJournal())
        self.reaper = Reaper()
        self.cgroups: CgroupTree | None = None
        self.spawner = ReactorSpawner(reactor, self.reaper)
        self.supervisor: Supervisor | None = None
        self.control: SupervisorControl | None = None
        self.ports: list[IListeningPort] = []
        self.console: ISubscription | None = None
        self.console_token = new_token()
        self.cluster: ClusterAgent | None = None
        self.cluster_console: ConsoleMount | None = None
        self.applied = applied or Applied()
        self.observer: MainLogObserver | None = None
        self.ticker = Ticker(reactor, time.time, self.bus)
        self.fcgi_socks: dict[str, socket.socket] = {}
        self.listen_sockets: dict[str, socket.socket] = {}
        self._pidfile_written = False
        self._state_write_pending = False
        self._state_written_at = float("-inf")
        self.plugins: list[LoadedPlugin] = []
        self._stopping = False
        self._uid_message = ""

    # -- Service ----------------------------------------------------------------------

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        try:
            self._start()
        except StartupError as problem:
            # Nothing has been spawned yet: say why, as supervisord does, and exit 2.
            log.critical("{problem}", problem=str(problem))
            stderr = sys.__stderr__ or sys.stderr
            stderr.write(
                f"Error: {problem}\nFor help, use {os.path.basename(sys.argv[0]) or 'supervise'} -h\n"
            )
            stderr.flush()
            raise SystemExit(2) from None

    def _start(self) -> None:
        model = self.model
        self._state_forgotten = False
        if model.supervisord.umask_given:
            # supervisord applies umask only when it daemonizes; under systemd (-n) a
            # configured umask would be silently ignored. Here it always holds.
            os.umask(model.supervisord.umask)
        self._open_listen_sockets(model)
        self._drop_privileges(model)
        self._open_main_log(model)
        if not become_subreaper():
            log.warn(
                "orphaned grandchildren and daemonized programs' exit statuses cannot be collected"
            )
        if self._uid_message:
            log.info("{message}", message=self._uid_message)
        for message in model.warnings:
            log.warn("{message}", message=message)
        for message in model.infos:
            log.info("{message}", message=message)
        self._raise_limits(model)
        self._log_root_warning(model)
        self.supervisor = Supervisor(
            model,
            self.reactor,
            time.time,
            self.spawner,
            self.bus,
            self._context(model),
            fcgi_sockets=self._fcgi_socket,
        )
        self.control = SupervisorControl(self.supervisor, self._read_config)
        if model.cluster is not None:
            from supervise.cluster.agent import ClusterAgent

            self.cluster = ClusterAgent(
                model.cluster, self.control, self.reactor, self.options.load, self.applied
            )
        self._load_plugins(model)
        try:
            self._start_servers(model)
        except ServerStartError as problem:
            raise StartupError(str(problem)) from None
        # Only now, sure that no other daemon serves this config, remove old AUTO logs
        # (but not those of processes about to be taken over).
        saved, handed_over = self._saved_processes(model)
        if not model.supervisord.nocleanup:
            keep = {path for entry in saved for path in (entry.stdout, entry.stderr) if path}
            cleanup_auto_logs(model.supervisord.childlogdir, model.supervisord.identifier, keep)
        self._write_pidfile(model)
        log.info("supervisord started with pid {pid}", pid=os.getpid())
        # Install now (a signal during start-up must not kill us), and again once the
        # reactor runs, since it installs its own SIGINT/SIGTERM handlers when starting.
        self._install_signal_handlers()
        self.reactor.callWhenRunning(self._install_signal_handlers)
        self.supervisor.start(saved, handed_over)
        self.bus.subscribe(
            CallbackListener("state-file", (ProcessStateEvent,), self._state_changed)
        )
        self._write_state()
        self.ticker.start()
        if self.cluster is not None:
            self.bus.subscribe(self.cluster)
            self.cluster.start()
        self._notify_ready()

    def _read_config(self) -> ConfigModel:
        """The local files, plus the cluster revision this node runs."""
        return self.options.load(self.cluster.hook() if self.cluster is not None else None)

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        super().stopService()
        return ensureDeferred(self._stop())

    async def _stop(self) -> None:
        self.ticker.stop()
        if self.cluster is not None:
            self.cluster.stop()
            self.applied = self.cluster.applied
            self.cluster = None
        if self.cluster_console is not None:
            self.cluster_console.stop()
            self.cluster_console = None
        if self.supervisor is not None:
            await self.supervisor.shutdown()
            self._forget_state()
        for plugin in self.plugins:
            for plugin_service in plugin.services:
                try:
                    stopping = plugin_service.stopService()
                    if isinstance(stopping, Deferred):
                        await stopping
                except Exception:
                    log.failure("plugin {name} failed to stop", name=plugin.name)
        await self._stop_servers()
        for sock in self.fcgi_socks.values():
            sock.close()
        self.fcgi_socks.clear()
        for sock in self.listen_sockets.values():
            sock.close()
        self.listen_sockets.clear()
        self._remove_pidfile()
        if self.cgroups is not None:
            self.cgroups.remove_all()
        if self.observer is not None:
            globalLogPublisher.removeObserver(self.observer)
            if self.observer.file is not None:
                self.observer.file.close()

    # -- pieces ------------------------------------------------------------------------

    def _load_plugins(self, model: ConfigModel) -> None:
        def context(name: str) -> PluginContext:
            return PluginContext(
                name,
                self.control,
                self.bus,
                self.reactor,
                Logger(namespace=f"supervise.plugin.{name}"),
            )

        self.plugins = load_all(model.plugins, context)
        for plugin in self.plugins:
            for listener in plugin.listeners:
                self.bus.subscribe(listener)
            for plugin_service in plugin.services:
                try:
                    plugin_service.startService()
                except Exception:
                    log.failure("plugin {name} failed to start a service", name=plugin.name)

    def _context(self, model: ConfigModel) -> SpawnContext:
        return SpawnContext(
            environ=dict(self.options.environ),
            server_url=server_url(model),
            childlogdir=model.supervisord.childlogdir,
            identifier=model.supervisord.identifier,
            strip_ansi=model.supervisord.strip_ansi,
            log_output=model.supervisord.loglevel in DEBUG_LEVELS,
            cgroups=self._cgroup_tree(model),
            sockets={name: sock.fileno() for name, sock in self.listen_sockets.items()},
            owner=os.path.abspath(self.state_path),
        )

    def _cgroup_tree(self, model: ConfigModel) -> CgroupTree | None:
        wanted = any(p.extras.cgroup for g in model.groups for p in g.processes)
        if wanted and self.cgroups is None:
            self.cgroups = CgroupTree.create(f"supervise-{os.getpid()}")
        return self.cgroups

    def _open_main_log(self, model: ConfigModel) -> None:
        opts = model.supervisord
        main_file = None
        if opts.logfile.lower() != "syslog":
            main_file = RotatingFile(opts.logfile, opts.logfile_maxbytes, opts.logfile_backups)
        echo = stdout_echo() if self.options.echo and not opts.silent else None
        if self.observer is not None:
            globalLogPublisher.removeObserver(self.observer)
            if self.observer.file is not None:
                self.observer.file.close()
        self.observer = MainLogObserver(main_file, opts.loglevel, echo, to_syslog=main_file is None)
        globalLogPublisher.addObserver(self.observer)

    def _log_root_warning(self, model: ConfigModel) -> None:
        if os.getuid() == 0 and model.supervisord.user is None:
            log.critical(
                "Supervisor is running as root.  Privileges were not dropped because no user is "
                "specified in the config file.  If you intend to run as root, you can set "
                "user=root in the config file to avoid this message."
            )

    def _drop_privileges(self, model: ConfigModel) -> None:
        """Become ``[supervisord] user`` (SUPERVISOR.md §4.6): groups, gid, then uid."""
        user = model.supervisord.user
        if user is None:
            return
        import pwd

        from supervise.config.values import name_to_uid

        record = pwd.getpwuid(name_to_uid(user))
        if record.pw_uid == os.getuid():
            return
        if os.getuid() != 0:
            raise StartupError("Can't drop privilege as nonroot user")
        os.setgroups(os.getgrouplist(record.pw_name, record.pw_gid))
        os.setgid(record.pw_gid)
        os.setuid(record.pw_uid)
        self._uid_message = f"Set uid to user {record.pw_uid} succeeded"

    def _raise_limits(self, model: ConfigModel) -> None:
        for name, limit, minimum in (
            ("RLIMIT_NOFILE", rlimits.RLIMIT_NOFILE, model.supervisord.minfds),
            ("RLIMIT_NPROC", rlimits.RLIMIT_NPROC, model.supervisord.minprocs),
        ):
            soft, hard = rlimits.getrlimit(limit)
            if soft == rlimits.RLIM_INFINITY or soft >= minimum:
                continue
            new_hard = hard if hard == rlimits.RLIM_INFINITY or hard >= minimum else minimum
            try:
                rlimits.setrlimit(limit, (minimum, new_hard))
                log.info("Increased {name} limit to {minimum}", name=name, minimum=minimum)
            except (ValueError, OSError) as problem:
                raise StartupError(
                    f"The minimum number required by {name} ({minimum}) is higher than the "
                    f"current limit ({soft}) and it could not be raised: {problem}"
                ) from None

    def _open_listen_sockets(self, model: ConfigModel) -> None:
        """Open every ``[socket:x]`` (or take it over from a re-exec); StartupError if not."""
        inherited = inherited_sockets(self.options.handoff)
        for config in model.sockets:
            if config.name in self.listen_sockets:
                continue
            if config.name in inherited:
                self.listen_sockets[config.name] = inherited.pop(config.name)
                continue
            try:
                self.listen_sockets[config.name] = open_listening(config)
            except OSError as problem:
                raise StartupError(
                    f"cannot open [socket:{config.name}] {config.listen}: {problem.strerror}"
                ) from None
        for leftover in inherited.values():
            leftover.close()

    def _fcgi_socket(self, group: GroupConfig) -> int | None:
        sock_config = group.fcgi_socket
        if sock_config is None:
            return None
        if group.name in self.fcgi_socks:
            return self.fcgi_socks[group.name].fileno()
        url = sock_config.url
        scheme, _, address = url.partition("://")
        listen = f"{scheme}:{address}"  # unix:///p -> unix:/p, tcp://h:p -> tcp:h:p
        config = SocketConfig(
            group.name, listen, sock_config.backlog or socket.SOMAXCONN, sock_config.mode
        )
        try:
            sock = open_listening(config)
            if sock_config.owner is not None and listen.startswith("unix:"):
                os.chown(listen[len("unix:") :], *sock_config.owner)
        except OSError as problem:
            log.error("Could not create FastCGI socket {url}: {problem}", url=url, problem=problem)
            return None
        sock.set_inheritable(True)
        self.fcgi_socks[group.name] = sock
        return sock.fileno()

    def _root(self) -> resource.Resource:
        assert self.control is not None and self.supervisor is not None
        namespace = SupervisorNamespace(self.control, self, time.time)
        methods = methods_of("supervisor", namespace)
        methods.update(
            methods_of("supervise", SuperviseNamespace(self.control, self.reactor, time.time, self))
        )
        for extra in self.model.rpcinterfaces:
            if extra.factory in MAIN_RPC_FACTORIES:
                log.info("RPC interface {name!r} initialized", name=extra.name)
            else:
                methods.update(_load_rpc_namespace(extra.name, extra.factory, self, extra.kwargs))
        for plugin in self.plugins:
            for namespace_name, namespace_object in plugin.namespaces.items():
                found = methods_of(namespace_name, namespace_object) or public_methods(
                    namespace_name, namespace_object
                )
                methods.update(found)
        system = SystemNamespace()
        methods.update(methods_of("system", system))
        system.methods = methods
        rpc = XMLRPCResource(methods, namespace.check_state)
        system.dispatch = rpc.dispatch
        root = resource.Resource()
        root.putChild(b"RPC2", rpc)
        root.putChild(b"logtail", ProcessLogTail(self.control))
        plugin_root = resource.Resource()
        for plugin in self.plugins:
            mount = resource.Resource()
            for path, child in plugin.resources.items():
                mount.putChild(path, child)
            plugin_root.putChild(plugin.name.encode(), mount)
        root.putChild(b"plugins", plugin_root)
        root.putChild(
            b"mainlogtail",
            MainLogTail(
                self.main_log_path, lambda: self.observer.followers if self.observer else None
            ),
        )
        if self.console is not None:
            self.console.cancel()
        self.console = mount_console(
            root,
            self.control,
            self.bus,
            self.daemon_info,
            self.main_log_path,
            self.reactor,
            time.time,
            self.console_token,
        )
        if self.cluster_console is not None:
            from supervise.cluster.console import cluster_gate

            root.putChild(b"cluster", cluster_gate(self.cluster_console, self.model.servers))
        return root

    def daemon_info(self) -> dict[str, Any]:
        """Who this daemon is, for the console's header."""
        assert self.supervisor is not None
        return {
            "identification": self.identifier(),
            "version": __version__,
            "state": self.supervisor.state.name,
            "pid": os.getpid(),
            "cluster": self.cluster.status() if self.cluster is not None else None,
        }

    def _start_servers(self, model: ConfigModel) -> None:
        if model.cluster is not None and model.cluster.console and self.cluster_console is None:
            from supervise.cluster.console import ConsoleMount

            self.cluster_console = ConsoleMount(model.cluster, self.reactor)
        root = self._root()
        mount = self.cluster_console
        guests: dict[str, Any] = {}
        if mount is not None:
            from supervise.cluster.console import cluster_users

            guests = cluster_users(mount.config)
        for server_config in model.servers:
            self.ports.append(
                listen(
                    self.reactor, server_config, root, guests, mount.guest_tree if mount else None
                )
            )
        if self.cluster_console is not None:
            self.cluster_console.start()

    async def _stop_servers(self) -> None:
        ports, self.ports = self.ports, []
        for port in ports:
            stopping = port.stopListening()
            if stopping is not None:
                await stopping

    def _write_pidfile(self, model: ConfigModel) -> None:
        try:
            with open(model.supervisord.pidfile, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            self._pidfile_written = True
        except OSError as problem:
            log.critical(
                "could not write pidfile {path}: {problem}",
                path=model.supervisord.pidfile,
                problem=problem,
            )

    def _remove_pidfile(self) -> None:
        if self._pidfile_written:
            try:
                os.unlink(self.model.supervisord.pidfile)
            except OSError:
                pass
            self._pidfile_written = False

    def _notify_ready(self) -> None:
        target = self.options.environ.get("NOTIFY_SOCKET")
        if not target:
            return
        address = "\0" + target[1:] if target.startswith("@") else target
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(f"READY=1\nMAINPID={os.getpid()}".encode(), address)
        except OSError as problem:
            log.warn(
                "could not notify readiness to {target}: {problem}", target=target, problem=problem
            )

    # -- signals -------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        handlers: dict[int, Callable[[], None]] = {
            signal.SIGTERM: self.request_shutdown,
            signal.SIGINT: self.request_shutdown,
            signal.SIGQUIT: self.request_shutdown,
            signal.SIGHUP: self.request_restart,
            signal.SIGUSR2: self.reopen_logs,
            signal.SIGUSR1: self.request_reexec,
        }
        for number, action in handlers.items():
            signal.signal(number, self._make_handler(number, action))
        # SIGCHLD: reap orphans (we are their subreaper) and adopted daemons. Twisted's
        # own wake-up (set_wakeup_fd) still reaps the processes Twisted spawned.
        signal.signal(signal.SIGCHLD, lambda signum, frame: self.reactor.callFromThread(self._reap))
        signal.siginterrupt(signal.SIGCHLD, False)
        self.reaper.active = True
        # A child may have exited while another handler was installed (the reactor
        # installs its own at start-up): look now.
        self._reap()

    def _reap(self) -> None:
        """Reap a bounded batch of exits; the rest on the next reactor turn."""
        if self.reaper.reap():
            self.reactor.callLater(0, self._reap)

    def _make_handler(self, number: int, action: Callable[[], None]) -> Callable[[int, Any], None]:
        name = signal.Signals(number).name

        def handler(signum: int, frame: Any) -> None:
            self.reactor.callFromThread(self._on_signal, name, action)

        return handler

    def _on_signal(self, name: str, action: Callable[[], None]) -> None:
        if action == self.reopen_logs:
            log.info("received {name} indicating log reopen request", name=name)
        elif action == self.request_reexec:
            log.warn("received {name} indicating re-exec request", name=name)
        elif action == self.request_restart:
            if self._stopping:
                log.warn(
                    "ignored {name} indicating restart request (shutdown in progress)", name=name
                )
                return
            log.warn("received {name} indicating restart request", name=name)
        else:
            log.warn("received {name} indicating exit request", name=name)
        action()

    # -- Daemon (what the RPC namespace needs) ----------------------------------------------

    def pid(self) -> int:
        """The daemon's pid."""
        return os.getpid()

    def identifier(self) -> str:
        """The configured identifier."""
        return self.model.supervisord.identifier

    def main_log_path(self) -> str | None:
        """The main log file (None for syslog)."""
        path = self.model.supervisord.logfile
        return None if path.lower() == "syslog" else path

    def clear_main_log(self) -> None:
        """Delete and reopen the main log file."""
        if self.observer is not None and self.observer.file is not None:
            self.observer.file.clear()

    def request_shutdown(self) -> None:
        """Stop everything and exit, after the current reply is sent."""
        if self._stopping:
            return
        self._stopping = True
        self.reactor.callLater(0, self.reactor.stop)

    def request_restart(self) -> None:
        """Reload after the current reply is sent."""
        self.reactor.callLater(0, lambda: ensureDeferred(self.reload()))

    def reopen_logs(self) -> None:
        """Reopen the main log and every child log (SIGUSR2)."""
        if self.observer is not None:
            self.observer.reopen()
        log.info("supervisord logreopen")
        if self.supervisor is not None:
            for group in self.supervisor.groups.values():
                for program in group.processes.values():
                    program.stdout.reopen()
                    program.stderr.reopen()

    async def reload(self) -> None:
        """Re-read the config and rebuild everything; keep running on a bad config."""
        assert self.supervisor is not None and self.control is not None
        if self.supervisor.state is not SupervisorState.RUNNING:
            return
        try:
            model = self._read_config()
        except ValueError as problem:
            log.error(
                "restart refused, keeping the running configuration: {problem}",
                problem=str(problem),
            )
            return
        await self._stop_servers()
        self.model = model
        self.control.pending = None
        await self.supervisor.replace(model, self._context(model))
        self._open_main_log(model)
        self._log_root_warning(model)
        log.info("supervisord started with pid {pid}", pid=os.getpid())
        try:
            self._start_servers(model)
        except ServerStartError as problem:
            log.critical("{problem}", problem=str(problem))
        self._write_pidfile(model)


def _load_rpc_namespace(
    name: str, factory_spec: str, daemon: SupervisorService, kwargs: Mapping[str, str]
) -> dict[str, Callable[..., Any]]:
    try:
        namespace = import_spec(factory_spec)(daemon, **kwargs)
    except Exception:
        log.failure(
            "could not load [rpcinterface:{name}] ({factory})", name=name, factory=factory_spec
        )
        return {}
    log.info("RPC interface {name!r} initialized", name=name)
    return public_methods(name, namespace)


def make_service(options: DaemonOptions, reactor: Any = None) -> SupervisorService:
    """Build the daemon's service; ConfigError if the configuration is invalid."""
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    model = options.load()
    applied = Applied()
    if model.cluster is not None:
        model, applied = with_cached_revision(options, model)
    use_monotonic_clock(reactor)
    return SupervisorService(options, model, reactor, applied)


def with_cached_revision(options: DaemonOptions, model: ConfigModel) -> tuple[ConfigModel, Applied]:
    """Add the cluster revision this node ran last (from its cache), if it still applies."""
    from supervise.cluster.definitions import extra_sections

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


__all__ = ["DaemonOptions", "SupervisorService", "make_service"]
