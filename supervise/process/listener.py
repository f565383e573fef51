"""One event listener's side of the protocol: what it writes on stdout (SUPERVISOR.md §7.2).

States are supervisord's, as an Automat machine like the process's: ACKNOWLEDGED at
spawn, READY after ``READY\\n``, BUSY while an event is out (BUSY's data: that event and
the result read so far), back to ACKNOWLEDGED after ``RESULT <n>\\n`` and n bytes;
anything else is UNKNOWN, which gets no more events until the listener is restarted.
Bytes are buffered by the channel; each state parses what it expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from attrs import define, field, frozen
from automat import TypeMachineBuilder, pep614
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


class ListenerInputs(Protocol):
    """What can happen to a listener channel; each is one machine input."""

    def parse(self) -> None:
        """Bytes are buffered: consume what this state expects."""

    def ready(self) -> None:
        """The listener wrote ``READY``."""

    def sent(self, event: Queued) -> None:
        """An event was written to the listener."""

    def result(self, payload: bytes) -> None:
        """The listener wrote a whole ``RESULT``."""

    def processed(self) -> None:
        """The result handler accepted the event."""

    def rejected(self) -> None:
        """The result handler rejected the event (back to the pool's buffer)."""

    def failed(self) -> None:
        """The result handler raised: the listener is broken."""

    def violated(self, why: str) -> None:
        """The listener broke the protocol."""

    def died(self) -> None:
        """The listener process ended (or a new one starts)."""


class ListenerCore(Protocol):
    """What the machine needs of its channel."""

    name: str
    buffer: bytes
    handler: Callable[[Event, bytes], None]
    on_ready: Callable[[], None]
    on_rejected: Callable[[Queued], None]

    def record(self, state: ListenerState, event: Queued | None = None) -> None:
        """Record the protocol state (and the event out, while BUSY)."""


@define(eq=False)
class Busy:
    """BUSY's data: the event out and the result read so far."""

    event: Queued
    length: int | None = None
    result: bytes = b""


def _busy(c: ListenerInputs, s: ListenerCore, event: Queued) -> Busy:
    s.record(ListenerState.BUSY, event)
    return Busy(event)


builder = TypeMachineBuilder(ListenerInputs, ListenerCore)  # type: ignore[type-abstract]
Acknowledged = builder.state("ACKNOWLEDGED")
Ready = builder.state("READY")
Busy_ = builder.state("BUSY", _busy)
Unknown = builder.state("UNKNOWN")


@pep614(Acknowledged.upon(ListenerInputs.parse).loop())
def expect_ready(c: ListenerInputs, s: ListenerCore) -> None:
    if len(s.buffer) < len(READY_TOKEN):
        return
    if not s.buffer.startswith(READY_TOKEN):
        c.violated("ACKNOWLEDGED -> UNKNOWN (expected READY)")
        return
    s.buffer = s.buffer[len(READY_TOKEN) :]
    c.ready()
    c.parse()


@pep614(Acknowledged.upon(ListenerInputs.ready).to(Ready))
def became_ready(c: ListenerInputs, s: ListenerCore) -> None:
    # The pool hears of it once the machine has settled (ListenerChannel.feed): a
    # dispatch from inside this transition would be queued behind it.
    s.record(ListenerState.READY)


@pep614(Ready.upon(ListenerInputs.parse).loop())
def expect_nothing(c: ListenerInputs, s: ListenerCore) -> None:
    if s.buffer:
        c.violated("READY -> UNKNOWN (unexpected output)")


@pep614(Ready.upon(ListenerInputs.sent).to(Busy_))
def event_out(c: ListenerInputs, s: ListenerCore, event: Queued) -> None:
    """BUSY's factory recorded it."""


@pep614(Busy_.upon(ListenerInputs.parse).loop())
def expect_result(c: ListenerInputs, s: ListenerCore, busy: Busy) -> None:
    if busy.length is None:
        end = s.buffer.find(b"\n")
        if end < 0:
            if len(s.buffer) > MAX_RESULT_LINE:
                c.violated("a result line longer than 1 KiB")
            return
        line, s.buffer = s.buffer[:end], s.buffer[end + 1 :]
        try:
            length = int(line[len(RESULT_TOKEN) :])
            if not line.startswith(RESULT_TOKEN) or length < 0:
                raise ValueError(line)
        except ValueError:
            c.violated(f"bad result line: {line.decode('utf-8', 'replace')!r}")
            return
        if length > MAX_RESULT:
            c.violated(f"a result of {length} bytes (over 1 MiB)")
            return
        busy.length = length
    needed = busy.length - len(busy.result)
    busy.result += s.buffer[:needed]
    s.buffer = s.buffer[needed:]
    if len(busy.result) == busy.length:
        c.result(busy.result)
        c.parse()


@pep614(Busy_.upon(ListenerInputs.result).loop())
def handle_result(c: ListenerInputs, s: ListenerCore, busy: Busy, payload: bytes) -> None:
    try:
        s.handler(busy.event.event, payload)
    except Exception as error:
        if type(error).__name__ == "RejectEvent":
            c.rejected()
        else:
            c.failed()
        return
    c.processed()


@pep614(Busy_.upon(ListenerInputs.processed).to(Acknowledged))
def processed(c: ListenerInputs, s: ListenerCore, busy: Busy) -> None:
    log.debug("{name}: event was processed", name=s.name)
    s.record(ListenerState.ACKNOWLEDGED)


@pep614(Busy_.upon(ListenerInputs.rejected).to(Acknowledged))
def rejected(c: ListenerInputs, s: ListenerCore, busy: Busy) -> None:
    log.warn("{name}: event was rejected", name=s.name)
    s.record(ListenerState.ACKNOWLEDGED)
    s.on_rejected(busy.event)


@pep614(Busy_.upon(ListenerInputs.failed).to(Unknown))
def failed(c: ListenerInputs, s: ListenerCore, busy: Busy) -> None:
    log.warn("{name}: event caused an error", name=s.name)
    s.record(ListenerState.UNKNOWN)
    s.on_rejected(busy.event)


def _enter_unknown(s: ListenerCore, why: str) -> None:
    log.warn("{name}: {why}", name=s.name, why=why)
    log.warn(
        "{name}: has entered the UNKNOWN state and will no longer receive events, this "
        "usually indicates the process violated the eventlistener protocol",
        name=s.name,
    )
    s.buffer = b""
    s.record(ListenerState.UNKNOWN)


@pep614(Acknowledged.upon(ListenerInputs.violated).to(Unknown))
@pep614(Ready.upon(ListenerInputs.violated).to(Unknown))
def violated(c: ListenerInputs, s: ListenerCore, why: str) -> None:
    _enter_unknown(s, why)


@pep614(Busy_.upon(ListenerInputs.violated).to(Unknown))
def violated_busy(c: ListenerInputs, s: ListenerCore, busy: Busy, why: str) -> None:
    _enter_unknown(s, why)
    s.on_rejected(busy.event)


@pep614(Unknown.upon(ListenerInputs.parse).loop())
def ignore_output(c: ListenerInputs, s: ListenerCore) -> None:
    s.buffer = b""


@pep614(Acknowledged.upon(ListenerInputs.died).to(Acknowledged))
@pep614(Ready.upon(ListenerInputs.died).to(Acknowledged))
@pep614(Unknown.upon(ListenerInputs.died).to(Acknowledged))
def restarted(c: ListenerInputs, s: ListenerCore) -> None:
    s.buffer = b""
    s.record(ListenerState.ACKNOWLEDGED)


@pep614(Busy_.upon(ListenerInputs.died).to(Acknowledged))
def died_busy(c: ListenerInputs, s: ListenerCore, busy: Busy) -> None:
    s.buffer = b""
    s.record(ListenerState.ACKNOWLEDGED)
    s.on_rejected(busy.event)


ListenerMachine = builder.build()


@define(eq=False)
class ListenerChannel:
    """One listener's stdout: buffered bytes fed to its protocol machine.

    :ivar on_ready: called when the listener becomes READY (the pool may dispatch).
    :ivar on_rejected: called with an event the listener failed or rejected.
    :ivar state: the protocol state the machine last entered (a record).
    """

    name: str
    handler: Callable[[Event, bytes], None]
    on_ready: Callable[[], None]
    on_rejected: Callable[[Queued], None]
    state: ListenerState = field(default=ListenerState.ACKNOWLEDGED, init=False)
    event: Queued | None = field(default=None, init=False)
    buffer: bytes = field(default=b"", init=False)
    machine: ListenerInputs = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.machine = ListenerMachine(self)

    def record(self, state: ListenerState, event: Queued | None = None) -> None:
        """Record the protocol state (and the event out, while BUSY)."""
        self.state = state
        self.event = event

    def reset(self) -> None:
        """A new listener process: ACKNOWLEDGED with nothing pending."""
        self.machine.died()

    def died(self) -> None:
        """The listener process exited: an event it held goes back to the pool."""
        self.machine.died()

    def sent(self, event: Queued) -> None:
        """An event was written to the listener: it is BUSY with it."""
        self.machine.sent(event)

    def feed(self, data: bytes) -> None:
        """Take bytes the listener wrote on stdout; tell the pool if it became READY."""
        self.buffer += data
        before = self.state
        self.machine.parse()
        if self.state is ListenerState.READY and before is not ListenerState.READY:
            self.on_ready()
