"""Layer 4: a plugin pip-installed from a temporary folder is found and fed, unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from supervise.ctl.client import UnixHTTPConnection
from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e

PLUGIN = """
from twisted.web.resource import Resource

from supervise.events.types import ProcessStateEvent
from supervise.plugin import Plugin, listener


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"hello from a plugin"


class Recorder(Plugin):
    def configure(self, options, context):
        if "path" not in options:
            raise ValueError("path: required")
        self.path = options["path"]

    def listeners(self):
        return [listener("recorder", (ProcessStateEvent,), self.record)]

    def resources(self):
        return {b"hello": Hello()}

    def rpc_namespaces(self):
        return {"recorder": self}

    def count(self):
        with open(self.path) as handle:
            return len(handle.readlines())

    def record(self, event):
        with open(self.path, "a") as handle:
            handle.write(f"{event.process} {event.type_name}\\n")
"""

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tmp-recorder-plugin"
version = "1.2.3"

[project.entry-points."supervise.plugins"]
recorder = "tmp_recorder:Recorder"
"""


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and pip-install a third-party plugin into a folder of its own."""
    source = tmp_path_factory.mktemp("plugin-src")
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "tmp_recorder.py").write_text(textwrap.dedent(PLUGIN))
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    return target


def test_installed_plugin_is_discovered_and_fed(tmp_path: Path, installed_plugin: Path) -> None:
    """An entry-point plugin gets events, serves a resource and an XML-RPC namespace."""
    daemon = Daemon(tmp_path)
    daemon.extra_environ["PYTHONPATH"] = (
        f"{installed_plugin}{os.pathsep}{daemon.extra_environ['PYTHONPATH']}"
    )
    record = tmp_path / "record.txt"
    try:
        daemon.start(
            f"[program:web]\ncommand = sleep 300\nstartsecs = 0\n[plugin:recorder]\npath = {record}\n"
        )
        wait_until(lambda: record.exists() and "web PROCESS_STATE_RUNNING" in record.read_text())
        assert record.read_text().splitlines()[:2] == [
            "web PROCESS_STATE_STARTING",
            "web PROCESS_STATE_RUNNING",
        ]
        assert daemon.rpc().recorder.count() >= 2
        main_log = (tmp_path / "main.log").read_text()
        assert "plugin recorder loaded from tmp-recorder-plugin 1.2.3" in main_log
        connection = UnixHTTPConnection(str(daemon.sock))
        connection.request("GET", "/plugins/recorder/hello")
        assert connection.getresponse().read() == b"hello from a plugin"
    finally:
        daemon.close()


def test_broken_plugins_are_reported_and_left_out(daemon: Daemon, installed_plugin: Path) -> None:
    """Plugins that fail to import, to configure, or do not exist never stop the daemon."""
    daemon.extra_environ["PYTHONPATH"] = (
        f"{installed_plugin}{os.pathsep}{daemon.extra_environ['PYTHONPATH']}"
    )
    daemon.start(
        "[program:web]\ncommand = sleep 300\nstartsecs = 0\n"
        "[plugin:recorder]\n"  # no path: configure raises
        "[plugin:ghost]\n"
        "[plugin:broken]\nfactory = nosuchmodule:Plugin\n"
    )
    assert daemon.rpc().supervisor.getProcessInfo("web")["statename"] == "RUNNING"
    log = (daemon.tmp / "main.log").read_text()
    assert (
        "plugin recorder from tmp-recorder-plugin 1.2.3 (tmp_recorder:Recorder) failed to load"
        in log
    )
    assert "ValueError: path: required" in log
    assert "[plugin:ghost] names no installed plugin" in log
    assert "plugin broken from factory nosuchmodule:Plugin failed to load" in log
