"""The web console in a real headless Chromium (Debian's), driven by Playwright.

One daemon and one browser serve the module; each test opens its own page. Screenshots
land in docs/images/, where docs/console.md shows them.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervise.testing import free_port, wait_until
from tests.e2e.conftest import ROOT, Daemon

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("SUPERVISE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
IMAGES = ROOT / "docs" / "images"
USER, PASSWORD = "admin", "s3cret"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not os.path.exists(CHROMIUM):
    if os.environ.get("SUPERVISE_CI"):
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (install Debian's chromium)")
    pytest.skip("Chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, str]]:
    folder = tmp_path_factory.mktemp("console")
    port = free_port()
    daemon = Daemon(folder)
    daemon.start(
        f"""
        [inet_http_server]
        port = 127.0.0.1:{port}
        username = {USER}
        password = {PASSWORD}
        [program:api]
        command = sh -c 'i=0; while true; do i=$((i+1)); echo "api line $i"; sleep 0.2; done'
        startsecs = 0
        [program:broken]
        command = sh -c 'echo about to fail >&2; exit 3'
        autostart = false
        startsecs = 1
        startretries = 0
        [program:worker]
        command = sleep 3600
        process_name = worker_%(process_num)02d
        numprocs = 3
        startsecs = 0
        """
    )
    wait_until(
        lambda: (
            sum(i["statename"] == "RUNNING" for i in daemon.rpc().supervisor.getAllProcessInfo())
            == 4
        )
    )
    try:
        yield daemon, f"http://127.0.0.1:{port}"
    finally:
        daemon.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Page:
    """A console page with its console messages and page errors recorded."""

    def __init__(self, browser: Any, url: str, **context: Any) -> None:
        self.context = browser.new_context(
            http_credentials={"username": USER, "password": PASSWORD},
            bypass_csp=True,  # lets wait_for_function evaluate its predicates
            **context,
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.goto(url + "/")
        self.page.wait_for_selector("#link.link-up")
        self.page.wait_for_selector(".proc[data-namespec='api'][data-state='RUNNING']")

    def row(self, namespec: str) -> Any:
        return self.page.locator(f".proc[data-namespec='{namespec}']")

    def pid(self, namespec: str) -> str:
        return str(self.row(namespec).locator(".col-pid").inner_text())

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser: Any, console: tuple[Daemon, str]) -> Iterator[Page]:
    opened = Page(browser, console[1], viewport={"width": 1280, "height": 720})
    yield opened
    opened.close()
    assert opened.problems == [], "the browser reported errors"


def test_page_lists_every_process_with_its_state_and_pid(
    page: Page, console: tuple[Daemon, str]
) -> None:
    daemon, _ = console
    infos = {
        f"{i['group']}:{i['name']}" if i["group"] != i["name"] else i["name"]: i
        for i in daemon.rpc().supervisor.getAllProcessInfo()
    }
    page.page.wait_for_function("document.querySelectorAll('.proc').length === 5")
    for namespec, info in infos.items():
        row = page.row(namespec)
        assert row.locator(".state").inner_text() == info["statename"]
        assert page.pid(namespec) == (str(info["pid"]) if info["pid"] else "")
    assert page.page.locator("#identification").inner_text() == "e2e"
    assert "RUNNING" in page.page.locator("#daemon-state").inner_text()
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(IMAGES / "console.png"))


def test_restart_button_replaces_the_process(page: Page) -> None:
    before = page.pid("worker:worker_00")
    page.row("worker:worker_00").get_by_role(
        "button", name="Restart worker:worker_00", exact=True
    ).click()
    page.page.wait_for_function(
        "pid => { const c = document.querySelector(\".proc[data-namespec='worker:worker_00'] .col-pid\");"
        " return c.textContent !== '' && c.textContent !== pid; }",
        arg=before,
    )
    page.page.wait_for_selector("#notice:has-text('worker:worker_00 restarted')")


def test_process_killed_outside_comes_back_without_a_reload(page: Page) -> None:
    page.page.evaluate("window.loadedOnce = true")
    before = int(page.pid("worker:worker_01"))
    os.kill(before, signal.SIGKILL)
    page.page.wait_for_function(
        "pid => { const c = document.querySelector(\".proc[data-namespec='worker:worker_01'] .col-pid\");"
        " return c.textContent !== '' && c.textContent !== String(pid); }",
        arg=before,
    )
    assert page.page.evaluate("window.loadedOnce") is True, "the page was reloaded"
    assert page.row("worker:worker_01").locator(".col-restarts").inner_text() == "1"


def test_failing_action_shows_its_error_in_words(page: Page) -> None:
    page.row("broken").get_by_role("button", name="Start broken", exact=True).click()
    alert = page.page.locator("#alert")
    alert.wait_for(state="visible")
    page.page.wait_for_function("document.querySelector('#alert').textContent.includes('broken')")
    assert "broken: " in alert.inner_text()
    assert "it could not be started: Exited too quickly" in alert.inner_text()
    page.page.wait_for_selector(".proc[data-namespec='broken'] .state:has-text('FATAL')")
    page.page.screenshot(path=str(IMAGES / "console-error.png"))


def test_filter_keeps_its_value_and_effect_across_updates(
    page: Page, console: tuple[Daemon, str]
) -> None:
    daemon, _ = console
    page.page.fill("#filter", "worker")
    assert page.row("api").is_hidden()
    before = page.pid("worker:worker_02")
    daemon.rpc().supervisor.stopProcess("worker:worker_02")
    daemon.rpc().supervisor.startProcess("worker:worker_02")
    page.page.wait_for_function(
        "pid => document.querySelector(\".proc[data-namespec='worker:worker_02'] .col-pid\").textContent"
        " !== pid",
        arg=before,
    )
    assert page.page.input_value("#filter") == "worker"
    assert page.row("api").is_hidden()
    assert page.row("worker:worker_02").is_visible()
    assert page.page.locator("#counts").inner_text() == "3 of 5 shown"


def test_log_panel_follows_the_output(page: Page) -> None:
    page.row("api").get_by_role("button", name="Stdout api", exact=True).click()
    text = page.page.locator("#logtext")
    page.page.wait_for_function(
        "document.querySelector('#logtext').textContent.includes('api line')"
    )
    first = text.inner_text().strip().splitlines()[-1]
    page.page.wait_for_function(
        "last => { const lines = document.querySelector('#logtext').textContent.trim().split('\\n');"
        " return lines[lines.length - 1] !== last; }",
        arg=first,
    )
    href = page.page.locator("#logdownload").get_attribute("href")
    assert href == "download/api/stdout"
    page.page.screenshot(path=str(IMAGES / "console-log.png"))
    page.page.keyboard.press("Escape")
    assert page.page.locator("#logpanel").is_hidden()


def test_page_is_readable_on_a_phone(browser: Any, console: tuple[Daemon, str]) -> None:
    phone = Page(browser, console[1], viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        phone.page.screenshot(path=str(IMAGES / "console-phone.png"))
        assert phone.problems == []
    finally:
        phone.close()


def _request(url: str, method: str, path: str, **headers: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    body = headers.pop("body", None)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _auth() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def test_request_without_credentials_gets_401(console: tuple[Daemon, str]) -> None:
    for path in ("/", "/api/events", "/tail.html?processname=api"):
        status, _ = _request(console[1], "GET", path)
        assert status == 401, path


def test_cross_site_post_is_refused_and_changes_nothing(console: tuple[Daemon, str]) -> None:
    daemon, url = console
    body = json.dumps({"action": "stop", "names": ["api"]})
    pid = daemon.rpc().supervisor.getProcessInfo("api")["pid"]
    # A form posted from another site: credentials ride along, the token cannot.
    status, answer = _request(
        url,
        "POST",
        "/api/action",
        Authorization=_auth(),
        Origin="http://evil.example",
        body=body,
        **{"Content-Type": "application/json"},
    )
    assert status == 403 and b"cross-site" in answer
    status, answer = _request(
        url, "POST", "/api/action", Authorization=_auth(), body=body,
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert status == 403 and b"X-Supervise-Token" in answer
    info = daemon.rpc().supervisor.getProcessInfo("api")
    assert (info["statename"], info["pid"]) == ("RUNNING", pid)


def test_supervisord_paths_keep_working(console: tuple[Daemon, str]) -> None:
    _, url = console
    status, body = _request(url, "GET", "/ok.html", Authorization=_auth())
    assert (status, body) == (200, b"OK")
    status, body = _request(
        url, "GET", "/tail.html?processname=api&limit=2048", Authorization=_auth()
    )
    assert status == 200 and b"api line" in body
    status, body = _request(
        url, "GET", "/index.html?processname=api&action=stop", Authorization=_auth()
    )
    assert status == 200 and b"Actions by GET link are not performed" in body
    status, body = _request(url, "GET", "/tail.html?processname=nosuch", Authorization=_auth())
    assert status == 404 and b"No such process named nosuch" in body


def test_download_gives_the_whole_log_file(console: tuple[Daemon, str]) -> None:
    daemon, url = console
    path = Path(daemon.rpc().supervisor.getProcessInfo("api")["stdout_logfile"])
    status, body = _request(url, "GET", "/download/api/stdout", Authorization=_auth())
    assert status == 200
    assert body == path.read_bytes()[: len(body)] and len(body) > 0


def test_uptime_ticks_in_the_browser(page: Page) -> None:
    first = page.row("api").locator(".col-uptime").inner_text()
    assert first.count(":") == 2
    page.page.wait_for_function(
        "t => document.querySelector(\".proc[data-namespec='api'] .col-uptime\").textContent !== t",
        arg=first,
    )


def test_page_reconnects_after_the_daemon_restarts_and_catches_up(
    browser: Any, tmp_path: Path
) -> None:
    """A dropped feed is retried; the new stream's snapshot replaces what the page showed."""
    port = free_port()
    daemon = Daemon(tmp_path)
    body = f"""
    [inet_http_server]
    port = 127.0.0.1:{port}
    [program:lone]
    command = sleep 3600
    startsecs = 0
    """
    daemon.start(body)
    try:
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector(".proc[data-namespec='lone'] .state:text-is('RUNNING')")
        page.evaluate("window.loadedOnce = true")
        before = page.locator(".proc[data-namespec='lone'] .col-pid").inner_text()
        daemon.stop()
        page.wait_for_selector("#link.link-down")
        daemon.start(None)
        page.wait_for_selector("#link.link-up", timeout=20000)
        page.wait_for_function(
            "pid => { const c = document.querySelector(\".proc[data-namespec='lone'] .col-pid\");"
            " return c.textContent !== '' && c.textContent !== pid; }",
            arg=before,
        )
        assert page.evaluate("window.loadedOnce") is True
        context.close()
    finally:
        daemon.close()
