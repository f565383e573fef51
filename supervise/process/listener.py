"""One event listener's side of the protocol: what it writes on stdout (SUPERVISOR.md §7.2).

States are supervisord's: ACKNOWLEDGED at spawn, READY after ``READY\\n``, BUSY while an
event is out, back to ACKNOWLEDGED after ``RESULT <n>\\n`` and n bytes; anything else is
UNKNOWN, which gets no more events until the listener is restarted.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import define, frozen
from twisted.logger import Logger

from supervise.events.types import Event
from supervise.states import ListenerState

log = Logger()

READY_TOKEN = b"READY\n"
RESULT_TOKEN = b"RESULT "
# Bounds on what a listener can make the daemon hold (a broken one is UNKNOWN instead).
MAX_RESULT_LINE = 1024
MAX_RESULT = 1024 * 1024


class RejectEvent(Exception):
    """Raised by a result handler to send the event back to the pool's buffer."""


@frozen
class Queued:
    """An event waiting in (or sent from) a pool, with its wire serials."""

    event: Event
    serial: int
    pool_serial: int


def default_handler(event: Event, response: bytes) -> None:
    """supervisord's default: ``OK`` accepts, anything else rejects."""
    if response != b"OK":
        raise RejectEvent(response)


@define(eq=False)
class ListenerChannel:
    """Parses one listener's stdout and tracks its protocol state.

    :ivar on_ready: called when the listener becomes READY (the pool may dispatch).
    :ivar on_rejected: called with an event the listener failed or rejected.
    """

    name: str
    handler: Callable[[Event, bytes], None]
    on_ready: Callable[[], None]
    on_rejected: Callable[[Queued], None]
    state: ListenerState = ListenerState.ACKNOWLEDGED
    event: Queued | None = None
    _buffer: bytes = b""
    _result_length: int | None = None
    _result: bytes = b""

    def reset(self) -> None:
        """A new listener process: ACKNOWLEDGED with nothing pending."""
        self.state = ListenerState.ACKNOWLEDGED
        self.event = None
        self._buffer = b""
        self._result_length = None
        self._result = b""

    def died(self) -> None:
        """The listener process exited: an event it held goes back to the pool."""
        if self.event is not None:
            event, self.event = self.event, None
            self.on_rejected(event)
        self.reset()

    def sent(self, event: Queued) -> None:
        """An event was written to the listener: it is BUSY with it."""
        self.state = ListenerState.BUSY
        self.event = event

    def feed(self, data: bytes) -> None:
        """Take bytes the listener wrote on stdout."""
        self._buffer += data
        while self._buffer and self._step():
            pass

    def _unknown(self, why: str) -> None:
        log.warn("{name}: {why}", name=self.name, why=why)
        log.warn(
            "{name}: has entered the UNKNOWN state and will no longer receive events, this "
            "usually indicates the process violated the eventlistener protocol",
            name=self.name,
        )
        self.state = ListenerState.UNKNOWN
        self._buffer = b""
        if self.event is not None:
            event, self.event = self.event, None
            self.on_rejected(event)

    def _step(self) -> bool:
        """Consume what can be decided now; False when more bytes are needed."""
        if self.state is ListenerState.UNKNOWN:
            self._buffer = b""
            return False
        if self.state is ListenerState.ACKNOWLEDGED:
            if len(self._buffer) < len(READY_TOKEN):
                return False
            if not self._buffer.startswith(READY_TOKEN):
                self._unknown("ACKNOWLEDGED -> UNKNOWN (expected READY)")
                return False
            self._buffer = self._buffer[len(READY_TOKEN) :]
            self.state = ListenerState.READY
            self.on_ready()
            return True
        if self.state is ListenerState.READY:
            self._unknown("READY -> UNKNOWN (unexpected output)")
            return False
        if self._result_length is None:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_RESULT_LINE:
                    self._unknown("a result line longer than 1 KiB")
                return False
            line, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            try:
                self._result_length = int(line[len(RESULT_TOKEN) :])
                if not line.startswith(RESULT_TOKEN) or self._result_length < 0:
                    raise ValueError(line)
                if self._result_length > MAX_RESULT:
                    length, self._result_length = self._result_length, None
                    self._unknown(f"a result of {length} bytes (over 1 MiB)")
                    return False
            except ValueError:
                self._result_length = None
                self._unknown(f"bad result line: {line.decode('utf-8', 'replace')!r}")
                return False
        needed = self._result_length - len(self._result)
        self._result += self._buffer[:needed]
        self._buffer = self._buffer[needed:]
        if len(self._result) < self._result_length:
            return False
        result, self._result, self._result_length = self._result, b"", None
        self._handle(result)
        return True

    def _handle(self, result: bytes) -> None:
        event, self.event = self.event, None
        assert event is not None
        try:
            self.handler(event.event, result)
        except Exception as error:
            if type(error).__name__ == "RejectEvent":
                log.warn("{name}: event was rejected", name=self.name)
                self.state = ListenerState.ACKNOWLEDGED
                self.on_rejected(event)
                return
            log.warn("{name}: event caused an error", name=self.name)
            self.state = ListenerState.UNKNOWN
            self.on_rejected(event)
            return
        log.debug("{name}: event was processed", name=self.name)
        self.state = ListenerState.ACKNOWLEDGED
