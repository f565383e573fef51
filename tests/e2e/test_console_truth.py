"""The console tells the truth when things go wrong: crash loops, BACKOFF, exits by signal,
a lost connection, alerts that go away, and each program's CPU and memory. Headless
Chromium, as in test_console.py."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervise.testing import free_port, ini_section
from tests.e2e.conftest import Daemon
from tests.e2e.test_console import IMAGES, PASSWORD, USER, Page, browser, page

pytestmark = pytest.mark.e2e

__all__ = ["browser", "page"]  # test_console's fixtures, shared (over this module's daemon)


CONFIG = "".join(
    [
        ini_section("inet_http_server", port="127.0.0.1:{port}", username=USER, password=PASSWORD),
        ini_section("supervisord", usage_interval=0.2),
        ini_section("program:api", command="sleep 3600", startsecs=0),
        ini_section("program:flappy", command="sh -c 'sleep 0.3; exit 3'", startsecs=0),
        ini_section("program:failing", command="sh -c 'exit 1'", startsecs=1, startretries=1000),
        ini_section("program:victim", command="sleep 3600", startsecs=0),
        ini_section("program:broken", command="sh -c 'exit 3'", autostart="false", startretries=0),
    ]
)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, str]]:
    port = free_port()
    daemon = Daemon(tmp_path_factory.mktemp("truth"))
    daemon.start(CONFIG.replace("{port}", str(port)))
    try:
        yield daemon, f"http://127.0.0.1:{port}"
    finally:
        daemon.close()


def badge(page: Page, namespec: str) -> Any:
    return page.row(namespec).locator(".state").first


def test_crash_loop_is_shown_as_one_never_as_a_green_running(page: Page) -> None:
    page.page.wait_for_selector(".proc[data-namespec='flappy'][data-crashloop='true']")
    # Whatever state the loop is in, run after run, no green RUNNING badge.
    for _ in range(3):
        pid = page.pid("flappy")
        shown = page.page.evaluate(
            "() => { const r = document.querySelector(\".proc[data-namespec='flappy']\");"
            " const b = r.querySelector('.state');"
            " return [r.dataset.state, b.textContent, b.className, getComputedStyle(b).color]; }"
        )
        state, text, classes, colour = shown
        assert text != "RUNNING" and "state-RUNNING" not in classes, shown
        assert colour != "rgb(27, 94, 32)", "green"
        if state in ("RUNNING", "STARTING"):
            assert text == "CRASH LOOP"
        page.page.wait_for_function(
            "pid => document.querySelector(\".proc[data-namespec='flappy'] .col-pid\")"
            ".textContent !== pid",
            arg=pid,
        )
    detail = page.row("flappy").locator(".detail").inner_text()
    assert re.search(r"\d+ exits in 5 min", detail), detail
    exit_text = page.row("flappy").locator(".col-exit").inner_text()
    assert re.fullmatch(r"exit 3 at \S+( [AP]M)?", exit_text), exit_text
    page.page.screenshot(path=str(IMAGES / "console-crashloop.png"))


def test_backoff_is_shown_as_backoff_with_its_reason(page: Page) -> None:
    page.page.wait_for_selector(".proc[data-namespec='failing'][data-state='BACKOFF']")
    assert badge(page, "failing").inner_text() == "BACKOFF"
    assert "state-BACKOFF" in (badge(page, "failing").get_attribute("class") or "")
    assert "Exited too quickly" in page.row("failing").locator(".detail").inner_text()


def test_an_exit_by_signal_reads_killed_by_the_signal_with_its_time(
    page: Page, console: tuple[Daemon, str]
) -> None:
    daemon, _ = console
    os.kill(daemon.rpc().supervisor.getProcessInfo("victim")["pid"], signal.SIGKILL)
    cell = page.row("victim").locator(".col-exit")
    page.page.wait_for_function(
        "() => document.querySelector(\".proc[data-namespec='victim'] .col-exit\")"
        ".textContent.startsWith('killed by SIGKILL at ')"
    )
    assert "status -1" not in cell.inner_text()


def test_alerts_can_be_dismissed(page: Page) -> None:
    page.row("broken").get_by_role("button", name="Start broken", exact=True).click()
    alert = page.page.locator("#alert")
    alert.wait_for(state="visible")
    page.page.wait_for_function("document.querySelector('#alert').textContent.includes('broken')")
    alert.get_by_role("button", name="Dismiss the alert").click()
    assert alert.is_hidden()


def test_alerts_and_notices_expire(browser: Any, console: tuple[Daemon, str]) -> None:
    """On a page whose clock the test moves: a minute later the alert is gone by itself."""
    context = browser.new_context(
        http_credentials={"username": USER, "password": PASSWORD}, bypass_csp=True
    )
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(console[1] + "/")
        page.wait_for_selector(".proc[data-namespec='broken'] button[data-action='start']:enabled")
        page.locator(".proc[data-namespec='broken'] button[data-action='start']").click()
        page.wait_for_function("document.querySelector('#alert').textContent.includes('broken')")
        assert page.locator("#alert").is_visible()
        page.clock.fast_forward("01:01")
        page.wait_for_selector("#alert", state="hidden")
    finally:
        context.close()


def test_usage_shows_figures_and_a_graph_per_program(
    page: Page, console: tuple[Daemon, str]
) -> None:
    daemon, _ = console
    page.page.wait_for_function(
        "() => { const l = document.querySelector(\".proc[data-namespec='api'] .col-memory polyline\");"
        " return l && l.getAttribute('points').split(' ').length >= 3; }"
    )
    cpu = page.row("api").locator(".col-cpu .figure").inner_text()
    memory = page.row("api").locator(".col-memory .figure").inner_text()
    assert re.fullmatch(r"\d+\.\d%", cpu), cpu
    assert re.fullmatch(r"\d+(\.\d)? (KiB|MiB)", memory), memory
    info = next(i for i in daemon.rpc().supervise.getAllProcessInfo() if i["namespec"] == "api")
    shown = float(memory.split()[0]) * (1024 if memory.endswith("MiB") else 1)
    assert abs(shown - info["rss_kib"]) <= max(0.05 * info["rss_kib"], 64)
    assert page.row("broken").locator(".col-cpu .figure").inner_text() == ""


def test_controls_are_disabled_while_disconnected_and_come_back(
    browser: Any, tmp_path: Path
) -> None:
    port = free_port()
    daemon = Daemon(tmp_path)
    daemon.start(
        ini_section("inet_http_server", port=f"127.0.0.1:{port}")
        + ini_section("program:lone", command="sleep 3600", startsecs=0)
    )
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        restart = page.get_by_role("button", name="Restart lone", exact=True)
        page.wait_for_selector(".proc[data-namespec='lone'] button[data-action='restart']:enabled")
        daemon.stop()
        page.wait_for_selector("#offline:visible")
        assert "Connection to the daemon lost at" in page.locator("#offline").inner_text()
        assert "reconnecting" in page.locator("#link").inner_text()
        assert restart.is_disabled()
        assert page.locator("button[data-bulk='stop']").is_disabled()
        enabled = page.evaluate(
            "[...document.querySelectorAll('button[data-action]:not([disabled])')].length"
        )
        assert enabled == 0
        page.screenshot(path=str(IMAGES / "console-offline.png"))
        daemon.start(None)
        page.wait_for_selector("#offline", state="hidden", timeout=20000)
        page.wait_for_selector(".proc[data-namespec='lone'] button[data-action='restart']:enabled")
        assert "Reconnected at" in page.locator("#notice").inner_text()
        assert page.locator("#link").inner_text() == "live"
    finally:
        context.close()
        daemon.close()
