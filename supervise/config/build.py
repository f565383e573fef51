"""Turn raw INI sections into the frozen model, one function per section kind.

Defaults, option names, expansions and error texts are supervisord 4.3.0's
(SUPERVISOR.md §2); every error is a ConfigError naming file, line, section, option.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from attrs import evolve

from supervise.config import rlimits, values
from supervise.config.cluster import build_cluster
from supervise.config.envfiles import EnvironmentFiles, parse_paths
from supervise.config.errors import ConfigError
from supervise.config.expand import host_node_name
from supervise.config.extras import (
    build_extras,
    build_plugins,
    build_sockets,
    check_dependencies,
    check_socket_references,
)
from supervise.config.ini import Location, RawConfig
from supervise.config.model import (
    ChannelConfig,
    ConfigModel,
    FcgiSocketConfig,
    GroupConfig,
    GroupKind,
    ProcessConfig,
    SupervisordOptions,
)
from supervise.config.section import SectionReader, checked_user
from supervise.config.servers import build_ctl, build_rpcinterfaces, build_servers
from supervise.config.shared import shared
from supervise.events.types import subscribable_event_names

T = TypeVar("T")

SUPERVISORD_OPTIONS = frozenset(
    {
        "logfile", "logfile_maxbytes", "logfile_backups", "loglevel", "pidfile", "umask",
        "nodaemon", "silent", "minfds", "minprocs", "nocleanup", "childlogdir", "user",
        "directory", "strip_ansi", "environment", "identifier", "logfile_rotate_every",
        "logfile_compress",
        "exit_when_done", "forward_output", "forward_output_format",
    }
    | {"usage_interval"}
)  # fmt: skip
_CHANNEL_KEYS = (
    "logfile", "logfile_maxbytes", "logfile_backups", "capture_maxbytes", "events_enabled",
    "syslog", "logfile_rotate_every", "logfile_compress",
)  # fmt: skip
PROGRAM_OPTIONS = frozenset(
    {
        "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
        "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs",
        "stopasgroup", "killasgroup", "user", "redirect_stderr", "environment", "directory",
        "umask", "serverurl",
    }
    | {f"{channel}_{key}" for channel in ("stdout", "stderr") for key in _CHANNEL_KEYS}
    | {
        "ready", "ready_timeout", "ready_interval", "depends_on", "backoff_initial", "backoff_max",
        "pidfile", "healthcheck", "healthcheck_interval", "healthcheck_timeout", "healthcheck_retries",
        "cgroup", "killmode", "sockets", "memory_max", "cpu_max", "pids_max", "watchdog_sec",
        "watch", "absent_grace", "match", "match_user", "environment_file", "schedule",
        "schedule_timezone", "critical",
    }
    | rlimits.OPTIONS
)  # fmt: skip
LISTENER_OPTIONS = PROGRAM_OPTIONS | {"events", "buffer_size", "result_handler"}
FCGI_OPTIONS = PROGRAM_OPTIONS | {"socket", "socket_backlog", "socket_owner", "socket_mode"}
GROUP_OPTIONS = frozenset({"programs", "priority"})
DEFAULT_RESULT_HANDLER = "supervisor.dispatchers:default_handler"
MAIN_RPC_FACTORY = "supervisor.rpcinterface:make_main_rpcinterface"


def build(
    raw: RawConfig,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> ConfigModel:
    """Build the model from raw sections.

    :param environ: the daemon's environment (``ENV_*`` names); default ``os.environ``.
    :param overrides: ``[supervisord]`` options given on the command line, as text.
    """
    env = dict(os.environ if environ is None else environ)
    if "supervisord" not in raw.sections:
        raise ConfigError(".ini file does not include supervisord section", path=raw.path)
    env_names: dict[str, object] = {f"ENV_{k}": v for k, v in env.items()}
    supervisord = build_supervisord(raw, env_names, overrides or {})
    env_names.update({f"ENV_{k}": v for k, v in supervisord.environment.items()})
    groups = _one_group_per_name(raw, build_groups(raw, env_names, supervisord))
    servers = gather(raw, lambda: build_servers(raw, env_names)) or []
    rpcinterfaces = gather(raw, lambda: build_rpcinterfaces(raw)) or []
    ctl = None
    if "supervisorctl" in raw.sections:
        ctl = gather(raw, lambda: build_ctl(raw, env_names))
    plugins = gather(raw, lambda: build_plugins(raw, env_names)) or []
    sockets = gather(raw, lambda: build_sockets(raw, env_names)) or []
    cluster = gather(raw, lambda: build_cluster(raw, env_names, supervisord.pidfile))
    if not raw.errors:  # what refers to other sections is checked once they all built
        gather(raw, lambda: check_socket_references(raw, groups, sockets))
        gather(raw, lambda: check_dependencies(raw, groups))
    if raw.errors:
        first = raw.errors[0]
        first.more, first.warnings = raw.errors[1:], list(raw.warnings)
        raise first
    return ConfigModel(
        path=raw.path,
        here=raw.here,
        supervisord=supervisord,
        groups=tuple(groups),
        servers=tuple(servers),
        rpcinterfaces=tuple(rpcinterfaces),
        ctl=ctl,
        plugins=tuple(plugins),
        sockets=tuple(sockets),
        cluster=cluster,
        warnings=tuple(raw.warnings),
        infos=tuple(raw.infos),
    )


def build_supervisord(
    raw: RawConfig, env_names: Mapping[str, object], overrides: Mapping[str, str]
) -> SupervisordOptions:
    """Build ``[supervisord]``; command-line ``overrides`` win over the file."""
    names = {"here": raw.here, "host_node_name": host_node_name(), **env_names}
    section = SectionReader(raw, "supervisord", names)
    section.options = {**section.options, **overrides}
    section.warn_unknown(SUPERVISORD_OPTIONS)
    directory = section.optional("directory", values.existing_directory)
    return SupervisordOptions(
        logfile=_absolute_log(section.parse("logfile", "supervisord.log", values.existing_dirpath)),
        logfile_maxbytes=section.parse("logfile_maxbytes", "50MB", values.byte_size),
        logfile_backups=section.parse("logfile_backups", "10", values.integer),
        logfile_rotate_every=section.parse("logfile_rotate_every", "0", values.duration),
        logfile_compress=section.parse("logfile_compress", "false", values.boolean),
        loglevel=section.parse("loglevel", "info", values.logging_level),
        pidfile=os.path.abspath(
            section.parse("pidfile", "supervisord.pid", values.existing_dirpath)
        ),
        umask=section.parse("umask", "022", values.octal),
        umask_given=section.has("umask"),
        nodaemon=section.parse("nodaemon", "false", values.boolean),
        silent=section.parse("silent", "false", values.boolean),
        minfds=section.parse("minfds", "1024", values.integer),
        minprocs=section.parse("minprocs", "200", values.integer),
        nocleanup=section.parse("nocleanup", "false", values.boolean),
        childlogdir=section.parse(
            "childlogdir",
            "" if section.has("childlogdir") else temporary_directory(),
            values.existing_directory,
        ),
        user=section.optional("user", checked_user),
        directory=directory,
        strip_ansi=section.parse("strip_ansi", "false", values.boolean),
        environment=section.parse("environment", "", values.environment),
        identifier=section.parse("identifier", "supervisor", str),
        exit_when_done=section.parse("exit_when_done", "false", values.boolean),
        forward_output=section.parse("forward_output", "false", values.boolean),
        forward_output_format=section.parse(
            "forward_output_format", "plain", values.forward_output_format
        ),
        usage_interval=section.parse("usage_interval", "5", values.seconds_or_zero),
    )


def _absolute_log(path: str) -> str:
    return path if path.lower() == "syslog" else os.path.abspath(path)


def build_groups(
    raw: RawConfig, env_names: Mapping[str, object], supervisord: SupervisordOptions
) -> list[GroupConfig]:
    """Build every group: ``[group:x]`` first, then programs, listeners, fcgi programs."""
    sections = list(raw.sections)
    grouped: set[str] = set()
    groups: list[GroupConfig] = []
    # One copy for every group (a program's ``expand`` keeps it for ``scale``).
    context = (dict(env_names), supervisord)
    for name in [n for n in sections if n.startswith("group:")]:
        groups += _made(raw, partial(_heterogeneous_group, raw, name, *context, grouped))
    for name in [n for n in sections if n.startswith("program:") and n not in grouped]:
        groups += _made(raw, partial(_homogeneous_group, raw, name, *context, GroupKind.PROGRAM))
    for name in [n for n in sections if n.startswith("eventlistener:")]:
        groups += _made(raw, partial(build_listener_pool, raw, name, *context))
    for name in [n for n in sections if n.startswith("fcgi-program:") and n not in grouped]:
        kind = GroupKind.FCGI_PROGRAM
        groups += _made(raw, partial(_homogeneous_group, raw, name, *context, kind))
    return groups


def _made(raw: RawConfig, make: Callable[[], GroupConfig]) -> list[GroupConfig]:
    made = gather(raw, make)
    return [] if made is None else [made]


def _heterogeneous_group(
    raw: RawConfig,
    name: str,
    env_names: Mapping[str, object],
    supervisord: SupervisordOptions,
    grouped: set[str],
) -> GroupConfig:
    """A ``[group:x]`` of programs and fcgi-programs; their sections join ``grouped``."""
    section = SectionReader(raw, name, {"here": raw.here, **env_names})
    section.warn_unknown(GROUP_OPTIONS)
    group_name = section.convert("programs", name.split(":", 1)[1], values.process_or_group_name)
    members = section.parse("programs", "", values.list_of_strings)
    priority = section.parse("priority", "999", values.integer)
    processes: list[ProcessConfig] = []
    for member in members:
        program_section, fcgi_section = f"program:{member}", f"fcgi-program:{member}"
        if program_section not in raw.sections and fcgi_section not in raw.sections:
            raise section.error(
                f"[{name}] names unknown program or fcgi-program {member}", "programs"
            )
        if program_section in raw.sections and fcgi_section in raw.sections:
            raise section.error(
                f"[{name}] name {member} is ambiguous (exists as program and fcgi-program)",
                "programs",
            )
        chosen = program_section if program_section in raw.sections else fcgi_section
        grouped.add(chosen)
        processes.extend(build_processes(raw, chosen, group_name, env_names, supervisord))
    return GroupConfig(group_name, priority, tuple(processes), GroupKind.GROUP)


def _homogeneous_group(
    raw: RawConfig,
    name: str,
    env_names: Mapping[str, object],
    supervisord: SupervisordOptions,
    kind: GroupKind,
) -> GroupConfig:
    section = SectionReader(raw, name, {"here": raw.here, **env_names})
    group_name = section.convert(
        "process_name", name.split(":", 1)[1], values.process_or_group_name
    )
    priority = section.parse("priority", "999", values.integer)
    processes = build_processes(raw, name, group_name, env_names, supervisord)
    fcgi = build_fcgi_socket(section, group_name) if kind is GroupKind.FCGI_PROGRAM else None
    expand = None
    if kind is GroupKind.PROGRAM:
        # Kept for ``scale``: this section's text and place, not the whole file's.
        text = (raw.path, raw.here, raw.sections[name], raw.section_locations.get(name))
        expand = functools.partial(_expand_again, text, name, group_name, env_names, supervisord)
    return GroupConfig(
        group_name, priority, tuple(processes), kind, fcgi_socket=fcgi, expand=expand
    )


def _expand_again(
    text: tuple[str, str, dict[str, str], Location | None],
    name: str,
    group_name: str,
    env_names: Mapping[str, object],
    supervisord: SupervisordOptions,
    numprocs: int,
) -> tuple[ProcessConfig, ...]:
    """A program's processes for another ``numprocs`` (ValueError naming the problem),
    from its section's ``text``: the file's path and folder, the options, the place."""
    if numprocs == 0:
        return ()
    path, here, options, location = text
    raw = RawConfig(path, here, {name: options}, {name: location} if location else {})
    try:
        return tuple(build_processes(raw, name, group_name, env_names, supervisord, numprocs))
    except ConfigError as error:
        raise ValueError(error.message) from None


def build_listener_pool(
    raw: RawConfig, name: str, env_names: Mapping[str, object], supervisord: SupervisordOptions
) -> GroupConfig:
    """Build an ``[eventlistener:x]`` pool (SUPERVISOR.md §2.12)."""
    section = SectionReader(raw, name, {"here": raw.here, **env_names})
    pool_name = section.convert("events", name.split(":", 1)[1], values.process_or_group_name)
    priority = section.parse("priority", "-1", values.integer)
    buffer_size = section.parse("buffer_size", "10", values.integer)
    if buffer_size < 1:
        raise section.error(
            f"[{name}] section sets invalid buffer_size ({buffer_size})", "buffer_size"
        )
    handler = section.parse("result_handler", DEFAULT_RESULT_HANDLER, str)
    if handler != DEFAULT_RESULT_HANDLER and not _resolvable(handler):
        raise section.error(f"{handler} cannot be resolved within [{name}]", "result_handler")
    events = sorted({item.upper() for item in section.parse("events", "", values.list_of_strings)})
    events = [event for event in events if event]
    if not events:
        raise section.error(f'[{name}] section requires an "events" line', "events")
    known = subscribable_event_names()
    for event in events:
        if event not in known:
            raise section.error(f"Unknown event type {event} in [{name}] events", "events")
    if section.parse("redirect_stderr", "false", values.boolean):
        raise section.error(
            f"[{name}] section sets redirect_stderr=true but this is not allowed because it "
            "will interfere with the eventlistener protocol",
            "redirect_stderr",
        )
    processes = build_processes(raw, name, pool_name, env_names, supervisord)
    return GroupConfig(
        pool_name,
        priority,
        tuple(processes),
        GroupKind.EVENTLISTENER,
        events=tuple(events),
        buffer_size=buffer_size,
        result_handler=handler,
    )


def _resolvable(spec: str) -> bool:
    try:
        values.import_spec(spec)
    except (ImportError, AttributeError):
        return False
    return True


def build_fcgi_socket(section: SectionReader, program_name: str) -> FcgiSocketConfig:
    """Build the shared socket of an ``[fcgi-program:x]``."""
    socket_url = section.text(
        "socket", None, expand_names={**section.names, "program_name": program_name}
    )
    if not socket_url:
        raise section.error(f'[{section.name}] section requires a "socket" line', "socket")
    backlog = section.optional("socket_backlog", values.integer)
    if backlog is not None and not 1 <= backlog <= 65535:
        raise section.error(f"Invalid socket_backlog value {backlog}", "socket_backlog")
    owner_text = section.text("socket_owner", None)
    owner = None
    if owner_text is not None:
        owner = section.convert(
            "socket_owner", owner_text, lambda t: values.user_and_group(t, "socket_owner value")
        )
    mode_text = section.text("socket_mode", None)
    mode = None
    if mode_text is not None:
        try:
            mode = values.octal(mode_text)
        except ValueError:
            raise section.error(f"Invalid socket_mode value {mode_text}", "socket_mode") from None
    if socket_url.startswith("unix://"):
        path = socket_url[len("unix://") :]
        if not os.path.isabs(path):
            raise section.error(f"Unix socket path {path} is not an absolute path", "socket")
    elif socket_url.startswith("tcp://"):
        if owner is not None or mode is not None:
            raise section.error(
                "socket_owner and socket_mode params should only be used with a Unix domain socket",
                "socket",
            )
        section.convert("socket", socket_url[len("tcp://") :], values.inet_address)
    else:
        raise section.error(f"Bad socket format {socket_url}", "socket")
    return FcgiSocketConfig(socket_url, backlog, owner, mode)


def build_processes(
    raw: RawConfig,
    name: str,
    group_name: str,
    env_names: Mapping[str, object],
    supervisord: SupervisordOptions,
    numprocs_override: int | None = None,
) -> list[ProcessConfig]:
    """Expand a program-like section into its ``numprocs`` process configs (or
    ``numprocs_override`` of them: a live scale)."""
    kind = GroupKind(name.split(":", 1)[0])
    known = {
        GroupKind.PROGRAM: PROGRAM_OPTIONS,
        GroupKind.EVENTLISTENER: LISTENER_OPTIONS,
        GroupKind.FCGI_PROGRAM: FCGI_OPTIONS,
    }[kind]
    program_name = name.split(":", 1)[1]
    common: dict[str, object] = {
        "here": raw.here,
        "program_name": program_name,
        "host_node_name": host_node_name(),
        "group_name": group_name,
        **env_names,
    }
    section = SectionReader(raw, name, common)
    section.warn_unknown(known)
    section.convert("process_name", program_name, values.process_or_group_name)
    # 999 for a listener's processes too: only its pool defaults to -1 (supervisord).
    priority = section.parse("priority", "999", values.integer)
    autostart = section.parse("autostart", "true", values.boolean)
    autorestart = section.parse("autorestart", "unexpected", values.auto_restart)
    startsecs = section.parse("startsecs", "1", values.integer)
    startretries = section.parse("startretries", "3", values.integer)
    stopsignal = section.parse("stopsignal", "TERM", values.signal_number)
    stopwaitsecs = section.parse("stopwaitsecs", "10", values.integer)
    stopasgroup = section.parse("stopasgroup", "false", values.boolean)
    killasgroup = section.parse("killasgroup", "true" if stopasgroup else "false", values.boolean)
    exitcodes = section.parse("exitcodes", "0", values.exit_codes)
    redirect_stderr = section.parse("redirect_stderr", "false", values.boolean)
    numprocs = section.parse("numprocs", "1", values.integer)
    if numprocs_override is not None:
        numprocs = numprocs_override
    numprocs_start = section.parse("numprocs_start", "0", values.integer)
    capture = {
        c: section.parse(f"{c}_capture_maxbytes", "0", values.byte_size)
        for c in ("stdout", "stderr")
    }
    events_on = {
        c: section.parse(f"{c}_events_enabled", "false", values.boolean)
        for c in ("stdout", "stderr")
    }
    serverurl = section.text("serverurl", None)
    if serverurl is not None and serverurl.strip().upper() == "AUTO":
        serverurl = None
    user = section.optional("user", checked_user)
    uid = values.name_to_uid(user) if user is not None else None
    umask = section.optional("umask", values.octal)
    process_name_template = section.text("process_name", "%(program_name)s", do_expand=False) or ""
    if numprocs < 1:
        raise section.error(f"numprocs must be at least 1, not {numprocs}", "numprocs")
    if numprocs > 1 and "%(process_num)" not in process_name_template:
        raise section.error(
            "%(process_num) must be present within process_name when numprocs > 1", "process_name"
        )
    if stopasgroup and not killasgroup:
        raise section.error("Cannot set stopasgroup=true and killasgroup=false", "killasgroup")
    extras = build_extras(section)
    if extras.schedule is not None:
        if kind is not GroupKind.PROGRAM:
            raise section.error("schedule is for [program:x] sections only", "schedule")
        # Started by its ticks only, never restarted after an exit (docs/configuration.md).
        autostart, autorestart = False, values.AutoRestart.NEVER
        if not section.has("startsecs"):
            startsecs = 0
    for limit in ("memory_max", "cpu_max", "pids_max"):
        if getattr(extras, limit) is not None and not extras.cgroup:
            raise section.error(f"{limit} needs cgroup = true", limit)
    if extras.watch == "pidfile" and extras.pidfile is None:
        raise section.error("watch = pidfile needs pidfile =", "watch")
    if extras.watchdog_sec is not None and extras.ready != "notify":
        raise section.error(
            "watchdog_sec needs ready = notify (the program pings WATCHDOG=1)", "watchdog_sec"
        )
    if startretries < 0 and startretries != -1:
        raise section.error(
            f"startretries must be -1 (forever) or at least 0, not {startretries}", "startretries"
        )

    processes = []
    for process_num in range(numprocs_start, numprocs_start + numprocs):
        names: dict[str, object] = {**common, "process_num": process_num, "numprocs": numprocs}
        env_text = section.text("environment", "", expand_names=names) or ""
        environment = section.convert("environment", env_text, values.environment)
        names.update({f"ENV_{k}": v for k, v in environment.items()})
        files = section.optional("environment_file", parse_paths, expand_names=names)
        directory = section.text("directory", None, expand_names=names)
        channels = {
            c: _channel(section, c, names, capture[c], events_on[c]) for c in ("stdout", "stderr")
        }
        if redirect_stderr:
            if not isinstance(channels["stderr"].logfile, values.LogTarget):
                raw.warn(
                    f"For [{name}], redirect_stderr=true but stderr_logfile has also been set "
                    "to a filename, the filename has been ignored",
                    name,
                    "stderr_logfile",
                )
            channels["stderr"] = ChannelConfig(
                values.LogTarget.NONE,
                channels["stderr"].maxbytes,
                channels["stderr"].backups,
                channels["stderr"].capture_maxbytes,
                channels["stderr"].events_enabled,
                channels["stderr"].syslog,
            )
        command = section.text("command", None, expand_names=names)
        if command is None:
            raise section.error(f"program section {name} does not specify a command", "command")
        process_name = section.convert(
            "process_name",
            section.text("process_name", "%(program_name)s", expand_names=names) or "",
            values.process_or_group_name,
        )
        processes.append(
            ProcessConfig(
                name=process_name,
                group=group_name,
                program=program_name,
                command=command,
                priority=priority,
                autostart=autostart,
                autorestart=autorestart,
                startsecs=startsecs,
                startretries=startretries,
                exitcodes=exitcodes,
                stopsignal=stopsignal,
                stopwaitsecs=stopwaitsecs,
                stopasgroup=stopasgroup,
                killasgroup=killasgroup,
                user=user,
                uid=uid,
                directory=directory,
                umask=umask,
                redirect_stderr=redirect_stderr,
                environment={**supervisord.environment, **environment},
                serverurl=serverurl,
                stdout=shared(channels["stdout"]),
                stderr=shared(channels["stderr"]),
                kind=kind,
                source=(
                    raw.section_locations[name].path if name in raw.section_locations else raw.path
                ),
                extras=shared(
                    evolve(extras, environment_files=EnvironmentFiles(files, tuple(environment)))
                    if files
                    else extras
                ),
                process_num=process_num,
            )
        )
    processes.sort(key=lambda p: (p.priority, p.name))
    return processes


def _channel(
    section: SectionReader, channel: str, names: Mapping[str, object], capture: int, events: bool
) -> ChannelConfig:
    logfile_text = section.text(f"{channel}_logfile", "AUTO", expand_names=names) or "AUTO"
    logfile = section.convert(f"{channel}_logfile", logfile_text, values.logfile_name)
    backups = section.parse(f"{channel}_logfile_backups", "10", values.integer, expand_names=names)
    maxbytes = section.parse(
        f"{channel}_logfile_maxbytes", "50MB", values.byte_size, expand_names=names
    )
    syslog = section.parse(f"{channel}_syslog", "false", values.boolean, expand_names=names)
    if logfile is values.LogTarget.SYSLOG:
        section.raw.warn(
            f"For [{section.name}], {channel}_logfile=syslog but this is deprecated and will be "
            f"removed.  Use {channel}_syslog=true to enable syslog instead.",
            section.name,
            f"{channel}_logfile",
        )
        logfile, syslog = values.LogTarget.NONE, True
    if logfile is values.LogTarget.AUTO and not maxbytes:
        section.raw.warn(
            f"For [{section.name}], AUTO logging used for {channel}_logfile without rollover, "
            "set maxbytes > 0 to avoid filling up filesystem unintentionally",
            section.name,
            f"{channel}_logfile_maxbytes",
        )
    if isinstance(logfile, str):
        logfile = os.path.abspath(logfile)
    rotate_every = section.parse(
        f"{channel}_logfile_rotate_every", "0", values.duration, expand_names=names
    )
    compress = section.parse(
        f"{channel}_logfile_compress", "false", values.boolean, expand_names=names
    )
    return ChannelConfig(
        logfile, maxbytes, backups, capture, events, syslog, rotate_every, compress
    )


def _one_group_per_name(raw: RawConfig, groups: list[GroupConfig]) -> list[GroupConfig]:
    """Keep one group per name, as supervisord does, and warn naming both sections.

    supervisord sorts its groups by (priority, name), stably, and adds the first of each
    name: the lower priority wins, and at equal priority the section kind read first
    (``[group:x]``, then ``[program:x]``, ``[eventlistener:x]``, ``[fcgi-program:x]``).
    """
    kept: dict[str, GroupConfig] = {}
    for group in sorted(groups, key=lambda g: g.priority):
        kept.setdefault(group.name, group)
    for group in groups:
        winner = kept[group.name]
        if winner is not group:
            ignored, chosen = _section_of(group), _section_of(winner)
            raw.warn(
                f"[{ignored}] is ignored: [{chosen}] ({raw.place(chosen)}) also defines a group "
                f"named {group.name!r} and comes first (lower priority, or the same priority and "
                "read first)",
                ignored,
            )
    return [group for group in groups if kept[group.name] is group]


def _section_of(group: GroupConfig) -> str:
    return f"{group.kind.value}:{group.name}"


def gather(raw: RawConfig, make: Callable[[], T]) -> T | None:
    """``make()``, or None with its error noted in ``raw.errors``: a check of the whole
    configuration reports every section's error, not only the first."""
    try:
        return make()
    except ConfigError as problem:
        raw.errors.append(problem)
    except ValueError as problem:
        raw.errors.append(ConfigError(str(problem), path=raw.path))
    return None


def temporary_directory() -> str:
    """``childlogdir``'s default, the system's temporary folder (``tempfile`` is
    imported only for it: 7 ms at start-up)."""
    import tempfile

    return tempfile.gettempdir()
