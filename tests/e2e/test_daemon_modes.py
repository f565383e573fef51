"""Layer 4: the daemon's modes — the four command lines (re-exec, a second daemon, an
unusable main log), daemonizing, log reopening, fcgi sockets, dropping privileges."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon, tool
from tests.e2e.test_daemon import wait_until

pytestmark = pytest.mark.e2e

#: The four ways to run the daemon: the command (config path relative to the folder it
#: runs in) and whether it stays in the foreground.
FORMS: dict[str, tuple[list[str], bool]] = {
    "twistd -n": (["twistd", "-n", "--pidfile=", "supervise", "-c", "supervisord.conf"], True),
    "twistd": (["twistd", "--pidfile=twistd.pid", "supervise", "-c", "supervisord.conf"], False),
    "supervise -n": (["python3", "-m", "supervise.cli", "-n", "-c", "supervisord.conf"], True),
    "supervise": (["python3", "-m", "supervise.cli", "-c", "supervisord.conf"], False),
}

WRITER = (
    "import itertools,time\nfor i in itertools.count():\n    print(i, flush=True)\n"
    "    time.sleep(0.01)\n"
)


def command(form: str) -> list[str]:
    words, _ = FORMS[form]
    return [tool(words[0]), *words[1:]]


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie no init reaps counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Launched:
    """The daemon started by one of the four command lines, in its folder."""

    def __init__(self, daemon: Daemon, form: str) -> None:
        self.daemon = daemon
        self.form = form
        self.foreground = FORMS[form][1]
        self.process: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def start(self) -> Launched:
        """Return once the daemon is ready: READY=1 in the foreground; in the background,
        once the launching command has exited 0 (twistd's parent waits for the start)."""
        tmp = self.daemon.tmp
        env = self.daemon.env()
        if not self.foreground:
            launcher = subprocess.run(
                command(self.form), env=env, cwd=tmp, capture_output=True, text=True, timeout=60
            )
            assert launcher.returncode == 0, launcher.stderr
            self.pid = int((tmp / "supervisord.pid").read_text())
            return self
        notify = tmp / "notify.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify))
        env["NOTIFY_SOCKET"] = str(notify)
        with open(tmp / "daemon.out", "wb") as out:
            self.process = subprocess.Popen(
                command(self.form), env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT
            )
        listener.settimeout(0.2)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    assert listener.recv(1024).startswith(b"READY=1")
                    break
                except TimeoutError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.process.kill()
                        raise AssertionError((tmp / "daemon.out").read_text()) from None
        finally:
            listener.close()
            notify.unlink()
        self.pid = self.process.pid
        return self

    def stop(self) -> None:
        """SIGTERM the daemon and wait until it is gone (SIGKILL if it hangs)."""
        if not self.pid or gone(self.pid):
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            if self.process is not None:
                self.process.wait(60)
            else:
                wait_until(lambda: gone(self.pid), 60)
        finally:
            if not gone(self.pid):
                os.kill(self.pid, signal.SIGKILL)


def answering(daemon: Daemon) -> bool:
    try:
        return daemon.rpc().supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
        return False


def reexecs(daemon: Daemon) -> int:
    return (daemon.tmp / "main.log").read_text().count("re-executed: taking over")


def reexec(daemon: Daemon, launched: Launched, how: str) -> None:
    if how == "supervisectl":
        done = subprocess.run(
            [tool("supervisectl"), "-c", str(daemon.conf), "reexec"],
            capture_output=True, text=True, timeout=60, env=daemon.env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    elif how == "xmlrpc":
        assert daemon.rpc().supervise.reexec() is True
    else:
        os.kill(launched.pid, signal.SIGUSR1)


@pytest.mark.parametrize("form", list(FORMS))
def test_reexec_again_and_again_from_every_command_line(tmp_path: Path, form: str) -> None:
    """Three re-execs in a row (supervisectl, XML-RPC twice) and one SIGUSR1: the daemon
    keeps its pid and pidfile and answers after each, the program is never restarted,
    and its log has every line it wrote."""
    daemon = Daemon(tmp_path)
    (tmp_path / "writer.py").write_text(WRITER)
    daemon.write(
        f"[program:writer]\ncommand = {sys.executable} -u {tmp_path}/writer.py\n"
        f"startsecs = 0\nstdout_logfile = {tmp_path}/writer.log\n"
    )
    launched = Launched(daemon, form).start()
    pidfiles = [tmp_path / "supervisord.pid"]
    if form == "twistd":
        pidfiles.append(tmp_path / "twistd.pid")
    try:
        rpc = daemon.rpc()
        wait_until(lambda: rpc.supervisor.getProcessInfo("writer")["statename"] == "RUNNING")
        writer = rpc.supervisor.getProcessInfo("writer")["pid"]
        assert rpc.supervisor.getPID() == launched.pid
        for count, how in enumerate(["supervisectl", "xmlrpc", "xmlrpc", "SIGUSR1"], start=1):
            size = os.path.getsize(tmp_path / "writer.log")
            reexec(daemon, launched, how)
            wait_until(lambda n=count: reexecs(daemon) == n and answering(daemon), 30)
            info = daemon.rpc().supervisor.getProcessInfo("writer")
            assert (info["statename"], info["pid"]) == ("RUNNING", writer), how
            assert daemon.rpc().supervisor.getPID() == launched.pid, how
            assert [int(p.read_text()) for p in pidfiles] == [launched.pid] * len(pidfiles)
            wait_until(lambda s=size: os.path.getsize(tmp_path / "writer.log") > s)
        assert "conflicting command line option" not in (tmp_path / "main.log").read_text()
    finally:
        launched.stop()
    assert gone(writer)
    assert not any(p.exists() for p in pidfiles)
    numbers = [int(line) for line in (tmp_path / "writer.log").read_text().split()]
    assert numbers == list(range(len(numbers))), "lines lost or repeated across re-execs"


@pytest.mark.parametrize("form", list(FORMS))
def test_second_daemon_exits_at_once_naming_the_socket(daemon: Daemon, form: str) -> None:
    """A second daemon on a config whose socket is served exits non-zero, saying so once
    and naming the socket, in every command line, and leaves the first one untouched."""
    daemon.start("[program:x]\ncommand = sleep 300\nstartsecs = 0\n")
    state_file = daemon.tmp / "supervisord.pid.state"
    wait_until(state_file.exists)
    before = {
        p: p.read_bytes()
        for p in (daemon.tmp / "supervisord.pid", state_file, daemon.tmp / "main.log")
    }
    logs = sorted(daemon.tmp.glob("x-*---e2e-*.log"))
    second = subprocess.run(
        command(form), env=daemon.env(), cwd=daemon.tmp, capture_output=True, text=True, timeout=60
    )
    assert second.returncode != 0
    assert f"file {daemon.sock} is in use" in second.stderr
    assert second.stderr.count("Another program is already listening on a port") == 1
    assert "twistd -h" not in second.stderr
    assert daemon.sock.exists() and answering(daemon)
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(daemon.tmp.glob("x-*---e2e-*.log")) == logs


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("problem", ["a directory", "a missing folder"])
def test_unwritable_main_log_stops_the_start(tmp_path: Path, form: str, problem: str) -> None:
    """A main log that cannot be a file stops the start, naming it, in every command line."""
    daemon = Daemon(tmp_path)
    conf = daemon.write("[program:x]\ncommand = sleep 300\nstartsecs = 0\n")
    target = tmp_path / ("logs" if problem == "a directory" else "missing/main.log")
    if problem == "a directory":
        target.mkdir()
    conf.write_text(conf.read_text().replace(f"{tmp_path}/main.log", str(target)))
    result = subprocess.run(
        command(form), env=daemon.env(), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert str(target) in result.stderr
    assert not daemon.sock.exists() and not (tmp_path / "supervisord.pid").exists()


def test_auto_log_under_dotdot_childlogdir_survives_reexec(daemon: Daemon) -> None:
    """An AUTO log in a childlogdir written with ``..`` keeps its content and mode 0600
    across a re-exec."""
    (daemon.tmp / "var").mkdir()
    (daemon.tmp / "etc").mkdir()
    conf = daemon.write(
        "[program:talker]\ncommand = sh -c 'echo before; read line; echo after'\n"
        "startsecs = 0\nstdout_logfile = AUTO\n"
    )
    conf.write_text(
        conf.read_text().replace(f"childlogdir = {daemon.tmp}", "childlogdir = %(here)s/etc/../var")
    )
    daemon.start(None)
    rpc = daemon.rpc()
    wait_until(lambda: rpc.supervisor.readProcessStdoutLog("talker", 0, 0) == "before\n")
    [log] = (daemon.tmp / "var").glob("talker-stdout---e2e-*.log")
    assert rpc.supervise.reexec() is True
    wait_until(lambda: reexecs(daemon) == 1 and answering(daemon), 30)
    rpc = daemon.rpc()
    rpc.supervisor.sendProcessStdin("talker", "go\n")
    wait_until(lambda: rpc.supervisor.getProcessInfo("talker")["statename"] == "EXITED")
    assert list((daemon.tmp / "var").glob("talker-stdout---e2e-*.log")) == [log]
    assert log.read_text() == "before\nafter\n"
    assert log.stat().st_mode & 0o777 == 0o600


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
