"""The event-listener wire format: payloads and envelopes (SUPERVISOR.md §7.1, §7.2).

Payload texts are byte-for-byte supervisord's, so existing listeners (superlance's
crashmail, httpok, memmon …) parse them unchanged.
"""

from __future__ import annotations

from functools import singledispatch

from supervise.events.types import (
    Event,
    ProcessCommunicationEvent,
    ProcessGroupEvent,
    ProcessLogEvent,
    ProcessStateBackoff,
    ProcessStateEvent,
    ProcessStateExited,
    ProcessStateRunning,
    ProcessStateStarting,
    ProcessStateStopped,
    ProcessStateStopping,
    RemoteCommunicationEvent,
    SupervisorStateChangeEvent,
    TickEvent,
)

PROTOCOL_VERSION = "3.0"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"Undecodable: {data!r}"


@singledispatch
def payload(event: Event) -> str:
    """The payload text of ``event`` (events of our own have their fields as key:value)."""
    import attrs

    pairs = [
        f"{a.name}:{getattr(event, a.name)}"
        for a in attrs.fields(type(event))
        if a.name not in ("serial", "when")
    ]
    return " ".join(pairs)


@payload.register
def _state(event: ProcessStateEvent) -> str:
    pairs: list[tuple[str, object]] = [
        ("processname", event.process),
        ("groupname", event.group),
        ("from_state", event.from_state.name),
    ]
    if isinstance(event, ProcessStateStarting | ProcessStateBackoff):
        pairs.append(("tries", event.tries))
    elif isinstance(event, ProcessStateExited):
        pairs += [("expected", int(bool(event.expected))), ("pid", event.pid)]
    elif isinstance(event, ProcessStateRunning | ProcessStateStopping | ProcessStateStopped):
        pairs.append(("pid", event.pid))
    return " ".join(f"{key}:{value}" for key, value in pairs)


def _output(event: ProcessLogEvent | ProcessCommunicationEvent, channel: bool) -> str:
    head = f"processname:{event.process} groupname:{event.group} pid:{event.pid}"
    if channel:
        head += f" channel:{event.channel}"
    return f"{head}\n{_text(event.data)}"


@payload.register
def _log(event: ProcessLogEvent) -> str:
    return _output(event, channel=True)


@payload.register
def _communication(event: ProcessCommunicationEvent) -> str:
    return _output(event, channel=False)


@payload.register
def _remote(event: RemoteCommunicationEvent) -> str:
    return f"type:{event.kind}\n{event.data}"


@payload.register
def _supervisor(event: SupervisorStateChangeEvent) -> str:
    return ""


@payload.register
def _tick(event: TickEvent) -> str:
    return f"when:{event.boundary}"


@payload.register
def _group(event: ProcessGroupEvent) -> str:
    return f"groupname:{event.group}\n"


def envelope(event: Event, identifier: str, serial: int, pool: str, pool_serial: int) -> bytes:
    """Header line plus payload, as written to a listener's stdin.

    ``len`` counts characters, not bytes, exactly as supervisord does (§10 #15).
    """
    body = payload(event)
    header = (
        f"ver:{PROTOCOL_VERSION} server:{identifier} serial:{serial} pool:{pool} "
        f"poolserial:{pool_serial} eventname:{event.type_name} len:{len(body)}\n"
    )
    return (header + body).encode("utf-8")
