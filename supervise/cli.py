"""``supervise``: supervisord's command line, running the same service through twistd.

Init scripts and systemd units that call ``supervisord -c FILE -n`` need only the
program name changed (SUPERVISOR.md §1).
"""

from __future__ import annotations

import getopt
import sys
from collections.abc import Sequence
from typing import Any

from supervise import API_VERSION, SUPERVISOR_COMPAT_VERSION, __version__
from supervise.daemon import attrs_code
from supervise.daemon.lean_imports import defer_unused_imports

# The configuration's modules (and through them the daemon's core) are imported in the
# functions, after ``main`` has set up the lean start (``defer_unused_imports``,
# ``attrs_code.install``).

USAGE = """supervise -- run a set of applications as daemons (supervisord compatible).

Usage: supervise [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervise's version (and the supervisord version it matches) and exit
--check -- check the configuration: print every error and warning with its file and
           line, start nothing; exit 0 (clean or warnings only) or 2 (errors)
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
"""

VALUE_OPTIONS = {
    "-u": "user", "--user": "user", "-m": "umask", "--umask": "umask", "-d": "directory",
    "--directory": "directory", "-l": "logfile", "--logfile": "logfile",
    "-y": "logfile_maxbytes", "--logfile_maxbytes": "logfile_maxbytes",
    "-z": "logfile_backups", "--logfile_backups": "logfile_backups", "-e": "loglevel",
    "--loglevel": "loglevel", "-j": "pidfile", "--pidfile": "pidfile", "-i": "identifier",
    "--identifier": "identifier", "-q": "childlogdir", "--childlogdir": "childlogdir",
    "-a": "minfds", "--minfds": "minfds", "--minprocs": "minprocs",
}  # fmt: skip
FLAG_OPTIONS = {
    "-n": "nodaemon", "--nodaemon": "nodaemon", "-s": "silent", "--silent": "silent",
    "-k": "nocleanup", "--nocleanup": "nocleanup", "-t": "strip_ansi", "--strip_ansi": "strip_ansi",
}  # fmt: skip
TWISTD_VALUE_FLAGS = {
    "user": "--supervise-user", "umask": "--supervise-umask", "directory": "--supervise-directory",
    "logfile": "--supervise-logfile", "pidfile": "--supervise-pidfile",
}  # fmt: skip


class UsageError(Exception):
    """A command-line problem (exit status 2)."""


def parse(argv: Sequence[str]) -> tuple[str | None, dict[str, str]]:
    """Parse supervisord's flags into ``(config path, [supervisord] overrides)``."""
    from supervise.options import LONG, SHORT

    try:
        options, positional = getopt.gnu_getopt(list(argv), SHORT, LONG)
    except getopt.GetoptError as problem:
        if "not recognized" in problem.msg:
            dashes = "-" if len(problem.opt) == 1 else "--"
            raise UsageError(f"option {dashes}{problem.opt} not recognized") from None
        raise UsageError(problem.msg) from None
    if positional:
        raise UsageError(f"positional arguments are not supported: {positional!r}")
    path: str | None = None
    overrides: dict[str, str] = {}
    seen: set[str] = set()
    for flag, value in options:
        if flag in seen:
            raise UsageError(f"conflicting command line option {flag!r}")
        seen.add(flag)
        if flag in ("-c", "--configuration"):
            path = value
        elif flag in VALUE_OPTIONS:
            overrides[VALUE_OPTIONS[flag]] = value
        elif flag in FLAG_OPTIONS:
            overrides[FLAG_OPTIONS[flag]] = "true"
    return path, overrides


def _startup_observer(event: dict[str, Any]) -> None:
    """twistd's own observer for ``supervise``: only errors, on stderr.

    The main log (written by the service) is what operators read.
    """
    if "log_io" in event or event.get("startup_error"):
        # Something written to sys.stdout/sys.stderr, which twistd redirects into the log:
        # writing it back to sys.stderr would loop (and flood the main log). A start-up
        # error is written to stderr as ``Error: …`` by the service itself.
        return
    from twisted.logger import LogLevel, formatEvent

    if event.get("log_level", LogLevel.info) >= LogLevel.error:
        stream = sys.__stderr__ or sys.stderr  # the real one, not twistd's redirection
        stream.write(formatEvent(event) + "\n")
        failure = event.get("log_failure")
        if failure is not None:
            stream.write(failure.getTraceback())


def startup_observer() -> Any:
    """The factory twistd's ``--logger`` names."""
    from twisted.logger import ILogObserver
    from zope.interface import directlyProvides

    directlyProvides(_startup_observer, ILogObserver)
    return _startup_observer


def twistd_argv(path: str, overrides: dict[str, str], nodaemon: bool) -> list[str]:
    """The ``twistd`` command line that runs the same daemon."""
    args = ["supervise", "--pidfile=", "--logger=supervise.cli.startup_observer"]
    if nodaemon:
        args.append("--nodaemon")
    else:
        if "umask" in overrides:
            args.append(f"--umask={overrides['umask']}")
        if "directory" in overrides:
            args.append(f"--rundir={overrides['directory']}")
    args += ["supervise", "-c", path]
    if nodaemon:
        args.append("--echo-main-log")
    for key, value in overrides.items():
        if key == "nodaemon":
            continue
        if key in TWISTD_VALUE_FLAGS:
            args += [TWISTD_VALUE_FLAGS[key], value]
        elif value == "true" and key in ("nocleanup", "strip_ansi", "silent"):
            args.append(f"--{key}")
        else:
            args += [f"--{key}", value]
    return args


def version_line() -> str:
    """``supervise 0.1.0 (supervisord 4.3.0, XML-RPC API 3.0)``."""
    return (
        f"supervise {__version__} (supervisord {SUPERVISOR_COMPAT_VERSION}, "
        f"XML-RPC API {API_VERSION})"
    )


def check(path: str, overrides: dict[str, str]) -> int:
    """``--check``: print every error and warning of the configuration at ``path``;
    2 when there is an error, else 0. Nothing starts."""
    from supervise import config

    try:
        model = config.load(path, overrides=overrides)
    except ValueError as problem:
        errors = [problem, *getattr(problem, "more", [])]
        warnings = list(getattr(problem, "warnings", []))
    else:
        errors, warnings = [], list(model.warnings)
    for warning in warnings:
        sys.stdout.write(f"warning: {warning}\n")
    for error in errors:
        sys.stdout.write(f"error: {error}\n")
    sys.stdout.write(
        f"{path}: {_count(len(errors), 'error')}, {_count(len(warnings), 'warning')}\n"
    )
    return 2 if errors else 0


def _count(number: int, noun: str) -> str:
    return f"{number or 'no'} {noun}{'' if number == 1 else 's'}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the daemon from supervisord's command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "-?") for a in args):
        sys.stdout.write(USAGE)
        return 0
    if any(a in ("-v", "--version") for a in args):
        sys.stdout.write(version_line() + "\n")
        return 0
    prog = "supervise"
    defer_unused_imports()  # before anything imports Twisted
    attrs_code.install()  # before the daemon's classes are defined; tap.py finishes it
    from supervise import config

    try:
        path, overrides = parse([a for a in args if a != "--check"])
        path = path or config.find_config()
        # Read as the service would (``nodaemon`` is twistd's flag, not the service's):
        # the service reuses this model instead of reading the files a second time.
        service_overrides = {k: v for k, v in overrides.items() if k != "nodaemon"}
        if "--check" in args:
            return check(path, service_overrides)
        model = config.load(path, overrides=service_overrides)
    except (UsageError, ValueError) as problem:
        sys.stderr.write(f"Error: {problem}\nFor help, use {prog} -h\n")
        return 2
    nodaemon = overrides.get("nodaemon") == "true" or model.supervisord.nodaemon
    if not nodaemon:
        overrides.setdefault("directory", model.supervisord.directory or "/")
        overrides.setdefault("umask", oct(model.supervisord.umask))
    from supervise.tap import preload

    preload(path, service_overrides, model)
    sys.argv = twistd_argv(path, overrides, nodaemon)
    run_twistd()
    return 0


def run_twistd() -> None:
    """twistd's ``run()`` for ``sys.argv``, knowing the ``supervise`` plugin alone.

    twistd's own lookup imports every ``twisted.plugins`` module installed (conch, mail,
    trial, endpoints with TLS …): about 150 modules and 12 MiB that a daemon never uses.
    """
    from twisted.application import app
    from twisted.scripts import twistd

    from twisted.plugins.supervise_plugin import serviceMaker

    class ServerOptions(twistd.ServerOptions):  # type: ignore[misc,name-defined]
        """twistd's options, with ``supervise`` as the one sub-command."""

        @staticmethod
        def _getPlugins(interface: object, package: object = None) -> list[object]:  # noqa: N802
            return [serviceMaker]

    app.run(twistd.runApp, ServerOptions)


if __name__ == "__main__":
    raise SystemExit(main())
