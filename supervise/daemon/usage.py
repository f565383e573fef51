"""Resource sampling on the reactor: every ``[supervisord] usage_interval`` seconds, one
read of the daemon's process tree measures every running program; the result is kept
(with a short history per program) and published on the bus as ``ResourcesSampled``.

The read itself (``/proc/PID/stat`` of each process in the tree) runs in the reactor's
thread pool, so the reactor never waits on it; the next read waits for this one to finish.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from zope.interface import implementer

from supervise.events.bus import EventBus
from supervise.events.types import ResourcesSampled
from supervise.interfaces import IResourceUsage
from supervise.process.linux.usage import Reading, UsageSampler
from supervise.snapshot import ProcessSnapshot, ResourceUsage

log = Logger(namespace="supervise.service")

#: Samples kept per program (the console's graph): 60, five minutes at the default 5 s.
HISTORY = 60
#: Numbers kept per sample: when, cpu_percent, cpu_seconds, rss, processes.
_FIELDS = 5


class SampleHistory:
    """One program's last HISTORY samples, as one array of doubles: about 2.4 KiB when
    full, where a deque of ResourceUsage objects takes about 10 KiB a program."""

    __slots__ = ("source", "values")

    def __init__(self) -> None:
        self.values = array("d")
        self.source = "proc"

    def append(self, sample: ResourceUsage) -> None:
        """Keep ``sample``, forgetting the oldest past HISTORY."""
        self.values.extend(
            (sample.when, sample.cpu_percent, sample.cpu_seconds, sample.rss, sample.processes)
        )
        self.source = sample.source
        if len(self.values) > HISTORY * _FIELDS:
            del self.values[:_FIELDS]

    def samples(self) -> tuple[ResourceUsage, ...]:
        """The kept samples, oldest first."""
        v = self.values
        return tuple(
            ResourceUsage(v[i], v[i + 1], v[i + 2], int(v[i + 3]), int(v[i + 4]), self.source)
            for i in range(0, len(v), _FIELDS)
        )


@implementer(IResourceUsage)
class UsageService(Service):
    """Runs the sampler at ``interval`` seconds (0: never) over ``programs()``."""

    def __init__(
        self,
        interval: float,
        reactor: Any,
        bus: EventBus,
        programs: Callable[[], Sequence[ProcessSnapshot]],
        sampler: UsageSampler | None = None,
    ) -> None:
        self.interval = interval
        self.reactor = reactor
        self.bus = bus
        self.programs = programs
        self.sampler = sampler or UsageSampler(reactor.seconds, time.time)
        self.loop = LoopingCall(self.take)
        self.loop.clock = reactor
        self._latest: dict[str, ResourceUsage] = {}
        self._history: dict[str, SampleHistory] = {}

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        if self.interval > 0:
            self.loop.start(self.interval, now=True).addErrback(
                lambda failure: log.failure("resource sampling stopped", failure)
            )

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        if self.loop.running:
            self.loop.stop()

    def take(self) -> Deferred[None]:
        """Read ``/proc`` in a thread, then measure, keep and publish on the reactor."""
        pool = self.reactor.getThreadPool()
        reading: Deferred[Reading] = deferToThreadPool(self.reactor, pool, self.sampler.read)
        return reading.addCallback(self.measure)

    def measure(self, reading: Reading) -> None:
        """One sample of every program from ``reading``, kept and published."""
        programs = self.programs()
        usage = self.sampler.sample(programs, reading)
        self._latest = usage
        for gone in set(self._history) - {p.namespec for p in programs}:
            del self._history[gone]
        for namespec, sample in usage.items():
            history = self._history.get(namespec)
            if history is None:
                history = self._history[namespec] = SampleHistory()
            history.append(sample)
        self.bus.publish(ResourcesSampled(usage=usage))

    def latest(self) -> Mapping[str, ResourceUsage]:
        """The last sample of every program that was running then."""
        return self._latest

    def history(self, namespec: str) -> Sequence[ResourceUsage]:
        """A program's recent samples, oldest first."""
        history = self._history.get(namespec)
        return history.samples() if history is not None else ()
