"""Authentication and authorisation on every transport and route, secrets, privileges, TLS.

One table: each route, with no credentials, wrong ones and right ones, on the inet port
and the unix socket. Then what the table cannot show: socket permissions, {SHA}
passwords, the refusal to serve beyond loopback without credentials, no secret in a log
or a page, privilege dropping and umask, and HTTPS with a certificate in the config.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import http.client
import os
import shutil
import ssl
import stat
import subprocess
import tempfile
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervise.ctl.client import UnixHTTPConnection
from supervise.testing import RunningDaemon, free_port, self_signed_certificate, tool, wait_until
from tests.e2e.conftest import ROOT
from tests.reliability.conftest import CASES

pytestmark = pytest.mark.e2e

USER, SECRET = "admin", "s3cret-Pa55"
SOCKET_GROUP = "daemon"  # a group that user "nobody" is not in
ROUTES = [
    ("POST", "/RPC2"),
    ("GET", "/"),
    ("GET", "/index.html"),
    ("GET", "/tail.html?processname=web"),
    ("GET", "/logtail/web"),
    ("GET", "/mainlogtail"),
    ("GET", "/api/events"),
    ("POST", "/api/action"),
    ("GET", "/download/main"),
    ("GET", "/static/console.js"),
    ("GET", "/ok.html"),
]


def auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def status(
    connection: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str]
) -> int:
    body = b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName></methodCall>"
    try:
        connection.request(method, path, body=body if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        code = response.status
        if path not in ("/logtail/web", "/mainlogtail", "/api/events") or code != 200:
            response.read()
        return code
    finally:
        connection.close()


# What a `user = nobody` program tries; each line answers "allowed" or "denied".
NOBODY_TRIES = (
    "kill -0 $PPID 2>/dev/null && echo signal:allowed || echo signal:denied; "
    "cat %(here)s/public.txt >/dev/null 2>&1 && echo public:allowed || echo public:denied; "
    "cat %(here)s/main.log >/dev/null 2>&1 && echo mainlog:allowed || echo mainlog:denied; "
    "[ -w %(here)s/supervise.sock ] && echo socket:allowed || echo socket:denied; "
    "exec sleep 3600"
)


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[RunningDaemon, int]]:
    # A folder others may enter (pytest's own are private), so that what a user program
    # cannot do is down to the daemon's modes, not to the path.
    folder = Path(tempfile.mkdtemp(prefix="supervise-security-"))
    folder.chmod(0o755)
    (folder / "public.txt").write_text("anyone may read this\n")
    (folder / "public.txt").chmod(0o644)
    port = free_port()
    daemon = RunningDaemon(folder, {"PYTHONPATH": str(ROOT)})
    daemon.write(
        f"[inet_http_server]\nport = 127.0.0.1:{port}\nusername = {USER}\n"
        f"password = {{SHA}}{hashlib.sha1(SECRET.encode()).hexdigest()}\n"
        "[program:web]\ncommand = sleep 3600\nstartsecs = 0\n"
        f"[program:nobody]\ncommand = sh -c '{NOBODY_TRIES}'\n"
        "user = nobody\nstartsecs = 0\nstdout_logfile = %(here)s/nobody.log\n"
    )
    text = daemon.conf.read_text()
    text = text.replace(
        f"file = {daemon.sock}\n",
        f"file = {daemon.sock}\nchmod = 0760\nchown = root:{SOCKET_GROUP}\n"
        f"username = {USER}\npassword = {SECRET}\n",
    ).replace("[supervisord]\n", "[supervisord]\numask = 027\n", 1)
    daemon.conf.write_text(text)
    daemon.start(None)
    yield daemon, port
    daemon.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("transport", ["inet", "unix"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_asks_for_credentials(
    guarded: tuple[RunningDaemon, int], transport: str, method: str, path: str
) -> None:
    daemon, port = guarded

    def connect() -> http.client.HTTPConnection:
        if transport == "inet":
            return http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        return UnixHTTPConnection(str(daemon.sock), 30)

    CASES["security: route x transport x credentials"] += 3
    assert status(connect(), method, path, {}) == 401
    assert status(connect(), method, path, auth(USER, "wrong")) == 401
    assert status(connect(), method, path, auth("intruder", SECRET)) == 401
    right = status(connect(), method, path, auth(USER, SECRET))
    # Right credentials: answered (an action POST without the page's token is refused
    # by the cross-site guard, not by authentication).
    assert right == (403 if path == "/api/action" else 200), (path, right)


def test_socket_permissions_and_file_umask_are_as_configured(
    guarded: tuple[RunningDaemon, int],
) -> None:
    daemon, _ = guarded
    socket_info = daemon.sock.stat()
    assert stat.S_IMODE(socket_info.st_mode) == 0o760
    assert (socket_info.st_uid, socket_info.st_gid) == (0, grp.getgrnam(SOCKET_GROUP).gr_gid)
    assert stat.S_IMODE((daemon.tmp / "main.log").stat().st_mode) == 0o640  # umask 027
    CASES["security: files"] += 3


def test_no_secret_in_any_log_or_page(guarded: tuple[RunningDaemon, int]) -> None:
    daemon, port = guarded
    proxy = xmlrpc.client.ServerProxy(f"http://{USER}:{SECRET}@127.0.0.1:{port}/RPC2")
    seen = [
        repr(proxy.supervisor.getAllConfigInfo()).encode(),
        repr(proxy.supervise.getAllProcessInfo()).encode(),
        proxy.supervisor.readLog(0, 0).encode(),
        (daemon.tmp / "main.log").read_bytes(),
        (daemon.tmp / "twistd.out").read_bytes(),
    ]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/", headers=auth(USER, SECRET))
    seen.append(connection.getresponse().read())
    for text in seen:
        assert SECRET.encode() not in text
        assert hashlib.sha1(SECRET.encode()).hexdigest().encode() not in text
    CASES["security: secrets"] += len(seen)


def test_privileges_are_dropped_for_user_programs(guarded: tuple[RunningDaemon, int]) -> None:
    daemon, _ = guarded
    log = daemon.tmp / "nobody.log"
    wait_until(lambda: log.exists() and log.read_text().count("\n") >= 4)
    answers = dict(line.split(":") for line in log.read_text().split())
    CASES["security: privileges"] += len(answers)
    assert answers == {
        "signal": "denied",  # nobody cannot signal the daemon,
        "public": "allowed",  # can reach the folder and read what anyone may,
        "mainlog": "denied",  # but not the main log (umask 027: mode 0640)
        "socket": "denied",  # nor talk to the control socket (0760, root:daemon)
    }


def test_inet_beyond_loopback_needs_credentials(tmp_path: Path) -> None:
    daemon = RunningDaemon(tmp_path, {"PYTHONPATH": str(ROOT)})
    daemon.write(f"[inet_http_server]\nport = 0.0.0.0:{free_port()}\n")
    run = subprocess.run(
        [tool("twistd"), "-n", "--pidfile=", "supervise", "-c", str(daemon.conf)],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    CASES["security: exposure"] += 1
    assert run.returncode != 0
    assert "refusing to serve on" in run.stdout + run.stderr


@pytest.mark.parametrize("front", ["twistd", "supervise"])  # supervise: TLS loaded on demand
def test_https_with_a_certificate_in_the_config(tmp_path: Path, front: str) -> None:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    daemon = RunningDaemon(tmp_path, {"PYTHONPATH": str(ROOT)}, front=front)
    try:
        daemon.start(
            f"[inet_http_server]\nport = 127.0.0.1:{port}\nusername = {USER}\npassword = {SECRET}\n"
            f"certfile = {cert}\nkeyfile = {key}\n[program:web]\ncommand = sleep 3600\nstartsecs = 0\n"
        )
        trusted = ssl.create_default_context(cafile=str(cert))
        proxy = xmlrpc.client.ServerProxy(
            f"https://{USER}:{SECRET}@localhost:{port}/RPC2", context=trusted
        )
        assert proxy.supervisor.getState()["statename"] == "RUNNING"
        # Not trusted: refused by the client; plain HTTP on the TLS port: no answer.
        with pytest.raises(ssl.SSLError):
            xmlrpc.client.ServerProxy(f"https://localhost:{port}/RPC2").supervisor.getState()
        with pytest.raises((http.client.HTTPException, OSError)):
            xmlrpc.client.ServerProxy(
                f"http://{USER}:{SECRET}@127.0.0.1:{port}/RPC2"
            ).supervisor.getState()
        # supervisectl speaks https:// (trusting a private authority via SSL_CERT_FILE).
        out = subprocess.run(
            [tool("supervisectl"), "-s", f"https://localhost:{port}", "-u", USER, "-p", SECRET, "status"],
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "PYTHONPATH": str(ROOT), "SSL_CERT_FILE": str(cert)},
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        assert "web" in out.stdout and "RUNNING" in out.stdout
        CASES["security: tls"] += 4
    finally:
        daemon.close()
