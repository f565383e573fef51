"""``twistd supervise``: command-line options → the daemon's service."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from supervise import config
from supervise.config.model import ConfigModel
from supervise.daemon import attrs_code, preflight
from supervise.daemon.errors import StartupError, error_text
from supervise.daemon.handoff import HANDOFF_ENV
from supervise.options import DaemonOptions


class Options(usage.Options):
    """Options of ``twistd supervise``: supervisord's own, where twistd leaves room."""

    synopsis = "[-c FILE] [supervisord options]"
    optParameters = [
        ["configuration", "c", None, "configuration file (default: supervisord's search path)"],
        ["supervise-user", None, None, "[supervisord] user"],
        ["supervise-umask", None, None, "[supervisord] umask"],
        ["supervise-directory", None, None, "[supervisord] directory"],
        ["supervise-logfile", None, None, "[supervisord] logfile (the main activity log)"],
        ["logfile_maxbytes", "y", None, "[supervisord] logfile_maxbytes"],
        ["logfile_backups", "z", None, "[supervisord] logfile_backups"],
        ["loglevel", "e", None, "[supervisord] loglevel"],
        ["supervise-pidfile", "j", None, "[supervisord] pidfile"],
        ["identifier", "i", None, "[supervisord] identifier"],
        ["childlogdir", "q", None, "[supervisord] childlogdir"],
        ["minfds", "a", None, "[supervisord] minfds"],
        ["minprocs", None, None, "[supervisord] minprocs"],
    ]
    optFlags = [
        ["nocleanup", "k", "do not remove old AUTO child logs at start"],
        ["strip_ansi", "t", "strip ANSI escapes from child output"],
        ["silent", "s", "do not echo the main log to stdout in the foreground"],
        ["echo-main-log", None, "echo main-log lines to stdout (the supervise command does)"],
    ]

    def overrides(self) -> dict[str, str]:
        """``[supervisord]`` options given on the command line."""
        result: dict[str, str] = {}
        for key in (
            "logfile_maxbytes",
            "logfile_backups",
            "loglevel",
            "identifier",
            "childlogdir",
            "minfds",
            "minprocs",
        ):
            if self[key] is not None:
                result[key] = self[key]
        for key in ("user", "umask", "directory", "logfile", "pidfile"):
            if self[f"supervise-{key}"] is not None:
                result[key] = self[f"supervise-{key}"]
        for key in ("nocleanup", "strip_ansi", "silent"):
            if self[key]:
                result[key] = "true"
        return result


#: The configuration the ``supervise`` command read before running twistd in the same
#: process: (path, overrides, model).
_preloaded: list[tuple[str, dict[str, str], ConfigModel]] = []


def preload(path: str, overrides: dict[str, str], model: ConfigModel) -> None:
    """Hand the service the model read from ``path`` with ``overrides``."""
    _preloaded[:] = [(path, dict(overrides), model)]


def take_preloaded(
    path: str, overrides: Mapping[str, str], handoff: str | None
) -> ConfigModel | None:
    """The preloaded model if it was read from the same path with the same overrides
    (and no re-exec hands over, whose variable the service drops from the environment)."""
    if not _preloaded:
        return None
    read_path, read_overrides, model = _preloaded.pop()
    if handoff is None and read_path == path and read_overrides == dict(overrides):
        return model
    return None


def make_service_from_options(options: Options, foreground: bool = True) -> IService:
    """Build the service, or exit 2 with ``Error: …`` on a bad configuration or a daemon
    that cannot start (found before twistd forks, so the user's terminal says why)."""
    try:
        path = options["configuration"] or config.find_config()
        echo = foreground and bool(options["echo-main-log"])
        environ = dict(os.environ)
        # A re-exec passes its state file here; children must not inherit the variable.
        handoff = environ.pop(HANDOFF_ENV, None)
        os.environ.pop(HANDOFF_ENV, None)
        twistd = getattr(options, "parent", None)
        daemon_options = DaemonOptions(
            path, options.overrides(), echo, environ, handoff, twistd=twistd
        )
        model = take_preloaded(path, daemon_options.overrides, handoff) or daemon_options.load()
        if handoff is None:
            # Before importing the daemon's code: a second daemon says so at once.
            preflight.check(model)
        from supervise.service import make_service

        # Daemonizing, twistd points stderr at /dev/null: keep the terminal's, to say
        # why a start fails after the fork.
        daemon_options.stderr_fd = None if foreground else os.dup(2)

        service = make_service(daemon_options, model=model)
        attrs_code.finish()
        attrs_code.forget_generated_sources()
        return service
    except (ValueError, StartupError) as problem:
        sys.stderr.write(error_text(problem, sys.argv[0]))
        raise SystemExit(2) from None


def foreground_requested(options: Any = None, argv: Any = None) -> bool:
    """True when twistd was asked to stay in the foreground (``-n``/``--nodaemon``):
    read from twistd's own parsed options when there are any, else from ``argv``."""
    parent = getattr(options, "parent", None)
    if parent is not None:
        try:
            return bool(parent["nodaemon"])
        except KeyError:
            pass
    args = sys.argv if argv is None else argv
    return any(
        a in ("-n", "--nodaemon")
        or (a.startswith("-") and not a.startswith("--") and "n" in a[1:2])
        for a in args
    )
