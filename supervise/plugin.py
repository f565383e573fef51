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

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zope.interface import implementer

from supervise.events.bus import CallbackListener
from supervise.events.types import Event
from supervise.interfaces import IEventListener, ISupervisorPlugin

__all__ = ["Plugin", "listener"]


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
