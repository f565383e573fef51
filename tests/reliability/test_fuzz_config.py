"""The config parser never fails with anything but a located ConfigError.

Random configurations (sections and options of supervisord's vocabulary with random
values) and mutations of a realistic one (bytes inserted, deleted, replaced; lines
duplicated, swapped, cut) are loaded: each either builds a model or raises ConfigError
naming where — never another exception.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervise.config import ConfigError, ConfigModel, load
from tests.reliability.conftest import CASES, scale

SECTIONS = [
    "supervisord", "program:web", "program:worker", "group:g", "eventlistener:ev",
    "fcgi-program:fc", "unix_http_server", "inet_http_server", "supervisorctl", "include",
    "rpcinterface:supervisor", "socket:s", "plugin:p", "cluster", "program:", "group:",
]  # fmt: skip
OPTIONS = [
    "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
    "autorestart", "startsecs", "startretries", "exitcodes", "stopsignal", "stopwaitsecs",
    "stopasgroup", "killasgroup", "user", "redirect_stderr", "stdout_logfile",
    "stdout_logfile_maxbytes", "stdout_logfile_backups", "stdout_capture_maxbytes",
    "stdout_events_enabled", "stdout_syslog", "stderr_logfile", "environment", "directory",
    "umask", "serverurl", "programs", "events", "buffer_size", "result_handler", "files",
    "logfile", "logfile_maxbytes", "loglevel", "pidfile", "nodaemon", "minfds", "minprocs",
    "nocleanup", "childlogdir", "identifier", "port", "username", "password", "file",
    "chmod", "chown", "socket", "socket_owner", "socket_mode", "depends_on", "ready",
    "healthcheck", "healthcheck_interval", "cgroup", "memory_max", "cpu_max", "pids_max",
    "watch", "absent_grace", "pidfile", "sockets", "redis", "node", "labels", "viewers",
    "allow_users", "heartbeat", "supervisor.rpcinterface_factory", "listen", "backlog",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "true",
            "false",
            "yes",
            "unexpected",
            "999999999999999999999",
            "sleep 10",
            "%(program_name)s",
            "%(process_num)02d",
            "%(here)s/x",
            "%(ENV_HOME)s",
            "%(nope)s",
            "%(",
            "%%",
            "TERM",
            "SIGKILL",
            "99",
            "1MB",
            "10GB",
            "-5KB",
            "AUTO",
            "NONE",
            "syslog",
            "/dev/null",
            "/nonexistent/dir/f.log",
            "0o777",
            "022",
            "abc",
            'A=1,B="2"',
            "A=",
            "=",
            "127.0.0.1:0",
            ":9001",
            "[::1]:9001",
            "unix:/tmp/x.sock",
            "tcp:localhost:1",
            "http://x",
            "command:true",
            "notify",
            "web,worker",
            "*",
            "root",
            "nobody",
            "nosuchuser",
            "x:y",
            "{SHA}00",
            "redis://",
            "redis://h:notaport",
            "PROCESS_STATE,TICK_5",
            "EVENT_BUFFER_OVERFLOW",
            "1.5",
            "nan",
            "inf",
            "1e400",
            "1h",
            "30m",
            "7d",
            "64MB:unlimited",
            "unlimited",
            "-/x.env",
        ]
    ),
    st.text(max_size=40),
)


@st.composite
def configs(draw: Any) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        lines.append(f"[{draw(st.sampled_from(SECTIONS))}]")
        for _ in range(draw(st.integers(0, 8))):
            value = draw(VALUES).replace("\n", " ").replace("\r", " ")
            lines.append(f"{draw(st.sampled_from(OPTIONS))} = {value}")
    return "\n".join(lines) + "\n"


REALISTIC = """\
[supervisord]
logfile = %(here)s/main.log
pidfile = %(here)s/d.pid
[unix_http_server]
file = %(here)s/d.sock
[program:web]
command = sleep 10
process_name = %(program_name)s_%(process_num)02d
numprocs = 2
environment = A="1",B=2
stdout_logfile = %(here)s/web.log
stdout_logfile_maxbytes = 1MB
[group:all]
programs = web
[eventlistener:ev]
command = cat
events = PROCESS_STATE
[include]
files = *.ini
"""


@st.composite
def mutations(draw: Any) -> str:
    text = REALISTIC
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "dup", "swap", "cut"]))
        position = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:position] + draw(st.text(max_size=8)) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 10)) :]
        elif kind == "replace":
            text = (
                text[:position]
                + draw(st.sampled_from("[]=:%()\n\t ;#\\\x00\xff"))
                + text[position + 1 :]
            )
        else:
            lines = text.splitlines()
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if kind == "dup":
                lines.insert(i, lines[j])
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                del lines[i]
            text = "\n".join(lines) + "\n"
    return text


def check(text: str, raw: bytes | None = None) -> None:
    CASES["config parser"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "supervisord.conf"
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
        (Path(folder) / "extra.ini").write_text("[program:inc]\ncommand = true\n")
        try:
            model = load(str(path), environ={"HOME": "/root", "PATH": os.environ.get("PATH", "")})
        except ConfigError as problem:
            assert str(problem), "a ConfigError must say what is wrong"
            return
        assert isinstance(model, ConfigModel)


FUZZ = settings(
    max_examples=scale(300, 5000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@FUZZ
@given(configs())
def test_random_configs_load_or_raise_config_error(text: str) -> None:
    check(text)


@FUZZ
@given(mutations())
def test_mutated_configs_load_or_raise_config_error(text: str) -> None:
    check(text)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_load_or_raise_config_error(raw: bytes) -> None:
    check("", raw=b"[supervisord]\n" + raw)
