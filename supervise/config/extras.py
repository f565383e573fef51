"""What supervise adds to supervisord's configuration: program options beyond
supervisord's, ``depends_on`` checks, and the ``[plugin:x]`` and ``[socket:x]`` sections."""

from __future__ import annotations

import os
from collections.abc import Mapping

from supervise.config import rlimits, values
from supervise.config.errors import ConfigError
from supervise.config.ini import RawConfig
from supervise.config.model import GroupConfig, PluginConfig, ProcessExtras, SocketConfig
from supervise.config.section import SectionReader, checked_user

READY_FORMS = "tcp:HOST:PORT, http://…, https://…, command:CMD or notify"


def check_probe(text: str) -> str:
    """Validate a ``ready``/``healthcheck`` value."""
    value = text.strip()
    if value == "notify" or value.startswith(("http://", "https://")):
        return value
    if value.startswith("command:") and value[len("command:") :].strip():
        return value
    if value.startswith("tcp:"):
        host, _, port = value[len("tcp:") :].rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return value
    raise ValueError(f"{text!r} is not one of {READY_FORMS}")


def _killmode(text: str) -> str:
    value = text.strip().lower()
    if value not in ("tree", "process"):
        raise ValueError(f"{text!r} is not tree or process")
    return value


def _positive_float(text: str) -> float:
    number = float(text)
    if number <= 0:
        raise ValueError(f"{text!r} must be a positive number of seconds")
    return number


def _memory_max(text: str) -> str:
    """``max`` or a byte size, as cgroup v2's memory.max takes it."""
    return "max" if text.strip().lower() == "max" else str(values.byte_size(text))


def _cpu_max(text: str) -> str:
    """``50%`` (of one CPU), ``max``, or cgroup's own ``QUOTA PERIOD`` form."""
    value = text.strip()
    if value.endswith("%"):
        percent = float(value[:-1])
        if percent <= 0:
            raise ValueError(f"{text!r} must be a positive percentage of a CPU")
        return f"{int(percent * 1000)} 100000"
    if value == "max" or (
        all(part.isdigit() for part in value.split()) and len(value.split()) in (1, 2)
    ):
        return value
    raise ValueError(f"{text!r} is not 50%, max or QUOTA PERIOD")


def _pids_max(text: str) -> str:
    value = text.strip()
    if value == "max" or value.isdigit():
        return value
    raise ValueError(f"{text!r} is not a number of processes or max")


def _watch_mode(text: str) -> str:
    value = text.strip().lower()
    if value not in ("pidfile", "match"):
        raise ValueError(f"{text!r} is not pidfile or match")
    return value


def _regex(text: str) -> str:
    import re

    try:
        re.compile(text)
    except re.error as error:
        raise ValueError(f"{text!r} is not a regular expression: {error}") from None
    return text


def _cron(text: str) -> str:
    """Five cron fields (minute hour day-of-month month day-of-week), checked by cronsim."""
    value = " ".join(text.split())
    if len(value.split()) != 5:
        raise ValueError(
            f"{text!r} is not a cron expression of five fields (minute hour day month weekday)"
        )
    from datetime import datetime

    from cronsim import CronSim, CronSimError

    try:
        CronSim(value, datetime(2000, 1, 1))
    except CronSimError as error:
        raise ValueError(f"{text!r} is not a valid cron expression: {error}") from None
    return value


def _timezone(text: str) -> str:
    """An IANA time zone name (``Europe/Berlin``, ``UTC``) known to zoneinfo."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = text.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a known IANA time zone (e.g. Europe/Berlin)") from None
    return value


def build_extras(section: SectionReader) -> ProcessExtras:
    """supervise's own program options, validated."""
    healthcheck = section.optional("healthcheck", check_probe)
    if healthcheck == "notify":
        raise section.error("healthcheck cannot be notify (use it for ready)", "healthcheck")
    backoff_initial = section.optional("backoff_initial", _positive_float)
    backoff_max = section.optional("backoff_max", _positive_float)
    if backoff_max is not None and backoff_initial is None:
        backoff_initial = 1.0
    pidfile = section.text("pidfile", None)
    schedule = section.optional("schedule", _cron)
    schedule_timezone = section.optional("schedule_timezone", _timezone)
    if schedule_timezone is not None and schedule is None:
        raise section.error("schedule_timezone needs schedule =", "schedule_timezone")
    return ProcessExtras(
        ready=section.optional("ready", check_probe),
        ready_timeout=section.parse("ready_timeout", "60", _positive_float),
        ready_interval=section.parse("ready_interval", "0.5", _positive_float),
        depends_on=tuple(d for d in section.parse("depends_on", "", values.list_of_strings) if d),
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        pidfile=os.path.abspath(pidfile) if pidfile else None,
        healthcheck=healthcheck,
        healthcheck_interval=section.parse("healthcheck_interval", "10", _positive_float),
        healthcheck_timeout=section.parse("healthcheck_timeout", "5", _positive_float),
        healthcheck_retries=section.parse("healthcheck_retries", "3", values.integer),
        cgroup=section.parse("cgroup", "false", values.boolean),
        sockets=tuple(s for s in section.parse("sockets", "", values.list_of_strings) if s),
        memory_max=section.optional("memory_max", _memory_max),
        cpu_max=section.optional("cpu_max", _cpu_max),
        pids_max=section.optional("pids_max", _pids_max),
        watchdog_sec=section.optional("watchdog_sec", _positive_float),
        watch=section.optional("watch", _watch_mode),
        absent_grace=section.parse("absent_grace", "5", _positive_float),
        match=section.optional("match", _regex),
        match_user=section.optional("match_user", checked_user),
        killmode=section.parse("killmode", "tree", _killmode),
        rlimits=tuple(
            limit
            for name in rlimits.LIMITS
            if (
                limit := section.optional(
                    f"rlimit_{name}", rlimits.parser(name, rlimits.daemon_hard_limit)
                )
            )
            is not None
        ),
        schedule=schedule,
        schedule_timezone=schedule_timezone,
        critical=section.parse("critical", "false", values.boolean),
    )


def check_socket_references(
    raw: RawConfig, groups: list[GroupConfig], sockets: list[SocketConfig]
) -> None:
    """Every ``sockets =`` entry names a ``[socket:x]`` section."""
    known = {s.name for s in sockets}
    for group in groups:
        for process in group.processes:
            for name in process.extras.sockets:
                if name not in known:
                    raise raw.error(
                        f"sockets names unknown [socket:{name}]",
                        f"program:{process.program}",
                        "sockets",
                    )


def check_dependencies(raw: RawConfig, groups: list[GroupConfig]) -> None:
    """Every ``depends_on`` names a known program or group, and there is no cycle."""
    known: dict[str, list[str]] = {}
    for group in groups:
        known.setdefault(group.name, []).extend(p.namespec for p in group.processes)
        for process in group.processes:
            known.setdefault(process.namespec, []).append(process.namespec)
            known.setdefault(process.name, []).append(process.namespec)
    edges: dict[str, set[str]] = {}
    for group in groups:
        for process in group.processes:
            targets: set[str] = set()
            for name in process.extras.depends_on:
                if name not in known:
                    raise raw.error(
                        f"depends_on names unknown program or group {name!r}",
                        f"program:{process.program}",
                        "depends_on",
                    )
                targets.update(known[name])
            edges[process.namespec] = targets - {process.namespec}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = [*path[path.index(node) :], node]
            raise ConfigError(f"depends_on forms a cycle: {' -> '.join(cycle)}", path=raw.path)
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            visit(target, [*path, node])
        state[node] = 2

    for node in sorted(edges):
        visit(node, [])


def build_plugins(raw: RawConfig, env_names: Mapping[str, object]) -> list[PluginConfig]:
    """Build ``[plugin:name]`` sections; values get ``%(here)s`` and ``%(ENV_X)s``."""
    plugins = []
    for name in raw.sections:
        if not name.startswith("plugin:"):
            continue
        section = SectionReader(raw, name, {"here": raw.here, **env_names})
        plugin_name = section.convert(
            "factory", name.split(":", 1)[1], values.process_or_group_name
        )
        options = {key: section.text(key, None) or "" for key in section.options}
        factory = options.pop("factory", None) or None
        plugins.append(PluginConfig(plugin_name, options, factory))
    return plugins


def build_sockets(raw: RawConfig, env_names: Mapping[str, object]) -> list[SocketConfig]:
    """Build ``[socket:name]`` sections."""
    sockets = []
    for name in raw.sections:
        if not name.startswith("socket:"):
            continue
        section = SectionReader(raw, name, {"here": raw.here, **env_names})
        section.warn_unknown(frozenset({"listen", "backlog", "mode"}))
        socket_name = section.convert("listen", name.split(":", 1)[1], values.process_or_group_name)
        listen = section.text("listen", None)
        if listen is None:
            raise section.error(f"[{name}] needs listen = tcp:HOST:PORT or unix:/path", "listen")
        if listen.startswith("tcp:"):
            host, _, port = listen[len("tcp:") :].rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise section.error(f"{listen!r} is not tcp:HOST:PORT", "listen")
        elif listen.startswith("unix:"):
            if not os.path.isabs(listen[len("unix:") :]):
                raise section.error(f"{listen!r}: the unix socket path must be absolute", "listen")
        else:
            raise section.error(f"{listen!r} is not tcp:HOST:PORT or unix:/path", "listen")
        sockets.append(
            SocketConfig(
                socket_name,
                listen,
                section.parse("backlog", "128", values.integer),
                section.optional("mode", values.octal),
            )
        )
    return sockets
