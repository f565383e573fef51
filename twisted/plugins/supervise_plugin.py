"""The ``twistd supervise`` plugin: one ServiceMaker, nothing else."""

from __future__ import annotations

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class SuperviseServiceMaker:
    """Makes the supervise daemon service."""

    tapname = "supervise"
    description = "A process supervisor: a drop-in replacement for supervisord."

    @property
    def options(self) -> type:
        from supervise.tap import Options

        return Options

    def makeService(self, options: object) -> object:  # noqa: N802 - Twisted's name
        from supervise.tap import foreground_requested, make_service_from_options

        return make_service_from_options(options, foreground_requested(options))  # type: ignore[arg-type]


serviceMaker = SuperviseServiceMaker()


@implementer(IServiceMaker, IPlugin)
class ConsoleServiceMaker:
    """Makes the standalone cluster console (``twistd supervise-console``)."""

    tapname = "supervise-console"
    description = "The supervise cluster console alone: every node's processes, no programs."

    @property
    def options(self) -> type:
        from supervise.console_tap import Options

        return Options

    def makeService(self, options: object) -> object:  # noqa: N802 - Twisted's name
        from supervise.console_tap import make_service

        return make_service(options)  # type: ignore[arg-type]


consoleServiceMaker = ConsoleServiceMaker()
