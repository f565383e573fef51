"""Run a command for each lifecycle event, with the event in its environment.

    [plugin:command]
    command = /usr/local/bin/page-oncall
    events = PROCESS_STATE_FATAL, PROCESS_STATE_EXITED
    programs = web-*
    timeout = 30

The command runs through ``/bin/sh -c`` with ``SUPERVISE_EVENT`` (the type name),
``SUPERVISE_SERIAL``, ``SUPERVISE_PAYLOAD`` (supervisord's payload text) and one
``SUPERVISE_<FIELD>`` per event field (``SUPERVISE_PROCESS``, ``SUPERVISE_GROUP``,
``SUPERVISE_FROM_STATE``, ``SUPERVISE_PID`` …). Commands run one at a time, in event
order; while one runs, up to ``max_pending`` events wait.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue

from supervise.events.types import Event
from supervise.interfaces import IEventListener
from supervise.plugin import EventFilter, Plugin, event_fields, listener, payload


def event_environment(event: Event) -> dict[str, str]:
    """The variables describing ``event`` for the command."""
    env = {
        "SUPERVISE_EVENT": event.type_name,
        "SUPERVISE_SERIAL": str(event.serial),
        "SUPERVISE_PAYLOAD": payload(event),
    }
    for key, value in event_fields(event).items():
        env[f"SUPERVISE_{key.upper()}"] = "" if value is None else str(value)
    return env


class CommandNotifier(Plugin):
    """The ``command`` plugin."""

    def configure(self, options: Mapping[str, str], context: Any) -> None:
        if not options.get("command"):
            raise ValueError("command: required (the command to run for each event)")
        self.command = options["command"]
        self.filter = EventFilter.from_options(options)
        try:
            self.timeout = float(options.get("timeout", "30"))
            self.max_pending = int(options.get("max_pending", "100"))
        except ValueError as error:
            raise ValueError(f"timeout/max_pending: {error}") from None
        self.context = context

    def listeners(self) -> Iterable[IEventListener]:
        return [listener("command", self.filter.types, self.notify, self.max_pending)]

    def notify(self, event: Event) -> Deferred[None] | None:
        """Run the command for one wanted event; the next waits until it finishes."""
        if not self.filter.wants(event):
            return None
        env = {**os.environ, **event_environment(event)}
        running = getProcessOutputAndValue(
            "/bin/sh", ["-c", self.command], env=env, reactor=self.context.reactor
        )
        running.addTimeout(self.timeout, self.context.reactor)

        def finished(result: tuple[bytes, bytes, int]) -> None:
            _out, err, code = result
            if code != 0:
                self.context.log.warn(
                    "command for event {serial} exited {code}: {err}",
                    serial=event.serial,
                    code=code,
                    err=err.decode("utf-8", "replace").strip(),
                )

        def failed(failure: Any) -> None:
            self.context.log.error(
                "command for event {serial} failed: {why}",
                serial=event.serial,
                why=failure.getErrorMessage(),
            )

        return running.addCallbacks(finished, failed)
