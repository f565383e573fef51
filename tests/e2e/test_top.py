"""``supervisectl top`` on a pseudo-terminal against a real daemon: rows appear, keys act."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from supervise.testing import free_port, ini_section, self_signed_certificate
from tests.e2e.conftest import ROOT, Daemon
from tests.e2e.terminal import Terminal

pytestmark = pytest.mark.e2e

PROGRAMS = (
    ini_section("supervisord", usage_interval=0.2)
    + ini_section("program:alpha", command="sleep 3600", startsecs=0)
    + ini_section(
        "program:beta", command="sh -c 'echo hello from beta; exec sleep 3600'", startsecs=0
    )
)


def top(*args: str, env: dict[str, str] | None = None) -> Terminal:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return Terminal([sys.executable, "-m", "supervise.ctl.main", *args, "top"], environ)


def pid_of(daemon: Daemon, name: str) -> int:
    return int(daemon.rpc().supervisor.getProcessInfo(name)["pid"])


def test_rows_appear_and_r_restarts_the_selected_program(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    daemon.start(PROGRAMS)
    screen = top("-c", str(daemon.conf))
    try:
        before = pid_of(daemon, "alpha")
        screen.wait(lambda s: s.line_with("alpha", "RUNNING", str(before)), "alpha's row")
        screen.wait(lambda s: s.line_with("beta", "RUNNING"), "beta's row")
        screen.wait(lambda s: "live" in s.lines()[0], "the title says live")
        screen.wait(lambda s: "%" in s.line_with("alpha") and "iB" in s.line_with("alpha"),
                    "alpha's CPU and memory")  # fmt: skip
        screen.press("r")  # the cursor starts on the first row: alpha
        screen.wait(lambda s: pid_of(daemon, "alpha") != before, "a new alpha")
        after = pid_of(daemon, "alpha")
        screen.wait(lambda s: s.line_with("alpha", "RUNNING", str(after)), "alpha's new pid")
        assert not screen.line_with("alpha", str(before))
        assert "alpha restarted" in screen.text()
        # Filter as you type: / then words.
        screen.press("/")
        screen.wait(lambda s: s.line_with("Filter: type words"), "the filter has the keys")
        screen.press("bet")
        screen.wait(lambda s: not s.line_with("alpha", "RUNNING"), "alpha filtered out")
        assert screen.line_with("beta", "RUNNING")
        # Back to the table; t follows the selected program's stdout.
        screen.press("\r")
        screen.wait(lambda s: not s.line_with("Filter: type words"), "the table has the keys")
        screen.press("t")
        screen.wait(lambda s: s.line_with("hello from beta"), "beta's stdout in the tail pane")
        assert screen.close() == 0
    finally:
        screen.close() if screen.process.poll() is None else None
        daemon.close()


def test_over_https_x_stops_the_selected_program(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    daemon = Daemon(tmp_path)
    daemon.start(
        f"[inet_http_server]\nport = 127.0.0.1:{port}\nusername = ops\npassword = pw\n"
        f"certfile = {cert}\nkeyfile = {key}\n" + PROGRAMS
    )
    url = f"https://localhost:{port}"
    screen = top("-s", url, "-u", "ops", "-p", "pw", env={"SSL_CERT_FILE": str(cert)})
    try:
        screen.wait(lambda s: s.line_with("alpha", "RUNNING"), "alpha's row over https")
        screen.press("x")
        screen.wait(lambda s: s.line_with("alpha", "STOPPED"), "alpha stopped")
        assert daemon.rpc().supervisor.getProcessInfo("alpha")["statename"] == "STOPPED"
    finally:
        screen.close()
        daemon.close()
