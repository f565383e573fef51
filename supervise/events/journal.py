"""The built-in listener that writes every event to ``twisted.logger`` with its fields.

Structured fields (``event_type``, ``serial``, ``group``, ``process``, ``from_state`` …)
let a JSON observer or the console read events from the log stream.
"""

from __future__ import annotations

from typing import Any

import attrs
from attrs import define
from twisted.logger import Logger
from zope.interface import implementer

from supervise.events.types import Event
from supervise.interfaces import IEventListener

log = Logger()


def event_fields(event: Event) -> dict[str, Any]:
    """An event's fields as plain values (states by name, bytes decoded)."""
    fields: dict[str, Any] = {}
    for attribute in attrs.fields(type(event)):
        value = getattr(event, attribute.name)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif hasattr(value, "name") and hasattr(value, "value"):
            value = value.name
        fields[attribute.name] = value
    return fields


@implementer(IEventListener)
@define(eq=False)
class EventJournal:
    """Logs every event at debug level as ``event <TYPE> #<serial>``."""

    name: str = "journal"
    event_types: tuple[type[Event], ...] = (Event,)
    max_pending: int = 1

    def notify(self, event: Event) -> None:
        """Write one log event carrying the event's fields."""
        fields = event_fields(event)
        fields.pop("serial", None)
        fields.pop("when", None)
        log.debug(
            "event {event_type} #{serial}",
            event_type=event.type_name,
            serial=event.serial,
            event_when=event.when,
            **{f"event_{key}": value for key, value in fields.items()},
        )
