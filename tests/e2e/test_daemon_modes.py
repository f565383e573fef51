"""Layer 4: the daemon's modes — daemonizing, log reopening, fcgi sockets, dropping privileges."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon, tool
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e


def test_supervise_command_daemonizes_with_pidfile(tmp_path: Path) -> None:
    """Without -n the supervise command forks into the background and writes the pidfile."""
    d = Daemon(tmp_path)
    conf = d.write("[program:bg]\ncommand = sleep 300\nstartsecs = 0\n")
    launcher = subprocess.run(
        [tool("python3"), "-m", "supervise.cli", "-c", str(conf)],
        env=d.env(),
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert launcher.returncode == 0, launcher.stderr
    pidfile = tmp_path / "supervisord.pid"
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip().isdigit())
    pid = int(pidfile.read_text())
    try:
        wait_until(lambda: d.sock.exists())
        assert d.rpc().supervisor.getPID() == pid
        wait_until(lambda: d.rpc().supervisor.getProcessInfo("bg")["statename"] == "RUNNING")
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not pidfile.exists())


@pytest.mark.skipif(os.getuid() != 0, reason="the root warning needs root")
def test_supervise_in_the_foreground_logs_each_startup_error_once(tmp_path: Path) -> None:
    """`supervise -n` as root: the "running as root" error is in the main log and on the
    terminal once, not echoed back through twistd's stdio redirection in a loop."""
    d = Daemon(tmp_path)
    conf = d.write("[program:fg]\ncommand = sleep 300\nstartsecs = 0\n")
    daemon = subprocess.Popen(
        [tool("python3"), "-m", "supervise.cli", "-n", "-c", str(conf)],
        env=d.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: d.sock.exists())
        wait_until(lambda: d.rpc().supervisor.getProcessInfo("fg")["statename"] == "RUNNING")
    finally:
        daemon.terminate()
        out, err = daemon.communicate(timeout=60)
    main_log = (tmp_path / "main.log").read_text()
    for text in (main_log, out, err):
        assert text.count("Supervisor is running as root") == 1
        assert "Unable to format event" not in text


def test_sigusr2_reopens_logs(daemon: Daemon) -> None:
    """After an external rotation (rename + SIGUSR2) the main log is written to a new file."""
    daemon.start("[program:x]\ncommand = sleep 300\nstartsecs = 0\n")
    main_log = daemon.tmp / "main.log"
    main_log.rename(daemon.tmp / "main.log.1")
    assert daemon.process is not None
    os.kill(daemon.process.pid, signal.SIGUSR2)
    wait_until(lambda: main_log.exists() and "supervisord logreopen" in main_log.read_text())
    assert (
        "received SIGUSR2 indicating log reopen request" in (daemon.tmp / "main.log.1").read_text()
    )


def test_fcgi_program_shares_one_listening_socket(daemon: Daemon) -> None:
    """Each process of an [fcgi-program:x] gets the same listening socket on its stdin."""
    sock_path = daemon.tmp / "fcgi.sock"
    script = (
        "import socket,sys; s=socket.socket(fileno=0); "
        "print(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN), s.getsockname(), flush=True); "
        "import time; time.sleep(300)"
    )
    daemon.start(
        f'[fcgi-program:app]\nsocket = unix://{sock_path}\ncommand = {sys.executable} -c "{script}"\n'
        "process_name = %(program_name)s_%(process_num)d\nnumprocs = 2\nstartsecs = 0\n"
    )
    rpc = daemon.rpc()
    wait_until(
        lambda: all(rpc.supervisor.readProcessStdoutLog(f"app:app_{n}", 0, 0) for n in (0, 1))
    )
    for n in (0, 1):
        assert rpc.supervisor.readProcessStdoutLog(f"app:app_{n}", 0, 0) == f"1 {sock_path}\n"
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(sock_path))
    client.close()


def _world_readable_python() -> bool:
    """True if 'nobody' could import the rest of the standard library after the drop."""
    import email

    path = Path(email.__file__).resolve().parent
    return all(os.stat(p).st_mode & 0o005 == 0o005 for p in [path, *path.parents])


@pytest.mark.skipif(os.getuid() != 0, reason="dropping privileges needs root")
@pytest.mark.skipif(
    not _world_readable_python(), reason="this Python's files are not readable by nobody"
)
def test_supervisord_user_drops_privileges() -> None:
    """[supervisord] user=nobody: the daemon and its programs run as nobody."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="supervise-user-"))
    os.chmod(folder, 0o777)
    daemon = Daemon(folder)
    nobody = pwd.getpwnam("nobody")
    daemon.write("[program:who]\ncommand = sh -c 'id -u; exec sleep 300'\nstartsecs = 0\n")
    daemon.conf.write_text(
        daemon.conf.read_text().replace("[supervisord]\n", "[supervisord]\nuser = nobody\n", 1)
    )
    try:
        daemon.start(None)
        rpc = daemon.rpc()
        wait_until(lambda: rpc.supervisor.readProcessStdoutLog("who", 0, 0) == f"{nobody.pw_uid}\n")
        with open(f"/proc/{rpc.supervisor.getPID()}/status") as status:
            uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
        assert set(uids) == {str(nobody.pw_uid)}
    finally:
        daemon.close()
        shutil.rmtree(folder, ignore_errors=True)
