"""The frozen configuration model: what ``build`` produces and the core consumes.

Values compare by value, so ``diff`` can tell added, changed and removed groups.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from attrs import field, frozen

from supervise.config.envfiles import EnvironmentFiles
from supervise.config.values import AutoRestart, LogTarget


class GroupKind(enum.Enum):
    """Which section kind a group came from."""

    PROGRAM = "program"
    GROUP = "group"
    EVENTLISTENER = "eventlistener"
    FCGI_PROGRAM = "fcgi-program"


@frozen
class ChannelConfig:
    """How one output channel (stdout or stderr) of a process is captured."""

    logfile: str | LogTarget = LogTarget.AUTO
    maxbytes: int = 50 * 1024 * 1024
    backups: int = 10
    capture_maxbytes: int = 0
    events_enabled: bool = False
    syslog: bool = False
    rotate_every: int = 0  # seconds; 0: no rotation by time
    compress: bool = False  # gzip backups (.1.gz …)


@frozen
class ProcessExtras:
    """What supervise adds to a program (none of it exists in supervisord).

    :ivar ready: ``tcp:HOST:PORT``, ``http(s)://…``, ``command:CMD`` or ``notify``: what
        makes STARTING become RUNNING instead of the ``startsecs`` timer.
    :ivar backoff_initial: with ``backoff_max``, exponential delays between retries
        (seconds); None keeps supervisord's 1, 2, 3 … s.
    """

    ready: str | None = None
    ready_timeout: float = 60.0
    ready_interval: float = 0.5
    depends_on: tuple[str, ...] = ()
    backoff_initial: float | None = None
    backoff_max: float | None = None
    pidfile: str | None = None
    healthcheck: str | None = None
    healthcheck_interval: float = 10.0
    healthcheck_timeout: float = 5.0
    healthcheck_retries: int = 3
    cgroup: bool = False
    sockets: tuple[str, ...] = ()
    memory_max: str | None = None
    cpu_max: str | None = None
    pids_max: str | None = None
    watchdog_sec: float | None = None
    watch: str | None = None
    absent_grace: float = 5.0
    match: str | None = None
    match_user: str | None = None
    #: ``tree`` (default): a stop leaves no descendant; ``process``: supervisord's own
    #: behaviour, only the main process (and its group with stopasgroup/killasgroup).
    killmode: str = "tree"
    #: ``environment_file``: dotenv files read at each start (None: no files).
    environment_files: EnvironmentFiles | None = None
    #: ``rlimit_*``: ``(name, soft, hard)``, hard None keeps the inherited one.
    rlimits: tuple[tuple[str, int, int | None], ...] = ()
    #: A five-field cron expression: the program is started at each of its ticks.
    schedule: str | None = None
    #: The IANA time zone ``schedule`` is read in (None: the daemon's local time).
    schedule_timezone: str | None = None
    #: When the program ends for good (FATAL, or an exit its autorestart will not
    #: restart), the daemon stops everything and exits with its status.
    critical: bool = False


@frozen
class ProcessConfig:
    """One process: a program section expanded for one ``process_num``."""

    name: str
    group: str
    program: str
    command: str
    priority: int = 999
    autostart: bool = True
    autorestart: AutoRestart = AutoRestart.UNEXPECTED
    startsecs: int = 1
    startretries: int = 3
    exitcodes: tuple[int, ...] = (0,)
    stopsignal: int = 15
    stopwaitsecs: int = 10
    stopasgroup: bool = False
    killasgroup: bool = False
    user: str | None = None
    uid: int | None = None
    directory: str | None = None
    umask: int | None = None
    redirect_stderr: bool = False
    environment: Mapping[str, str] = field(factory=dict)
    serverurl: str | None = None
    stdout: ChannelConfig = ChannelConfig()
    stderr: ChannelConfig = ChannelConfig()
    kind: GroupKind = GroupKind.PROGRAM
    source: str = field(default="", eq=False)  # where it was written; moving it is no change
    extras: ProcessExtras = field(factory=lambda: ProcessExtras())
    #: The ``process_num`` it was expanded for (scaling removes the highest first).
    process_num: int = field(default=0, eq=False)

    @property
    def namespec(self) -> str:
        """``group:name``, or the bare name when it equals the group name."""
        return self.name if self.name == self.group else f"{self.group}:{self.name}"


@frozen
class FcgiSocketConfig:
    """The listening socket an ``[fcgi-program:x]`` shares with its processes."""

    url: str
    backlog: int | None = None
    owner: tuple[int, int] | None = None
    mode: int | None = None


@frozen
class GroupConfig:
    """A process group: a program's own group, a ``[group:x]``, or a listener pool."""

    name: str
    priority: int
    processes: tuple[ProcessConfig, ...]
    kind: GroupKind = GroupKind.PROGRAM
    events: tuple[str, ...] = ()
    buffer_size: int = 10
    result_handler: str = "supervisor.dispatchers:default_handler"
    fcgi_socket: FcgiSocketConfig | None = None
    #: A ``[program:x]``'s processes expanded for another ``numprocs`` (live scaling);
    #: None where a group cannot be scaled.
    expand: Callable[[int], tuple[ProcessConfig, ...]] | None = field(
        default=None, eq=False, repr=False
    )


@frozen
class ServerConfig:
    """One ``[unix_http_server]`` or ``[inet_http_server]``."""

    kind: str  # "unix" or "inet"
    section: str
    file: str | None = None
    chmod: int = 0o700
    chown: tuple[int, int] | None = None
    host: str = ""
    port: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    certfile: str | None = None  # TLS (supervise's own): PEM certificate chain …
    keyfile: str | None = None  # … and its private key

    @property
    def url(self) -> str:
        """The URL children get as ``SUPERVISOR_SERVER_URL``."""
        if self.kind == "unix":
            return f"unix://{self.file}"
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://{self.host or 'localhost'}:{self.port}"


@frozen
class SocketConfig:
    """A ``[socket:name]``: a listening socket supervise owns and hands to programs.

    Programs naming it in ``sockets =`` get it as fd 3 (and up) with systemd's
    ``LISTEN_FDS``/``LISTEN_PID``/``LISTEN_FDNAMES``, so a restart drops no connection.
    """

    name: str
    listen: str  # tcp:HOST:PORT or unix:/path
    backlog: int = 128
    mode: int | None = None


@frozen
class RpcInterfaceConfig:
    """An ``[rpcinterface:x]`` section: a namespace made by a factory."""

    name: str
    factory: str
    kwargs: Mapping[str, str] = field(factory=dict)


@frozen
class PluginConfig:
    """A ``[plugin:name]`` section: which plugin to enable and its options.

    ``factory`` (``module:callable``) loads a plugin that is not installed as an entry
    point; otherwise the ``supervise.plugins`` entry point called ``name`` is used.
    """

    name: str
    options: Mapping[str, str] = field(factory=dict)
    factory: str | None = None


@frozen
class CtlConfig:
    """The ``[supervisorctl]`` section (used by ``supervisectl``)."""

    serverurl: str = "http://localhost:9001"
    username: str | None = None
    password: str | None = None
    prompt: str = "supervisor"
    history_file: str | None = None


@frozen
class SupervisordOptions:
    """The ``[supervisord]`` section (SUPERVISOR.md §2.5)."""

    logfile: str = "supervisord.log"
    logfile_maxbytes: int = 50 * 1024 * 1024
    logfile_backups: int = 10
    logfile_rotate_every: int = 0
    logfile_compress: bool = False
    loglevel: str = "info"
    pidfile: str = "supervisord.pid"
    umask: int = 0o022
    umask_given: bool = (
        False  # set in the file or on the command line (applied in the foreground too)
    )
    nodaemon: bool = False
    silent: bool = False
    minfds: int = 1024
    minprocs: int = 200
    nocleanup: bool = False
    childlogdir: str = "/tmp"
    user: str | None = None
    directory: str | None = None
    strip_ansi: bool = False
    environment: Mapping[str, str] = field(factory=dict)
    identifier: str = "supervisor"
    #: Exit once every program has ended for good (batch jobs).
    exit_when_done: bool = False
    #: Copy every program's output to the daemon's own stdout/stderr, line by line.
    forward_output: bool = False
    #: ``plain`` (``name | line``), ``timestamped`` or ``json``.
    forward_output_format: str = "plain"
    #: supervise's own: seconds between samples of each program's CPU and memory (0: off).
    usage_interval: float = 5.0


@frozen
class ConfigModel:
    """A whole configuration, ready to run."""

    path: str
    here: str
    supervisord: SupervisordOptions
    groups: tuple[GroupConfig, ...]
    servers: tuple[ServerConfig, ...] = ()
    rpcinterfaces: tuple[RpcInterfaceConfig, ...] = ()
    ctl: CtlConfig | None = None
    plugins: tuple[PluginConfig, ...] = ()
    sockets: tuple[SocketConfig, ...] = ()
    cluster: ClusterConfig | None = None
    warnings: tuple[str, ...] = ()
    infos: tuple[str, ...] = ()

    def group(self, name: str) -> GroupConfig | None:
        """Return the group named ``name``, or None."""
        for group in self.groups:
            if group.name == name:
                return group
        return None


@frozen
class RedisAddress:
    """Where Redis is: one server, or the Sentinels that know the current primary."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    tls: bool = False
    tls_ca: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinels: tuple[tuple[str, int], ...] = ()
    sentinel_service: str = "mymaster"

    def describe(self) -> str:
        """Where, without credentials (safe for logs and pages)."""
        if self.sentinels:
            hosts = ",".join(f"{h}:{p}" for h, p in self.sentinels)
            return f"sentinel://{hosts}/{self.sentinel_service}"
        return f"{'rediss' if self.tls else 'redis'}://{self.host}:{self.port}/{self.db}"


@frozen
class ConsoleUser:
    """Someone who may log in to the cluster console."""

    name: str
    password: str = field(repr=False)
    role: str  # "viewer", "operator" or "admin"


@frozen
class ClusterConfig:
    """``[cluster]``: this daemon is a node of a cluster (docs/cluster.md)."""

    redis: RedisAddress
    node: str
    labels: tuple[str, ...] = ()
    prefix: str = "sv"
    console: bool = False
    users: tuple[ConsoleUser, ...] = ()
    allow_users: tuple[str, ...] = ()
    allow_directories: tuple[str, ...] = ()
    allow_commands: tuple[str, ...] = ()
    signing_key: bytes | None = field(default=None, repr=False)
    heartbeat: float = 2.0
    unreachable_after: float = 10.0
    command_timeout: float = 10.0
    events_maxlen: int = 10000
    cache: str = ""
