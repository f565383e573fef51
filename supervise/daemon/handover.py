"""Re-exec: the daemon replaces itself with a fresh copy in the same pid, handing it
every program (pipes included), its ``[socket:x]`` sockets, its pidfiles and its
working directory. Programs never notice."""

from __future__ import annotations

import os
import sys

from twisted.logger import Logger

from supervise.daemon.core import CoreService, ProgramsService
from supervise.daemon.handoff import HANDOFF_ENV
from supervise.daemon.mainlog import MainLogService
from supervise.daemon.pidfile import PidFileService
from supervise.daemon.reexec import reexec_argv
from supervise.daemon.runtime import Runtime
from supervise.daemon.servers import HTTPServers
from supervise.daemon.socket_table import SocketTable
from supervise.daemon.statefile import StateFile

log = Logger(namespace="supervise.service")


class Handover:
    """Writes the handoff file and execs the new copy."""

    def __init__(
        self,
        runtime: Runtime,
        core: CoreService,
        programs: ProgramsService,
        servers: HTTPServers,
        sockets: SocketTable,
        pidfiles: PidFileService,
        statefile: StateFile,
        mainlog: MainLogService,
    ) -> None:
        self.runtime = runtime
        self.core = core
        self.programs = programs
        self.servers = servers
        self.sockets = sockets
        self.pidfiles = pidfiles
        self.statefile = statefile
        self.mainlog = mainlog

    async def run(self) -> None:
        """Re-execute now; on failure the daemon goes on as it was."""
        try:
            argv = reexec_argv(sys.orig_argv, sys.executable)
        except ValueError as problem:
            log.error("re-exec refused: {problem}", problem=str(problem))
            self.runtime.stopping = False
            return
        programs = self.core.programs()
        log.warn(
            "re-executing the daemon in place: {n} running processes keep running",
            n=sum(1 for p in programs if p.pid),
        )
        self.programs.ticker.stop()
        await self.servers.stop_listening()
        saved = [p.saved(True) for p in programs]
        for entry in saved:
            for fd in (entry.fds or {}).values():
                os.set_inheritable(fd, True)
        extra = {
            "sockets": self.sockets.handoff(),
            "pidfiles": self.pidfiles.handoff(),
            "cwd": os.getcwd(),
            "choices": self.statefile.choices() if self.statefile.choices is not None else {},
        }
        path = self.statefile.write_handoff(saved, extra)
        env = dict(os.environ)
        env[HANDOFF_ENV] = path
        self.mainlog.close_file()
        try:
            # The command line's relative paths mean what they meant when it was typed;
            # the copy returns to ``cwd`` (where its programs run) once it has read them.
            os.chdir(self.runtime.options.cwd)
            os.execve(sys.executable, argv, env)
        except OSError as problem:
            os.chdir(str(extra["cwd"]))
            log.critical("re-exec failed ({problem}); going on as before", problem=problem)
            os.unlink(path)
            self.servers.listen()
            self.programs.ticker.start()
            self.runtime.stopping = False
