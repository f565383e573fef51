"""Layer 3: the readiness and health probes (process/linux/probes.py) on the real
reactor: each kind answers True or False within its timeout and never fails."""

from __future__ import annotations

import os

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.web.resource import Resource
from twisted.web.server import Site

from supervise.process.linux.probes import CommandCheck, HttpCheck, TcpCheck, parse_check


def test_each_form_parses_to_its_check():
    """tcp:, http(s):// and command: name their own checks, keeping the text."""
    assert isinstance(parse_check("tcp:127.0.0.1:80", reactor), TcpCheck)
    assert isinstance(parse_check("https://example.test/health", reactor), HttpCheck)
    command = parse_check("command:test -e /tmp", reactor)
    assert isinstance(command, CommandCheck) and command.command == "test -e /tmp"
    assert command.description == "command:test -e /tmp"


@pytest_twisted.ensureDeferred
async def test_tcp_passes_on_a_listening_port_and_fails_on_a_closed_one():
    """A TCP probe is True while something listens, False once it stopped listening."""
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        Factory.forProtocol(Protocol)
    )
    number = port.getHost().port
    check = parse_check(f"tcp:127.0.0.1:{number}", reactor)
    assert await check.check({}, 2.0) is True
    await port.stopListening()
    assert await check.check({}, 2.0) is False


@pytest_twisted.ensureDeferred
async def test_http_passes_on_2xx_only():
    """An HTTP probe is True for a 2xx answer and False for a 404."""
    root = Resource()
    ok = Resource()
    ok.render_GET = lambda request: b"ok"  # type: ignore[method-assign]
    ok.isLeaf = True
    root.putChild(b"health", ok)
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(root))
    number = port.getHost().port
    try:
        assert await parse_check(f"http://127.0.0.1:{number}/health", reactor).check({}, 5.0)
        missing = parse_check(f"http://127.0.0.1:{number}/nothing", reactor)
        assert await missing.check({}, 5.0) is False
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_command_runs_in_the_programs_environment():
    """A command probe is True when it exits 0, run with the environment it is given."""
    check = parse_check('command:test "$PROBE_FLAG" = up', reactor)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PROBE_FLAG": "up"}
    assert await check.check(env, 5.0) is True
    assert await check.check({**env, "PROBE_FLAG": "down"}, 5.0) is False


def _running(marker: str) -> bool:
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if marker.encode() in handle.read().replace(b"\0", b" "):
                    return True
        except OSError:
            continue
    return False


@pytest_twisted.ensureDeferred
async def test_a_probe_that_hangs_is_false_at_its_timeout_and_killed():
    """A command that does not finish within the timeout is a failed attempt, and it is
    killed with everything it started (no probe piles up)."""
    marker = f"sleep 31.{os.getpid()}"
    check = parse_check(f"command:{marker}; true", reactor)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    assert await check.check(env, 0.3) is False
    for _ in range(100):  # bounded: 5 s
        if not _running(marker):
            break
        await deferLater(reactor, 0.05, lambda: None)
    assert not _running(marker)
