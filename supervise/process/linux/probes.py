"""IReadinessCheck providers: ``tcp:HOST:PORT``, ``http(s)://…`` and ``command:CMD``.

Parsed once from the config (``parse_check``); each ``check`` is one attempt that fires
True or False within its timeout and never fails. The retries and the deadline belong
to the core (``process/starting.py``, ``process/running.py``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from typing import Any

from attrs import frozen
from twisted.internet.defer import Deferred, ensureDeferred, succeed
from twisted.internet.protocol import Protocol
from zope.interface import implementer

from supervise.errors import ProcessGone
from supervise.interfaces import IChild, IChildProtocol, IProcessSpawner
from supervise.process.interfaces import IReadinessCheck
from supervise.process.linux.spawner import ReactorSpawner
from supervise.process.spec import ChildSetupError, SpawnSpec


def _bounded(attempt: Deferred[Any], timeout: float, reactor: Any) -> Deferred[bool]:
    attempt.addTimeout(timeout, reactor)
    return attempt.addErrback(lambda _: False)


@implementer(IReadinessCheck)
@frozen
class TcpCheck:
    """Ready when a TCP connection to HOST:PORT succeeds."""

    description: str
    host: str
    port: int
    reactor: Any

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """Connect once."""
        # Imported here: endpoints pulls in TLS (pyOpenSSL), megabytes few daemons need.
        from twisted.internet.endpoints import HostnameEndpoint, connectProtocol

        endpoint = HostnameEndpoint(self.reactor, self.host, self.port, timeout=timeout)
        attempt: Deferred[Any] = connectProtocol(endpoint, Protocol())
        attempt.addCallback(lambda proto: proto.transport.loseConnection() or True)
        return _bounded(attempt, timeout, self.reactor)


@implementer(IReadinessCheck)
@frozen
class HttpCheck:
    """Ready when a GET of the URL answers 2xx."""

    description: str
    reactor: Any

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """GET once."""
        return _bounded(ensureDeferred(self._get(timeout)), timeout, self.reactor)

    async def _get(self, timeout: float) -> bool:
        import treq

        response = await treq.get(self.description, timeout=timeout, reactor=self.reactor)
        await treq.content(response)
        return bool(200 <= response.code < 300)


@implementer(IReadinessCheck)
@frozen
class CommandCheck:
    """Ready when ``sh -c CMD`` exits 0 (in the program's environment).

    Spawned like a program (its own process group, by the daemon's spawner); a command
    still running at the timeout is killed with its whole group, so a hung probe never
    piles up beside the program.
    """

    description: str
    command: str
    reactor: Any
    spawner: IProcessSpawner

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """Run once."""
        probe = _CommandProbe()
        spec = SpawnSpec(
            filename="/bin/sh",
            argv=("/bin/sh", "-c", self.command),
            env=dict(env) or dict(os.environ),
            label=self.description,
        )
        try:
            probe.child = self.spawner.spawn(spec, probe)
        except (OSError, ChildSetupError):
            return succeed(False)
        probe.result.addTimeout(timeout, self.reactor)
        return probe.result.addErrback(lambda _: False)


@implementer(IChildProtocol)
class _CommandProbe:
    """One probe command: its exit code, or a kill of its group when cancelled."""

    def __init__(self) -> None:
        self.child: IChild | None = None
        self.result: Deferred[bool] = Deferred(lambda _: self._kill())

    def output(self, stream: str, data: bytes) -> None:
        """A probe's output is not kept."""

    def exited(self, status: int) -> None:
        """The command ended: exit 0 passes."""
        if not self.result.called:
            self.result.callback(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)

    def _kill(self) -> None:
        if self.child is not None:
            try:
                self.child.signal(signal.SIGKILL, True)
            except (ProcessGone, OSError):
                pass


@implementer(IReadinessCheck)
@frozen
class NeverReady:
    """A probe form this build does not know (config validation prevents it)."""

    description: str

    def check(self, env: Mapping[str, str], timeout: float) -> Deferred[bool]:
        """Always False."""
        return succeed(False)


def parse_check(spec: str, reactor: Any, spawner: IProcessSpawner | None = None) -> IReadinessCheck:
    """The check a ``ready``/``healthcheck`` value names (validated by config/extras.py);
    ``command:`` probes are started by ``spawner`` (a new one on ``reactor`` if None)."""
    if spec.startswith("tcp:"):
        host, _, port = spec[len("tcp:") :].rpartition(":")
        return TcpCheck(spec, host, int(port), reactor)
    if spec.startswith(("http://", "https://")):
        return HttpCheck(spec, reactor)
    if spec.startswith("command:"):
        if spawner is None:
            spawner = ReactorSpawner(reactor)
        return CommandCheck(spec, spec[len("command:") :], reactor, spawner)
    return NeverReady(spec)
