"""Talk to a daemon over ``unix://``, ``http://`` or ``https://`` URLs: XML-RPC calls and log streams."""

from __future__ import annotations

import base64
import http.client
import socket
import xmlrpc.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlparse

from supervise import __version__


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix-domain socket."""

    def __init__(self, path: str, timeout: float | None = None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class Connection:
    """One server URL with optional basic-auth credentials."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("unix", "http", "https"):
            raise ValueError(f"url must be http://, https:// or unix://, not {url!r}")
        self.url = url
        self.parsed = parsed
        self.username = username
        self.password = password

    def http(self, timeout: float | None = None) -> http.client.HTTPConnection:
        """A fresh HTTP connection to the server."""
        if self.parsed.scheme == "unix":
            return UnixHTTPConnection(self.parsed.path, timeout)
        if self.parsed.scheme == "https":
            # The system's trust store, or SSL_CERT_FILE for a private authority.
            return http.client.HTTPSConnection(
                self.parsed.hostname or "localhost", self.parsed.port or 9001, timeout=timeout
            )
        return http.client.HTTPConnection(
            self.parsed.hostname or "localhost", self.parsed.port or 9001, timeout=timeout
        )

    def headers(self) -> dict[str, str]:
        """Headers every request carries (basic auth when credentials are set)."""
        headers = {"Content-Type": "text/xml", "User-Agent": f"supervisectl/{__version__}"}
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def call(self, method: str, *params: Any) -> Any:
        """Make one XML-RPC call; raise xmlrpc.client.Fault or ProtocolError."""
        body = xmlrpc.client.dumps(params, method, allow_none=False)
        connection = self.http()
        try:
            connection.request("POST", "/RPC2", body=body.encode("utf-8"), headers=self.headers())
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise xmlrpc.client.ProtocolError(
                self.url, response.status, response.reason, dict(response.getheaders())
            )
        (result,), _ = xmlrpc.client.loads(data)
        return result

    def stream(self, path: str) -> Iterator[bytes]:
        """Yield chunks of an endless log stream (``/logtail/...``, ``/mainlogtail``)."""
        connection = self.http()
        connection.request("GET", quote(path), headers=self.headers())
        response = connection.getresponse()
        if response.status != 200:
            raise xmlrpc.client.ProtocolError(self.url, response.status, response.reason, {})
        try:
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    return
                yield chunk
        finally:
            connection.close()
