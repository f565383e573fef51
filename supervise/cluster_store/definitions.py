"""Cluster definitions: checking files before a push, choosing a node's sections, the allow-list.

A pushed section is ordinary supervisord INI (``[program:x]``, ``[group:x]``,
``[eventlistener:x]``, ``[fcgi-program:x]``) plus ``placement``: node names and labels,
comma-separated, or ``*`` for every node. A node keeps the sections whose placement
names it or one of its labels, removes ``placement``, and validates them together with
its local files with the daemon's own parser.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
from collections.abc import Callable, Iterable, Mapping

from supervise.cluster_store.placement import (
    CLUSTER_OPTIONS,
    FLOATING_OPTIONS,
    BadPlacement,
    floating,
    section_options,
)
from supervise.cluster_store.schema import SECTION_KINDS
from supervise.config.build import build
from supervise.config.errors import ConfigError
from supervise.config.ini import RawConfig, add_text, read
from supervise.config.model import ClusterConfig, ConfigModel, GroupConfig
from supervise.config.values import list_of_strings

#: In ``allow_users``: the user this node's daemon runs as, whoever that is.
DAEMON_USER = "@daemon"


class Refused(ValueError):
    """A revision this node will not run; the message names revision, section and option."""


def render(name: str, options: Mapping[str, str]) -> str:
    """One section as INI text (continuation lines indented, as configparser reads them)."""
    lines = [f"[{name}]"]
    for key, value in options.items():
        first, *rest = value.split("\n")
        lines.append(f"{key} = {first}")
        lines.extend(f"    {line}" for line in rest)
    return "\n".join(lines) + "\n"


def placed_on(
    sections: Mapping[str, str],
    node: str,
    labels: Iterable[str],
    copies: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The sections meant for ``node``, without their placement options.

    A ``count =`` section is kept when ``copies`` (see placement.copies_on) gives this
    node one or more copies; several copies run as ``numprocs``.
    """
    targets = {node, *labels, "*"}
    kept = {}
    for name, text in sections.items():
        section, options = section_options(text)
        placement = set(list_of_strings(options.pop("placement", "")))
        spread = {key: options.pop(key) for key in FLOATING_OPTIONS if key in options}
        if spread.get("count", "").strip():
            number = (copies or {}).get(name, 0)
            if number < 1:
                continue
            if number > 1:
                options["numprocs"] = str(number)
                options.setdefault("process_name", "%(program_name)s_%(process_num)d")
            kept[name] = render(section, options)
        elif targets & placement:
            kept[name] = render(section, options)
    return kept


def extra_sections(revision: int, sections: Mapping[str, str]) -> Callable[[RawConfig], None]:
    """A ``config.load(extra=…)`` hook adding a revision's sections (errors name the revision)."""

    def add(raw: RawConfig) -> None:
        text = "\n".join(sections[name] for name in sorted(sections))
        add_text(raw, f"cluster revision {revision}", text)

    return add


def cluster_groups(model: ConfigModel, sections: Mapping[str, str]) -> list[GroupConfig]:
    """The groups of ``model`` that came from ``sections``."""
    names = set()
    for section in sections:
        kind, _, name = section.partition(":")
        if f"{kind}:" in SECTION_KINDS:
            names.add(name)
    return [g for g in model.groups if g.name in names]


def check_allowed(cluster: ClusterConfig, groups: Iterable[GroupConfig], revision: int) -> None:
    """Refused unless every process runs within this node's allow-list."""
    daemon_user = pwd.getpwuid(os.getuid()).pw_name
    allowed = {daemon_user if name == DAEMON_USER else name for name in cluster.allow_users}
    for group in groups:
        for process in group.processes:
            where = f"revision {revision}, [program:{process.name}]"
            user = process.user or daemon_user
            if not cluster.allow_users:
                raise Refused(
                    f"{where}: this node runs no cluster definitions until its [cluster] "
                    "allow_users names the users they may run as"
                )
            if user not in allowed:
                raise Refused(
                    f"{where} option user: {user!r} is not in this node's allow_users "
                    f"({', '.join(cluster.allow_users)})"
                )
            if cluster.allow_directories:
                directory = os.path.normpath(process.directory or "/")
                if not any(
                    directory == allowed or directory.startswith(allowed.rstrip("/") + "/")
                    for allowed in cluster.allow_directories
                ):
                    raise Refused(
                        f"{where} option directory: {directory!r} is outside this node's "
                        f"allow_directories ({', '.join(cluster.allow_directories)})"
                    )
            if cluster.allow_commands:
                try:
                    program = shlex.split(process.command)[0]
                except (ValueError, IndexError):
                    program = process.command
                if not any(program.startswith(prefix) for prefix in cluster.allow_commands):
                    raise Refused(
                        f"{where} option command: {program!r} does not start with one of this "
                        f"node's allow_commands ({', '.join(cluster.allow_commands)})"
                    )


def sections_from_files(paths: Iterable[str]) -> dict[str, str]:
    """Read definition files for a push, checked by the daemon's own parser.

    Raises ConfigError (file, line, section, option) as a local config would.
    """
    merged: RawConfig | None = None
    for path in paths:
        raw = read(path, {})
        if merged is None:
            merged = raw
        else:
            for name in raw.sections:
                if name in merged.sections:
                    raise raw.error(f"section [{name}] is defined twice", name)
            merged.sections.update(raw.sections)
            merged.section_locations.update(raw.section_locations)
            merged.option_locations.update(raw.option_locations)
    if merged is None:
        raise ConfigError("no files to push")
    stored = {}
    for name, options in merged.sections.items():
        if name == "include":
            continue
        if not name.startswith(SECTION_KINDS):
            raise merged.error(
                f"[{name}] cannot be pushed: only [program:x], [group:x], [eventlistener:x] and "
                "[fcgi-program:x] sections belong to the cluster",
                name,
            )
        if not list_of_strings(options.get("placement", "")):
            raise merged.error(
                f"[{name}] has no placement: name the nodes or labels it runs on, or *",
                name,
                "placement",
            )
        try:
            spread = floating(options)
        except BadPlacement as problem:
            raise merged.error(f"[{name}] {problem}", name, "count") from None
        if spread is not None and not name.startswith("program:"):
            raise merged.error(f"[{name}]: count = N is for [program:x] sections", name, "count")
        stored[name] = render(name, options)
    if not stored:
        raise ConfigError("the files define no [program:x], [group:x] or [eventlistener:x]")
    check_parses(merged)
    return stored


#: ``%(ENV_X)s`` in a pushed file: expanded on each node, for that node.
ENV_REFERENCE = re.compile(r"%\(ENV_(\w+)\)s")


def push_environ(raw: RawConfig) -> dict[str, str]:
    """The environment a push is checked with: ours, plus a stand-in for every ``ENV_X``
    the files use that is not set here (each node expands them for itself, and refuses
    the revision, naming the variable, if its own environment lacks one)."""
    environ = dict(os.environ)
    for options in raw.sections.values():
        for value in options.values():
            for name in ENV_REFERENCE.findall(value):
                environ.setdefault(name, "1")
    return environ


def check_parses(raw: RawConfig) -> None:
    """Validate sections as a daemon would (placement aside), syntax only: variables
    of the environment are the nodes' own."""
    trial = RawConfig(
        path=raw.path,
        here=raw.here,
        sections={
            name: {k: v for k, v in options.items() if k not in CLUSTER_OPTIONS}
            for name, options in raw.sections.items()
            if name != "include"
        },
        section_locations=raw.section_locations,
        option_locations=raw.option_locations,
    )
    trial.sections["supervisord"] = {}
    build(trial, push_environ(raw))
