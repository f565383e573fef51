"""What plugin authors import: a base class with do-nothing defaults, and the event types.

    from supervise.plugin import Plugin, listener
    from supervise.events.types import ProcessStateExited

    class Crashes(Plugin):
        def configure(self, options, context):
            self.context = context
        def listeners(self):
            return [listener("crashes", (ProcessStateExited,), self.on_exit)]
        def on_exit(self, event):
            if not event.expected:
                self.context.log.warn("{process} crashed", process=event.process)

See docs/plugins.md for the whole story.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from attrs import frozen
from zope.interface import implementer

from supervise.events.bus import CallbackListener
from supervise.events.journal import event_fields
from supervise.events.types import EVENT_TYPES_BY_NAME, Event
from supervise.events.wire import payload
from supervise.interfaces import IEventListener, ISupervisorPlugin

__all__ = ["EventFilter", "Plugin", "event_fields", "listener", "payload"]


@implementer(ISupervisorPlugin)
class Plugin:
    """Base class: override what your plugin provides."""

    def configure(self, options: Mapping[str, str], context: Any) -> None:
        """Keep the options; raise ValueError("option: problem") to refuse them."""

    def listeners(self) -> Iterable[IEventListener]:
        """Nothing to listen to by default."""
        return ()

    def resources(self) -> Mapping[bytes, Any]:
        """No HTTP resources by default."""
        return {}

    def rpc_namespaces(self) -> Mapping[str, object]:
        """No XML-RPC namespaces by default."""
        return {}

    def services(self) -> Iterable[Any]:
        """No services by default."""
        return ()


def listener(
    name: str,
    event_types: tuple[type[Event], ...],
    callback: Callable[[Event], object],
    max_pending: int = 1000,
) -> IEventListener:
    """A listener calling ``callback`` for each event; a returned Deferred holds the next
    event back, and at most ``max_pending`` wait (the oldest are dropped and reported)."""
    return CallbackListener(name, event_types, callback, max_pending)


@frozen
class EventFilter:
    """Which events a notifier wants: event type names and program name globs.

    Built from a section's ``events = PROCESS_STATE_EXITED, PROCESS_STATE_FATAL`` and
    ``programs = web-*, db`` options (defaults: ``PROCESS_STATE`` and every program).
    """

    types: tuple[type[Event], ...]
    programs: tuple[str, ...] = ("*",)

    @classmethod
    def from_options(
        cls, options: Mapping[str, str], default_events: str = "PROCESS_STATE"
    ) -> EventFilter:
        """Parse the options; ValueError names a bad event type."""
        names = [
            n.strip().upper() for n in options.get("events", default_events).split(",") if n.strip()
        ]
        types = []
        for name in names:
            if name not in EVENT_TYPES_BY_NAME:
                raise ValueError(f"events: unknown event type {name}")
            types.append(EVENT_TYPES_BY_NAME[name])
        programs = tuple(
            p.strip() for p in options.get("programs", "*").split(",") if p.strip()
        ) or ("*",)
        return cls(tuple(types), programs)

    def wants(self, event: Event) -> bool:
        """True for an event of a wanted type about a wanted program (or about no program)."""
        if not isinstance(event, self.types):
            return False
        process = getattr(event, "process", None)
        group = getattr(event, "group", None)
        if process is None:
            return True
        names = {str(process), f"{group}:{process}"}
        return any(fnmatch.fnmatchcase(name, glob) for name in names for glob in self.programs)
