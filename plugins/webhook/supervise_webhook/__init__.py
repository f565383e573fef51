"""POST each lifecycle event as JSON to a webhook, with retries.

    [plugin:webhook]
    url = https://hooks.example.com/T000/B000/XXXX
    format = slack            ; or generic (the default)
    events = PROCESS_STATE_FATAL, PROCESS_STATE_EXITED
    programs = web-*, db
    retries = 5               ; attempts after the first
    backoff = 1               ; seconds before the first retry, doubling each time
    timeout = 10

``generic`` bodies are ``{"event", "serial", "when", "node", "fields", "payload"}``;
``slack`` bodies are ``{"text": "web: RUNNING → EXITED (exit status 1)"}``, which
Slack, Mattermost and most chat webhooks accept. Events are sent one at a time, in
order; a 2xx answer is success, anything else (or no answer) is retried.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping
from typing import Any

import treq
from twisted.internet.task import deferLater

from supervise.events.types import Event, ProcessStateEvent
from supervise.interfaces import IEventListener
from supervise.plugin import EventFilter, Plugin, event_fields, listener, payload


def generic_body(event: Event) -> dict[str, Any]:
    """The generic JSON body."""
    return {
        "event": event.type_name,
        "serial": event.serial,
        "when": event.when,
        "node": socket.gethostname(),
        "fields": event_fields(event),
        "payload": payload(event),
    }


def slack_body(event: Event) -> dict[str, Any]:
    """A one-line ``text`` message."""
    if isinstance(event, ProcessStateEvent):
        name = event.process if event.process == event.group else f"{event.group}:{event.process}"
        text = f"{name}: {event.from_state.name} → {event.state.name}"
        if event.expected is False:
            text += " (unexpected)"
    else:
        text = f"{event.type_name} {payload(event)}".strip()
    return {"text": f"[{socket.gethostname()}] {text}"}


class WebhookNotifier(Plugin):
    """The ``webhook`` plugin."""

    def configure(self, options: Mapping[str, str], context: Any) -> None:
        url = options.get("url", "")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url: an http:// or https:// URL is required, not {url!r}")
        self.url = url
        self.format = options.get("format", "generic")
        if self.format not in ("generic", "slack"):
            raise ValueError(f"format: generic or slack, not {self.format!r}")
        try:
            self.retries = int(options.get("retries", "5"))
            self.backoff = float(options.get("backoff", "1"))
            self.timeout = float(options.get("timeout", "10"))
            self.max_pending = int(options.get("max_pending", "1000"))
        except ValueError as error:
            raise ValueError(f"retries/backoff/timeout/max_pending: {error}") from None
        self.filter = EventFilter.from_options(options)
        self.context = context

    def listeners(self) -> Iterable[IEventListener]:
        return [listener("webhook", self.filter.types, self.notify, self.max_pending)]

    def notify(self, event: Event) -> Any:
        """Send one wanted event; the next waits until it is delivered or given up."""
        if not self.filter.wants(event):
            return None
        body = slack_body(event) if self.format == "slack" else generic_body(event)
        from twisted.internet.defer import ensureDeferred

        return ensureDeferred(self._send(event, json.dumps(body).encode()))

    async def _send(self, event: Event, data: bytes) -> None:
        reactor = self.context.reactor
        for attempt in range(self.retries + 1):
            try:
                response = await treq.post(
                    self.url,
                    data=data,
                    headers={b"Content-Type": [b"application/json"]},
                    timeout=self.timeout,
                    reactor=reactor,
                )
                await treq.content(response)
                if 200 <= response.code < 300:
                    return
                why = f"HTTP {response.code}"
            except Exception as error:
                why = f"{type(error).__name__}: {error}"
            if attempt < self.retries:
                delay = self.backoff * 2**attempt
                self.context.log.warn(
                    "webhook for event {serial} failed ({why}); retry {n} in {delay}s",
                    serial=event.serial, why=why, n=attempt + 1, delay=delay,
                )  # fmt: skip
                await deferLater(reactor, delay, lambda: None)
        self.context.log.error(
            "webhook for event {serial} given up after {n} attempts ({why})",
            serial=event.serial, n=self.retries + 1, why=why,
        )  # fmt: skip
