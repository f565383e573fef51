"""The daemon's exit status: a program that ends the daemon (``critical``,
``exit_when_done``) gives its status to the daemon's own exit.

SUPERVISE_DAEMON_EXITING on the bus starts the ordered shutdown (as SIGTERM does). twistd
always exits 0 once its reactor stops, so a non-zero status is applied at the very end
of the interpreter's life, after twistd's own clean-up (pidfile, log observers).
"""

from __future__ import annotations

import atexit
import os
import sys

from twisted.application.service import Service

from supervise.daemon.control import DaemonControl
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import DaemonExiting, Event


def exit_now(status: int) -> None:
    """End the interpreter with ``status``, output flushed (an ``atexit`` hook)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


class ExitStatusService(Service):
    """Hears SUPERVISE_DAEMON_EXITING: stops the daemon, and exits with the event's status.

    :ivar status: the status the daemon exits with (None: twistd's own, 0).
    """

    def __init__(self, bus: EventBus, control: DaemonControl) -> None:
        self.bus = bus
        self.control = control
        self.status: int | None = None

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        self.bus.subscribe(CallbackListener("exit-status", (DaemonExiting,), self.exiting))

    def exiting(self, event: Event) -> None:
        """A program ended the daemon: keep its status, and shut down."""
        assert isinstance(event, DaemonExiting)
        if self.status is not None or self.control.stopping:
            return
        self.status = event.status
        if event.status:
            atexit.register(exit_now, event.status)
        self.control.request_shutdown()
