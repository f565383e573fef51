"""The consoles' HTTP JSON API answers as its OpenAPI document says (issue 19 item 2):
live answers of a node console and a cluster console (real redis-server, two nodes)
validated against ``/api/openapi.json``."""

from __future__ import annotations

import base64
import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.redis_server import RedisServer
from tests.e2e.test_cluster import DEFS, Node, definitions, supervisectl
from tests.http.openapi_check import ApiDocument

pytestmark = pytest.mark.e2e


class Client:
    def __init__(self, port: int, user: str | None = None) -> None:
        self.port = port
        self.headers = {}
        if user is not None:
            self.headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()

    def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        payload = json.dumps(body).encode() if body is not None else None
        sent = {**self.headers, **{k.replace("_", "-"): v for k, v in headers.items()}}
        if payload is not None:
            sent.setdefault("content-type", "application/json")
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def token(self, page: str) -> str:
        _status, _headers, html = self.call("GET", page)
        found = re.search(rb'name="supervise-token" content="([^"]+)"', html)
        assert found is not None
        return found.group(1).decode()

    def events(self, path: str, count: int) -> Iterator[tuple[str, Any]]:
        """The first ``count`` Server-Sent Events of ``path`` (name, data)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path, headers=self.headers)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("supervise-api-version")
        buffer = b""
        seen = 0
        while seen < count:
            chunk = response.read1(65536)
            assert chunk, "the stream ended"
            buffer += chunk
            while b"\n\n" in buffer and seen < count:
                block, buffer = buffer.split(b"\n\n", 1)
                fields = dict(
                    line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
                )
                if "event" in fields:
                    seen += 1
                    yield fields["event"], json.loads(fields["data"])
        connection.close()


def test_live_answers_of_both_consoles_match_the_openapi_document(
    tmp_path: Path, redis: RedisServer
) -> None:
    port = free_port()
    n1 = Node(
        tmp_path / "n1", "n1", redis, "console = true\nviewers = vera:look\noperators = otto:act"
    )
    n2 = Node(tmp_path / "n2", "n2", redis)
    try:
        n1.begin(labels="web", local=f"[inet_http_server]\nport = 127.0.0.1:{port}\n")
        n2.begin(labels="web")
        assert supervisectl(n1, "cluster", "push", str(definitions(tmp_path, DEFS))).returncode == 0
        wait_until(lambda: n2.names() == {"api", "everywhere"})
        wait_until(lambda: n1.info("api")["statename"] == "RUNNING")
        node = Client(port)
        status, headers, body = node.call("GET", "/api/openapi.json")
        assert status == 200 and headers["content-type"] == "application/json"
        api = ApiDocument(json.loads(body))
        version = api.document["info"]["version"]
        assert headers["supervise-api-version"] == version
        # The node console: status, the event stream, actions and their refusals.
        status, headers, body = node.call("GET", "/api/status")
        api.answer("/api/status", "get", status, json.loads(body))
        assert headers["supervise-api-version"] == version
        assert {row["name"] for row in json.loads(body)["processes"]} == {"api", "everywhere"}
        stream = node.events("/api/events", 20)
        name, data = next(stream)
        assert name == "snapshot"
        api.event("/api/events", name, data)
        token = node.token("/")
        status, headers, body = node.call(
            "POST", "/api/action", {"action": "restart", "names": ["api"]}, x_supervise_token=token
        )
        api.answer("/api/action", "post", status, json.loads(body))
        assert status == 200 and json.loads(body)["results"][0]["ok"] is True
        for name, data in stream:  # what the restart changed (snapshots are valid too)
            api.event("/api/events", name, data)
            if name == "update":
                break
        else:
            raise AssertionError("no update event")
        refusals = [
            ({"action": "restart", "names": ["api"]}, {}, 403),
            ({"action": "explode", "names": ["api"]}, {"x_supervise_token": token}, 400),
        ]
        for request, extra, expected in refusals:
            status, headers, body = node.call("POST", "/api/action", request, **extra)
            assert status == expected
            api.answer("/api/action", "post", status, json.loads(body))
        status, _headers, body = node.call(
            "POST", "/api/action", None, x_supervise_token=token, content_type="text/plain"
        )
        api.answer("/api/action", "post", status, json.loads(body))
        assert status == 415
        # The cluster console: an operator's status, stream and actions; a viewer's 403.
        otto, vera = Client(port, "otto:act"), Client(port, "vera:look")
        status, headers, body = otto.call("GET", "/cluster/api/status")
        api.answer("/cluster/api/status", "get", status, json.loads(body))
        assert headers["supervise-api-version"] == version
        wait_until(
            lambda: len(json.loads(otto.call("GET", "/cluster/api/status")[2])["nodes"]) == 2
        )
        name, data = next(otto.events("/cluster/api/events", 1))
        api.event("/cluster/api/events", name, data)
        assert {row["key"] for row in data["processes"]} >= {"n1/api", "n2/api"}
        request = {"action": "restart", "targets": [{"node": "n2", "names": ["api"]}]}
        api.request("/cluster/api/action", request)
        cluster_token = otto.token("/cluster/")
        status, headers, body = otto.call(
            "POST", "/cluster/api/action", request, x_supervise_token=cluster_token
        )
        api.answer("/cluster/api/action", "post", status, json.loads(body))
        assert json.loads(body)["results"] == [
            {"name": "api", "ok": True, "error": "", "node": "n2"}
        ]
        status, headers, body = vera.call(
            "POST", "/cluster/api/action", request, x_supervise_token=vera.token("/cluster/")
        )
        assert status == 403
        api.answer("/cluster/api/action", "post", status, json.loads(body))
        status, _headers, body = otto.call("GET", "/cluster/api/openapi.json")
        assert status == 200 and json.loads(body) == api.document
    finally:
        n1.close()
        n2.close()
