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

        return make_service_from_options(options, foreground_requested())  # type: ignore[arg-type]


serviceMaker = SuperviseServiceMaker()
