"""The XML-RPC resource in memory: a core on a fake clock, requests rendered directly."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from attrs import define, field
from twisted.web.test.requesthelper import DummyRequest
from zope.interface import implementer

from supervise.interfaces import IDaemonControl
from supervise.rpc.registry import methods_of
from supervise.rpc.resource import XMLRPCResource
from supervise.rpc.supervise_ns import SuperviseNamespace
from supervise.rpc.supervisor_ns import state_check, supervisor_methods
from supervise.rpc.system_ns import SystemNamespace
from supervise.testing import Harness
from tests.control.conftest import Core

NOW = 1_700_000_000.0


@implementer(IDaemonControl)
@define(eq=False)
class FakeDaemon:
    """The daemon as the namespaces see it, recording what they asked of it."""

    main_log: str | None
    asked: list[str] = field(factory=list)

    def pid(self) -> int:
        return 4242

    def identifier(self) -> str:
        return "test"

    def main_log_path(self) -> str | None:
        return self.main_log

    def clear_main_log(self) -> None:
        assert self.main_log is not None
        Path(self.main_log).write_bytes(b"")

    def request_shutdown(self) -> None:
        self.asked.append("shutdown")

    def request_restart(self) -> None:
        self.asked.append("restart")

    def request_reexec(self) -> None:
        self.asked.append("reexec")

    def reopen_logs(self) -> None:
        self.asked.append("reopen")

    def daemon_info(self) -> Mapping[str, Any]:
        return {"identification": "test", "pid": 4242}


@define(eq=False)
class Server:
    """supervisord's XML-RPC namespaces over a core, rendered in memory."""

    core: Core
    daemon: FakeDaemon
    resource: XMLRPCResource

    def post(self, body: bytes) -> tuple[int, bytes]:
        """One POST /RPC2 with ``body``; the status and the answer once it finished."""
        request = DummyRequest([b"RPC2"])
        request.method = b"POST"
        request.content = BytesIO(body)
        request.requestHeaders.setRawHeaders(b"content-length", [str(len(body)).encode()])
        self.resource.render(request)
        self.core.harness.clock.advance(0)
        assert request.finished, "no answer yet"
        return request.responseCode or 200, b"".join(request.written)

    def call(self, method: str, *params: Any) -> Any:
        """The value a call answers, or the ``xmlrpc.client.Fault`` it raises."""
        status, answer = self.post(xmlrpc.client.dumps(params, method).encode())
        assert status == 200, answer
        try:
            return xmlrpc.client.loads(answer)[0][0]
        except xmlrpc.client.Fault as fault:
            return fault

    def start_call(self, method: str, *params: Any) -> DummyRequest:
        """A call left pending (a wait): finish it by advancing the clock."""
        body = xmlrpc.client.dumps(params, method).encode()
        request = DummyRequest([b"RPC2"])
        request.method = b"POST"
        request.content = BytesIO(body)
        request.requestHeaders.setRawHeaders(b"content-length", [str(len(body)).encode()])
        self.resource.render(request)
        return request


def answer_of(request: DummyRequest) -> Any:
    """The value (or Fault) of a finished pending call."""
    assert request.finished, "no answer yet"
    try:
        return xmlrpc.client.loads(b"".join(request.written))[0][0]
    except xmlrpc.client.Fault as fault:
        return fault


@pytest.fixture
def serve(tmp_path: Path) -> Any:
    """``serve(config_body)``: the namespaces over a core started on that config."""

    def make(body: str) -> Server:
        core = Core(tmp_path, Harness(str(tmp_path)))
        control = core.start(body)
        daemon = FakeDaemon(str(tmp_path / "main.log"))
        methods = supervisor_methods(control, daemon, lambda: NOW)
        clock = core.harness.clock
        methods.update(
            methods_of("supervise", SuperviseNamespace(control, clock, lambda: NOW, daemon))
        )
        system = SystemNamespace()
        methods.update(methods_of("system", system))
        system.methods = methods
        rpc = XMLRPCResource(methods, state_check(control))
        system.dispatch = rpc.dispatch
        return Server(core, daemon, rpc)

    return make
