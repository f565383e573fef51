"""The daemon's live event stream (``/api/events``, the console's), read by a client:
Server-Sent Events over any supervisectl transport (``unix://``, ``http://``, ``https://``)."""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

from supervise.ctl.client import Connection


def parse(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """``(event name, decoded JSON data)`` for each event in a stream's lines."""
    name, data = "message", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", list[str]()
        elif line.startswith("event:"):
            name = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :].lstrip(" "))
        # ``retry:``, ``id:`` and comments need nothing here.


def events(connection: Connection, timeout: float | None = None) -> Iterator[tuple[str, Any]]:
    """Open ``/api/events`` and yield its events until the daemon closes the stream.

    Raises ``xmlrpc.client.ProtocolError`` for an HTTP error (401: credentials) and
    ``OSError`` when the daemon cannot be reached.
    """
    http = connection.http(timeout)
    try:
        headers = connection.headers()
        headers["Accept"] = "text/event-stream"
        http.request("GET", "/api/events", headers=headers)
        response = http.getresponse()
        if response.status != 200:
            raise xmlrpc.client.ProtocolError(connection.url, response.status, response.reason, {})
        lines = (raw.decode("utf-8").rstrip("\r\n") for raw in iter(response.readline, b""))
        yield from parse(lines)
    finally:
        http.close()
