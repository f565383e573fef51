"""Pidfiles (an interface, the real file and a null object, as in Twisted's
``application/runner/_pidfile.py``) and systemd's readiness notification."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from twisted.application.service import Service
from twisted.logger import Logger
from zope.interface import Attribute, Interface, implementer

from supervise.config.model import ConfigModel
from supervise.daemon.runtime import Runtime

log = Logger(namespace="supervise.service")


class IPidFile(Interface):
    """A file naming the daemon's pid while it runs."""

    path: str | None = Attribute("The file's path, None for no file.")

    def write() -> None:
        """Write this process's pid (logged, not raised, when it cannot be written)."""

    def remove() -> None:
        """Remove the file if this process wrote it."""


@implementer(IPidFile)
class PidFile:
    """``<pid>\\n`` in ``path``; removed at the end only if it was written."""

    def __init__(self, path: str) -> None:
        self.path: str | None = path
        self.written = False

    def write(self) -> None:
        assert self.path is not None
        try:
            with open(self.path, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            self.written = True
        except OSError as problem:
            log.critical(
                "could not write pidfile {path}: {problem}", path=self.path, problem=problem
            )

    def remove(self) -> None:
        if self.written and self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.written = False


@implementer(IPidFile)
class NullPidFile:
    """No pidfile."""

    path: str | None = None

    def write(self) -> None:
        """Nothing to write."""

    def remove(self) -> None:
        """Nothing to remove."""


def pidfile_at(path: str | None) -> IPidFile:
    """The pidfile at ``path``; the null object for None or ""."""
    return PidFile(path) if path else NullPidFile()


class PidFileService(Service):
    """The ``[supervisord] pidfile``, plus the pidfiles a re-exec hands over (twistd's
    own: the copy runs ``--pidfile=`` and so must keep and remove it itself)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.main: IPidFile = pidfile_at(runtime.model.supervisord.pidfile)
        handoff = runtime.handoff
        handed = handoff.extra.get("pidfiles", []) if handoff is not None else []
        self.handed: list[IPidFile] = [pidfile_at(p) for p in handed if isinstance(p, str)]

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        for pidfile in (self.main, *self.handed):
            pidfile.write()

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        for pidfile in (self.main, *self.handed):
            pidfile.remove()

    def reload(self, model: ConfigModel) -> None:
        """Write the pidfile again (at the path ``model`` names: the old one goes)."""
        if model.supervisord.pidfile != self.main.path:
            self.main.remove()
            self.main = pidfile_at(model.supervisord.pidfile)
        self.main.write()

    def handoff(self) -> list[str]:
        """Every pidfile the re-executed copy must keep: ours is rewritten from its
        config; twistd's (or one handed to us) is not, so it is passed on."""
        paths = [p.path for p in self.handed if p.path]
        twistd_pidfile = self.runtime.options.twistd_option("pidfile")
        if twistd_pidfile and twistd_pidfile not in paths:
            paths.append(os.path.abspath(twistd_pidfile))
        return paths


def notify(environ: Mapping[str, str], message: str) -> None:
    """Send ``message`` to systemd's ``NOTIFY_SOCKET``, if there is one."""
    target = environ.get("NOTIFY_SOCKET")
    if not target:
        return
    address = "\0" + target[1:] if target.startswith("@") else target
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError as problem:
        log.warn("could not notify {target}: {problem}", target=target, problem=problem)


class ReadyService(Service):
    """Tells systemd (``Type=notify``) the daemon is ready, once everything started."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        notify(self.runtime.options.environ, f"READY=1\nMAINPID={os.getpid()}")
        # No start-up error can come any more: let go of the launching terminal.
        self.runtime.options.release_stderr()
