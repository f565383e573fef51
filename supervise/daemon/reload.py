"""Reload (SIGHUP, ``supervisor.restart``): re-read the configuration and rebuild
everything in this pid; a configuration that does not load leaves the daemon as it is."""

from __future__ import annotations

import os
from collections.abc import Callable

from twisted.logger import Logger

from supervise.config.model import ConfigModel
from supervise.daemon.core import CoreService
from supervise.daemon.errors import StartupError
from supervise.daemon.http import SiteService
from supervise.daemon.mainlog import MainLogService
from supervise.daemon.pidfile import PidFileService
from supervise.daemon.process_env import warn_if_root
from supervise.daemon.runtime import Runtime
from supervise.daemon.servers import HTTPServers
from supervise.states import SupervisorState

log = Logger(namespace="supervise.service")


class Reloader:
    """Carries out one reload at a time, in supervisord's order."""

    def __init__(
        self,
        runtime: Runtime,
        read_config: Callable[[], ConfigModel],
        core: CoreService,
        servers: HTTPServers,
        site: SiteService,
        mainlog: MainLogService,
        pidfiles: PidFileService,
    ) -> None:
        self.runtime = runtime
        self.read_config = read_config
        self.core = core
        self.servers = servers
        self.site = site
        self.mainlog = mainlog
        self.pidfiles = pidfiles

    async def reload(self) -> None:
        """Stop every program, apply the configuration read again, start again."""
        supervisor, control = self.core.supervisor, self.core.control
        if supervisor is None or control is None or self.runtime.stopping:
            return
        if supervisor.state is not SupervisorState.RUNNING:
            return
        try:
            model = self.read_config()
        except ValueError as problem:
            log.error(
                "restart refused, keeping the running configuration: {problem}",
                problem=str(problem),
            )
            return
        await self.servers.stop_listening()
        self.runtime.model = model
        control.pending = None
        await supervisor.replace(model, self.core.context(model))
        self.mainlog.reload(model)
        warn_if_root(model)
        log.info("supervisord started with pid {pid}", pid=os.getpid())
        self.site.mount()
        try:
            self.servers.listen()
        except StartupError as problem:
            log.critical("{problem}", problem=str(problem))
        self.pidfiles.reload(model)
