"""The XML-RPC endpoint answers anything with a Fault or an HTTP 4xx, and nothing changes.

A real daemon; Hypothesis writes request bodies: random method names and real ones with
wrong arguments, every XML-RPC type nested deep, huge strings, invalid UTF-8 and XML,
entity tricks (billion laughs, external entities), lies in Content-Length. After each,
the daemon must still answer and its program must still run with the same pid.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import RunningDaemon
from tests.e2e.conftest import ROOT
from tests.reliability.conftest import CASES, scale

pytestmark = pytest.mark.e2e

KEEPER = "keepalive_7f3a"
# Calls that would legitimately change everything: never sent with random arguments.
DENY = ("All", "shutdown", "restart", "reloadConfig", "clearLog", "reexec")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningDaemon, list[str]]]:
    daemon = RunningDaemon(tmp_path_factory.mktemp("fuzz"), {"PYTHONPATH": str(ROOT)})
    daemon.start(f"[program:{KEEPER}]\ncommand = sleep 3600\nstartsecs = 0\n")
    names = [m for m in daemon.rpc().system.listMethods() if not any(d in m for d in DENY)]
    yield daemon, names
    daemon.close()


def post(
    daemon: RunningDaemon, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    connection = UnixHTTPConnection(str(daemon.sock), 30)
    try:
        connection.putrequest("POST", "/RPC2")
        sent = {"Content-Type": "text/xml", "Content-Length": str(len(body)), **(headers or {})}
        for key, value in sent.items():
            connection.putheader(key, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def still_well(daemon: RunningDaemon, pid: int) -> None:
    info = daemon.rpc().supervisor.getProcessInfo(KEEPER)
    assert (info["statename"], info["pid"]) == ("RUNNING", pid), "a bad request changed a program"


def value_xml() -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.integers(-(2**70), 2**70).map(lambda n: f"<int>{n}</int>"),
        st.integers(-(2**31), 2**31 - 1).map(lambda n: f"<i4>{n}</i4>"),
        st.sampled_from(["0", "1", "2", "true", ""]).map(lambda b: f"<boolean>{b}</boolean>"),
        st.text(max_size=30).map(lambda t: f"<string>{escape(t)}</string>"),
        st.text(max_size=30).map(escape),
        st.floats(allow_nan=True).map(lambda f: f"<double>{f}</double>"),
        st.sampled_from(["20261124T00:00:00", "x", ""]).map(
            lambda d: f"<dateTime.iso8601>{d}</dateTime.iso8601>"
        ),
        st.binary(max_size=30).map(lambda b: f"<base64>{base64.b64encode(b).decode()}</base64>"),
        st.just("<base64>!!!notbase64</base64>"),
        st.just("<nil/>"),
        st.just("<i8>5</i8>"),
        st.just(f"<string>{KEEPER}x</string>"),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(
                lambda items: (
                    "<array><data>"
                    + "".join(f"<value>{i}</value>" for i in items)
                    + "</data></array>"
                )
            ),
            st.dictionaries(st.text(max_size=10), inner, max_size=4).map(
                lambda d: (
                    "<struct>"
                    + "".join(
                        f"<member><name>{escape(k)}</name><value>{v}</value></member>"
                        for k, v in d.items()
                    )
                    + "</struct>"
                )
            ),
        ),
        max_leaves=20,
    )


@st.composite
def calls(draw: Any, names: list[str]) -> bytes:
    method = draw(st.one_of(st.sampled_from(names), st.text(max_size=40)))
    params = draw(st.lists(value_xml(), max_size=5))
    body = (
        "<?xml version='1.0'?><methodCall><methodName>"
        + escape(method)
        + "</methodName><params>"
        + "".join(f"<param><value>{p}</value></param>" for p in params)
        + "</params></methodCall>"
    )
    return body.encode("utf-8", "surrogatepass")


TRICKS = [
    b"",
    b"not xml at all",
    b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState",
    b"\xff\xfe\x00<methodCall>",
    b"<?xml version='1.0' encoding='utf-8'?><methodCall><methodName>\xc3\x28</methodName></methodCall>",
    b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
    b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
    b"<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]>"
    b"<methodCall><methodName>&f;</methodName></methodCall>",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
    b"<methodCall><methodName>&e;</methodName></methodCall>",
    b"<methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value>"
    + b"<array><data><value>" * 5000
    + b"x"
    + b"</value></data></array>" * 5000
    + b"</value></param></params></methodCall>",
    b"<methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value><string>"
    + b"A" * (5 * 1024 * 1024)
    + b"</string></value></param></params></methodCall>",
]


@pytest.mark.parametrize("body", TRICKS, ids=lambda b: f"trick-{len(b)}")
def test_tricks_get_a_fault_or_a_4xx(target: tuple[RunningDaemon, list[str]], body: bytes) -> None:
    daemon, _ = target
    pid = daemon.rpc().supervisor.getProcessInfo(KEEPER)["pid"]
    CASES["xml-rpc endpoint"] += 1
    status, answer = post(daemon, body)
    assert (status == 200 and b"<fault>" in answer) or 400 <= status < 500, (status, answer[:200])
    assert b"root:" not in answer  # no external entity was read
    still_well(daemon, pid)


def test_content_length_lies_are_refused(target: tuple[RunningDaemon, list[str]]) -> None:
    daemon, _ = target
    pid = daemon.rpc().supervisor.getProcessInfo(KEEPER)["pid"]
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(10)
    raw.connect(str(daemon.sock))
    # Says 10 bytes, sends 3 and hangs up: the daemon must not wait forever or crash.
    raw.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    raw.close()
    CASES["xml-rpc endpoint"] += 1
    # A negative length: the daemon refuses it from the headers alone and hangs up,
    # maybe before the body is written, or with the body unread (then the kernel ends
    # the connection with a reset): a client must tolerate either, and still read the
    # answer the daemon sent first.
    negative = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n" + b"x" * 10
    answer = refused_answer(daemon, negative)
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500
    CASES["xml-rpc endpoint"] += 1
    still_well(daemon, pid)


def refused_answer(daemon: RunningDaemon, request: bytes) -> bytes:
    """What the daemon answers ``request`` before hanging up, however early it does."""
    answer = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(30)
        raw.connect(str(daemon.sock))
        try:
            raw.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before the whole request was written: the answer is queued
        try:
            while chunk := raw.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with part of the request unread; what came first is kept
    return answer


def test_random_calls_get_a_fault_or_a_4xx(target: tuple[RunningDaemon, list[str]]) -> None:
    daemon, names = target
    pid = daemon.rpc().supervisor.getProcessInfo(KEEPER)["pid"]

    @settings(
        max_examples=scale(200, 5000),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(calls(names))
    def one(body: bytes) -> None:
        CASES["xml-rpc endpoint"] += 1
        status, answer = post(daemon, body)
        assert status == 200 or 400 <= status < 500, (status, answer[:300])
        assert not (b"<fault>" in answer and b"Traceback" in answer), "a fault leaked a traceback"

    one()
    still_well(daemon, pid)
    log = (Path(daemon.tmp) / "main.log").read_text()
    assert "Unhandled" not in log and "Traceback" not in log, "a bad request was a crash"
