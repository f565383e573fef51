"""The core as two services: one builds the Supervisor and its control (after taking
stock of old logs and survivors), the other runs the programs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.application.service import Service
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from supervise.config.model import ConfigModel
from supervise.control import SupervisorControl
from supervise.daemon.keeper import KeeperService
from supervise.daemon.runtime import Runtime
from supervise.daemon.socket_table import SocketTable
from supervise.daemon.statefile import StateFile
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.ticks import Ticker
from supervise.events.types import (
    GroupScaled,
    ProcessDisabled,
    ProcessEnabled,
    ProcessStateEvent,
)
from supervise.logs.channel import cleanup_auto_logs
from supervise.process.choices import RuntimeChoices
from supervise.process.linux.cgroups import CgroupTree
from supervise.process.linux.host import real_host
from supervise.process.linux.spawner import ReactorSpawner
from supervise.process.program import Program
from supervise.process.saved import SavedProcess
from supervise.process.spec import SpawnContext
from supervise.supervisor import Supervisor

if TYPE_CHECKING:
    from supervise.logs.forward import OutputForwarder

log = Logger(namespace="supervise.service")

DEBUG_LEVELS = frozenset({"debug", "trace", "blather"})


def server_url(model: ConfigModel) -> str | None:
    """The AUTO ``SUPERVISOR_SERVER_URL``: the first unix server, else the first inet one."""
    for kind in ("unix", "inet"):
        for server_config in model.servers:
            if server_config.kind == kind:
                return server_config.url
    return None


class CoreService(Service):
    """Builds the Supervisor and SupervisorControl; removes old AUTO logs first.

    Started only once the HTTP servers listen: a second daemon on the same config has
    stopped by then, before it could remove the first one's logs.
    """

    def __init__(
        self,
        runtime: Runtime,
        bus: EventBus,
        spawner: ReactorSpawner,
        sockets: SocketTable,
        statefile: StateFile,
        read_config: Callable[[], ConfigModel],
        keeper: KeeperService,
    ) -> None:
        self.runtime = runtime
        self.keeper = keeper
        self.bus = bus
        self.spawner = spawner
        self.sockets = sockets
        self.statefile = statefile
        self.read_config = read_config
        self.supervisor: Supervisor | None = None
        self.control: SupervisorControl | None = None
        self.cgroups: CgroupTree | None = None
        self.saved: tuple[list[SavedProcess], bool] = ([], False)

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        model = self.runtime.model
        saved, handed_over = self.statefile.saved(model)
        self.saved = (saved if handed_over else self.keeper.attach(saved), handed_over)
        if not model.supervisord.nocleanup:
            # Keep the logs of processes about to be taken over.
            keep = {p for entry in self.saved[0] for p in (entry.stdout, entry.stderr) if p}
            cleanup_auto_logs(model.supervisord.childlogdir, model.supervisord.identifier, keep)
        self.supervisor = Supervisor(
            model,
            self.runtime.reactor,
            time.time,
            self.spawner,
            self.bus,
            self.context(model),
            fcgi_sockets=self.sockets.fcgi_fd,
            make_host=lambda context, may_restart: real_host(
                self.runtime.reactor,
                time.time,
                self.spawner,
                self.bus,
                context,
                may_restart,
                self.spawner.reaper,
            ),
            choices=RuntimeChoices.from_json(self.statefile.saved_choices()),
        )
        self.control = SupervisorControl(self.supervisor, self.read_config)
        self.statefile.snapshot = lambda: [p.saved(False) for p in self.programs()]
        self.statefile.choices = self.supervisor.choices.as_json

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        if self.cgroups is not None:
            self.cgroups.remove_all()

    def programs(self) -> list[Program]:
        """Every process (none before start)."""
        return self.supervisor.all_programs() if self.supervisor is not None else []

    def context(self, model: ConfigModel) -> SpawnContext:
        """What every process of ``model`` shares when it spawns."""
        return SpawnContext(
            environ=dict(self.runtime.options.environ),
            server_url=server_url(model),
            childlogdir=model.supervisord.childlogdir,
            identifier=model.supervisord.identifier,
            strip_ansi=model.supervisord.strip_ansi,
            log_output=model.supervisord.loglevel in DEBUG_LEVELS,
            cgroups=self._cgroup_tree(model),
            sockets=self.sockets.fds(),
            owner=os.path.abspath(self.statefile.path),
            forward=self._forwarder(model),
        )

    def _forwarder(self, model: ConfigModel) -> OutputForwarder | None:
        """``forward_output``'s copier (its module loaded only when it is used)."""
        if not model.supervisord.forward_output:
            return None
        from supervise.logs.forward import OutputForwarder

        return OutputForwarder(model.supervisord.forward_output_format, time.time)

    def _cgroup_tree(self, model: ConfigModel) -> CgroupTree | None:
        wanted = any(p.extras.cgroup for g in model.groups for p in g.processes)
        if wanted and self.cgroups is None:
            self.cgroups = CgroupTree.create(f"supervise-{os.getpid()}")
        return self.cgroups


class ProgramsService(Service):
    """Starts the programs (taking over survivors), the ticks and the state file; stops
    every program at the end."""

    def __init__(self, runtime: Runtime, bus: EventBus, core: CoreService) -> None:
        self.runtime = runtime
        self.bus = bus
        self.core = core
        self.ticker = Ticker(runtime.reactor, time.time, bus)

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        supervisor = self.core.supervisor
        assert supervisor is not None
        log.info("supervisord started with pid {pid}", pid=os.getpid())
        saved, handed_over = self.core.saved
        supervisor.start(saved, handed_over)
        statefile = self.core.statefile
        kept = (ProcessStateEvent, ProcessDisabled, ProcessEnabled, GroupScaled)
        self.bus.subscribe(CallbackListener("state-file", kept, statefile.changed))
        statefile.write()
        self.ticker.start()

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        super().stopService()
        return ensureDeferred(self._stop())

    async def _stop(self) -> None:
        self.ticker.stop()
        supervisor = self.core.supervisor
        if supervisor is not None:
            await supervisor.shutdown()
            self.core.statefile.forget()
