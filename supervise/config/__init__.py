"""Configuration: read supervisord INI files into a frozen, validated model.

``load(path)`` is the only entry; it never touches the reactor.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence

from supervise.config.build import build
from supervise.config.errors import ConfigError
from supervise.config.expand import host_node_name
from supervise.config.ini import RawConfig, read
from supervise.config.model import ConfigModel, CtlConfig
from supervise.config.servers import build_ctl

__all__ = ["ConfigError", "ConfigModel", "find_config", "load", "load_ctl", "search_paths"]


def load(
    path: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
    extra: Callable[[RawConfig], None] | None = None,
) -> ConfigModel:
    """Read and validate the configuration at ``path``.

    :param extra: adds sections from elsewhere (a cluster revision) before validation.
    :raises ConfigError: naming file, line, section and option of the first problem.
    """
    env = dict(os.environ if environ is None else environ)
    names = {"host_node_name": host_node_name(), **{f"ENV_{k}": v for k, v in env.items()}}
    raw = read(path, names)
    if extra is not None:
        extra(raw)
    return build(raw, env, overrides)


def load_ctl(path: str, environ: Mapping[str, str] | None = None) -> CtlConfig:
    """Only the ``[supervisorctl]`` section of ``path`` (defaults without one).

    As supervisorctl: a client still reaches the daemon while another section of the
    file is broken (to hear the daemon refuse it, say).
    """
    env = dict(os.environ if environ is None else environ)
    names = {"host_node_name": host_node_name(), **{f"ENV_{k}": v for k, v in env.items()}}
    raw = read(path, names)
    if "supervisorctl" not in raw.sections:
        return CtlConfig()
    return build_ctl(raw, {f"ENV_{k}": v for k, v in env.items()})


def search_paths(argv0: str | None = None) -> list[str]:
    """supervisord's config search order when ``-c`` is not given (SUPERVISOR.md §1.1)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(argv0 or sys.argv[0])))
    return [
        os.path.join(here, "etc", "supervisord.conf"),
        os.path.join(here, "supervisord.conf"),
        "supervisord.conf",
        "etc/supervisord.conf",
        "/etc/supervisord.conf",
        "/etc/supervisor/supervisord.conf",
    ]


def find_config(candidates: Sequence[str] | None = None) -> str:
    """Return the first existing path of the search order.

    :raises ConfigError: with supervisord's message when none exists.
    """
    paths = list(candidates) if candidates is not None else search_paths()
    for path in paths:
        if os.path.exists(path):
            return path
    raise ConfigError(
        f"No config file found at default paths ({', '.join(paths)}); use the -c option to "
        "specify a config file at a different path"
    )
