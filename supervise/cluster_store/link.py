"""The connection to Redis: the only module that imports txredisapi.

A RedisLink keeps one connection for commands (pipelined by txredisapi) and hands out
dedicated ones for blocking reads. It never gives up: when Redis goes away it says so
once, retries with capped exponential backoff (asking the Sentinels for the primary each
time, when there are Sentinels), and says so once again when Redis is back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import txredisapi
from twisted.internet import ssl
from twisted.internet.defer import Deferred, ensureDeferred, fail
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from supervise.config.model import RedisAddress

log = Logger()

BACKOFF_FIRST = 0.5
BACKOFF_CAP = 10.0
CONNECT_TIMEOUT = 5


class RedisDown(Exception):
    """Redis cannot be reached now; the link is retrying."""


def _tls(address: RedisAddress, host: str) -> Any:
    if not address.tls:
        return None
    if address.tls_ca is None:
        return ssl.optionsForClientTLS(host)
    with open(address.tls_ca, "rb") as handle:
        authority = ssl.Certificate.loadPEM(handle.read())
    return ssl.optionsForClientTLS(host, trustRoot=authority)


async def connect(address: RedisAddress, host: str, port: int) -> Any:
    """One txredisapi connection that does not reconnect by itself (we do)."""
    return await txredisapi.Connection(
        host,
        port,
        dbid=address.db,
        reconnect=False,
        password=address.password,
        username=address.username,
        ssl_context_factory=_tls(address, host) or False,
        connectTimeout=CONNECT_TIMEOUT,
        replyTimeout=None,
        convertNumbers=False,
    )


async def primary(address: RedisAddress) -> tuple[str, int]:
    """The address of the Redis primary: from the Sentinels when there are any."""
    if not address.sentinels:
        return address.host, address.port
    problems = []
    for host, port in address.sentinels:
        try:
            sentinel = await txredisapi.Connection(
                host, port, reconnect=False, connectTimeout=CONNECT_TIMEOUT, convertNumbers=False
            )
        except Exception as problem:
            problems.append(f"{host}:{port}: {problem}")
            continue
        try:
            found = await sentinel.execute_command(
                "SENTINEL", "get-master-addr-by-name", address.sentinel_service
            )
        except Exception as problem:
            problems.append(f"{host}:{port}: {problem}")
            continue
        finally:
            sentinel.disconnect()
        if found:
            return str(found[0]), int(found[1])
        problems.append(f"{host}:{port}: does not know {address.sentinel_service!r}")
    raise RedisDown("no Sentinel answered: " + "; ".join(problems))


class RedisLink:
    """Commands to Redis, and the news of its coming and going.

    :ivar on_up: called (may return an awaitable) every time the link is (re)established.
    :ivar on_down: called once per outage with the reason.
    :ivar announce: write the outage and return lines to the main log (a second link of
        the same daemon keeps quiet: one line per outage).
    """

    def __init__(
        self,
        address: RedisAddress,
        reactor: Any,
        on_up: Callable[[], Awaitable[None] | None],
        on_down: Callable[[str], None],
        announce: bool = True,
    ) -> None:
        self.address = address
        self.announce = announce
        self.reactor = reactor
        self.on_up = on_up
        self.on_down = on_down
        self.commands: Any = None
        self.extra: list[Any] = []
        self.up = False
        self.delay = BACKOFF_FIRST
        self.stopped = False
        self.host_port: tuple[str, int] | None = None
        self._retry: IDelayedCall | None = None
        self._said_down = False
        self._connecting = False

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Connect now, and keep connecting."""
        self.stopped = False
        self._attempt()

    def stop(self) -> None:
        """Disconnect for good (quietly: this is no outage)."""
        self.stopped = True
        self.up = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._close()

    def _attempt(self) -> None:
        self._retry = None
        if self.stopped or self._connecting:
            return
        self._connecting = True
        ensureDeferred(self._connect()).addErrback(
            lambda f: log.failure("cluster: connecting to Redis failed unexpectedly", f)
        )

    async def _connect(self) -> None:
        try:
            host, port = await primary(self.address)
            connection = await connect(self.address, host, port)
            if self.address.sentinels:
                role = await connection.execute_command("ROLE")
                if not role or role[0] != "master":
                    connection.disconnect()
                    raise RedisDown(f"{host}:{port} is not the primary (yet)")
        except Exception as problem:
            self._connecting = False
            self._went_down(_reason(problem))
            return
        self._connecting = False
        if self.stopped:
            connection.disconnect()
            return
        self.commands = connection
        self.host_port = (host, port)
        self.up = True
        self.delay = BACKOFF_FIRST
        if not self.announce:
            pass
        elif self._said_down:
            log.info("cluster: Redis is back at {where}", where=self.describe())
        else:
            log.info("cluster: connected to Redis at {where}", where=self.describe())
        self._said_down = False
        try:
            result = self.on_up()
            if result is not None:
                await result
        except Exception as problem:
            self.lost(problem)

    def describe(self) -> str:
        """Where Redis is, without credentials."""
        if self.host_port is not None and self.address.sentinels:
            return f"{self.host_port[0]}:{self.host_port[1]} (via {self.address.describe()})"
        return self.address.describe()

    def lost(self, problem: object) -> None:
        """A command or a blocking read failed for want of Redis: reconnect."""
        if not self.up or self.stopped:
            return
        self.up = False
        self._close()
        self._went_down(_reason(problem))

    def _went_down(self, reason: str) -> None:
        if not self._said_down:
            self._said_down = True
            if self.announce:
                log.warn(
                    "cluster: Redis at {where} is unreachable ({reason}); programs keep running, "
                    "retrying",
                    where=self.address.describe(),
                    reason=reason,
                )
            self.on_down(reason)
        if not self.stopped and self._retry is None:
            self._retry = self.reactor.callLater(self.delay, self._attempt)
            self.delay = min(BACKOFF_CAP, self.delay * 2)

    def _close(self) -> None:
        for connection in [self.commands, *self.extra]:
            if connection is not None:
                try:
                    connection.disconnect()
                except Exception:
                    pass
        self.commands = None
        self.extra = []

    # -- commands ----------------------------------------------------------------

    def execute(self, *args: object) -> Deferred[Any]:
        """Run one command; RedisDown while the link is down (and the link notices loss)."""
        if not self.up or self.commands is None:
            return fail(RedisDown("Redis is unreachable"))
        done: Deferred[Any] = self.commands.execute_command(*args)

        def check(failure: Any) -> Any:
            if failure.check(txredisapi.ConnectionError):
                self.lost(failure.value)
                raise RedisDown(str(failure.value))
            return failure

        return done.addErrback(check)

    async def dedicated(self) -> Any:
        """A connection of its own, for a blocking read; closed with the link."""
        if not self.up or self.host_port is None:
            raise RedisDown("Redis is unreachable")
        connection = await connect(self.address, *self.host_port)
        self.extra.append(connection)
        return connection

    def forget(self, connection: Any) -> None:
        """Close a dedicated connection."""
        if connection in self.extra:
            self.extra.remove(connection)
        try:
            connection.disconnect()
        except Exception:
            pass


def is_connection_error(problem: object) -> bool:
    """True for failures that mean Redis went away."""
    return isinstance(problem, RedisDown | txredisapi.ConnectionError | ConnectionError)


def is_reply_error(problem: object) -> bool:
    """True for an error answer from Redis (WRONGTYPE, NOGROUP, a script error …)."""
    return isinstance(problem, txredisapi.ResponseError)


def _reason(problem: object) -> str:
    value = getattr(problem, "value", problem)
    text = str(value).strip() or type(value).__name__
    return text.splitlines()[0][:200]
