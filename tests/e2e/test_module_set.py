"""The modules a daemon loads on a plain configuration (no TLS, no cluster, no plugin, the
console never opened): only what it uses. A module outside the allowed set fails the test
with the chain of imports that brought it in; a new feature that must load something at
start-up adds it here, knowingly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from supervise.testing import RunningDaemon, raw_xmlrpc, wait_until

ROOT = Path(__file__).resolve().parents[2]
REPORTER = ROOT / "supervise" / "testing" / "module_report.py"

# Top-level packages a plain daemon may load: the standard library's, then the rest.
ALLOWED_STDLIB = frozenset(
    """__future__ _abc _ast _bisect _blake2 _bz2 _codecs _collections _collections_abc
    _compat_pickle _compression _contextvars _csv _ctypes _datetime _decimal
    _frozen_importlib _frozen_importlib_external _functools _hashlib _heapq _imp _io _json
    _locale _lzma _opcode _operator _pickle _posixsubprocess _queue _random _sha512 _signal
    _sitebuiltins _socket _sre _stat _string _struct _thread _typing _uuid _warnings _weakref
    _weakrefset abc array ast atexit base64 binascii bisect builtins bz2 calendar codecs
    collections configparser contextlib contextvars copy copyreg csv ctypes dataclasses
    datetime decimal dis email encodings enum errno fcntl fnmatch functools gc genericpath getopt
    getpass gettext glob grp gzip hashlib heapq hmac html http importlib inspect io ipaddress
    itertools json keyword linecache locale logging lzma marshal math ntpath numbers opcode
    operator os pathlib pickle platform posix posixpath pty pwd pyexpat queue quopri random
    re reprlib resource secrets select selectors shlex shutil signal site socket stat string
    struct subprocess sys syslog tempfile termios textwrap threading time token tokenize
    traceback tty types typing unicodedata urllib uuid warnings weakref xml xmlrpc zipfile
    zipimport zlib""".split()  # noqa: SIM905 - a list of words reads better here
)
ALLOWED_OTHERS = frozenset(
    {"__main__", "supervise", "twisted", "zope", "attr", "attrs", "automat", "constantly",
     "incremental", "typing_extensions", "_distutils_hack"}
)  # fmt: skip
EDITABLE_FINDER = "__editable__"  # pip's finder of an editable install

# Loaded only when the config (or a request) needs them, whatever package they are in.
NOT_ON_A_PLAIN_CONFIG = {
    "ssl": "TLS: only with certfile",
    "_ssl": "TLS: only with certfile",
    "OpenSSL": "TLS: only with certfile",
    "cryptography": "TLS: only with certfile",
    "service_identity": "TLS: only with certfile",
    "twisted.internet.ssl": "TLS: only with certfile",
    "twisted.protocols.tls": "TLS: only with certfile",
    "twisted.internet._newtls": "startTLS: never used",
    "asyncio": "nothing in the daemon needs asyncio",
    "concurrent": "nothing in the daemon needs asyncio",
    "treq": "only with http checks or the webhook plugin",
    "txredisapi": "only with [cluster]",
    "supervise.cluster_store": "only with [cluster]",
    "supervise.cluster.agent": "only with [cluster]",
    "supervise.cluster.console": "only with [cluster]",
    "supervise.ctl": "the command-line client",
    "supervise.http.console_assets": "the console's files: only when served",
    "twisted.web.static": "only when a file is served",
    "twisted.web.template": "HTML templates: never on a plain config",
    "twisted.web.guard": "only with a username and password",
    "twisted.plugins.twisted_core": "twistd's plugin scan: the supervise command skips it",
    "twisted.trial": "twistd's plugin scan: the supervise command skips it",
    "twisted.conch": "twistd's plugin scan: the supervise command skips it",
    "hyperlink": "only when a file is served",
    "idna": "only when a file is served",
    "urllib.request": "not used (twisted.python.compat's deprecated alias)",
    "pdb": "twistd --debug only",
    "hashlib": "OpenSSL's libcrypto (3 MiB): only with credentials or cluster signing",
    "_hashlib": "OpenSSL's libcrypto (3 MiB): only with credentials or cluster signing",
    "hmac": "OpenSSL's libcrypto (3 MiB): only with credentials or a console POST",
    "secrets": "loads hmac, and through it libcrypto",
    "twisted.cred": "only with a username and password",
    "twisted.spread": "Perspective Broker: never used",
    "importlib.metadata": "only when the config names a plugin",
    "importlib.resources": "the console's files are read from the package folder",
    "http.client": "xmlrpc.client's HTTP transport: never used by the daemon",
    "email": "twisted.web.http's form-upload parsing: no route takes form posts",
    "unittest": "tests only",
}


def forbidden_reason(name: str) -> str | None:
    """Why ``name`` must not be loaded on a plain config (None: it may be)."""
    for prefix, reason in NOT_ON_A_PLAIN_CONFIG.items():
        if name == prefix or name.startswith(prefix + "."):
            return reason
    top = name.split(".")[0]
    if top in ALLOWED_STDLIB or top in ALLOWED_OTHERS or top.startswith(EDITABLE_FINDER):
        return None
    return "not in the allowed set (tests/e2e/test_module_set.py)"


def chain(name: str, importers: dict[str, str]) -> str:
    """``name <- its importer <- …`` up to the command line."""
    links, seen = [name], {name}
    while (name := importers.get(name, "-")) not in ("-", "__main__") and name not in seen:
        links.append(name)
        seen.add(name)
    return " <- ".join(links)


def loaded_modules(tmp_path: Path, body: str) -> dict[str, str]:
    """Run ``supervise -n`` on a config with ``body``; once its programs run and it has
    answered getAllProcessInfo, the modules it has loaded (name → importer)."""
    daemon = RunningDaemon(tmp_path)
    daemon.write(body)
    report = tmp_path / "modules.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODULE_REPORT": str(report)}
    process = subprocess.Popen(
        [sys.executable, str(REPORTER), "-n", "-c", str(daemon.conf)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    daemon.process = process  # so that close() stops it and its programs

    def all_running() -> bool:
        if not daemon.sock.exists():
            return False
        try:
            answer = raw_xmlrpc(daemon.sock, "supervisor.getAllProcessInfo")
        except OSError:
            return False
        return b"RUNNING" in answer and b"STARTING" not in answer

    try:
        wait_until(all_running, what="every program RUNNING")
        raw_xmlrpc(daemon.sock, "supervisor.getProcessInfo", "one")
        process.send_signal(signal.SIGWINCH)
        wait_until(report.exists, what="the module report")
    finally:
        daemon.close()
    return dict(line.split() for line in report.read_text().splitlines())


def test_a_plain_daemon_loads_only_what_it_uses(tmp_path: Path) -> None:
    modules = loaded_modules(
        tmp_path,
        "[program:one]\ncommand = sleep 3600\nstartsecs = 0\n"
        "[program:two]\ncommand = sleep 3600\nstartsecs = 0\nstdout_logfile = AUTO\n",
    )
    assert "supervise.rpc.supervisor_ns.process_info" in modules  # the report is complete
    offending = [
        f"{name} ({reason}): {chain(name, modules)}"
        for name in sorted(modules)
        if (reason := forbidden_reason(name)) is not None
    ]
    assert not offending, "a plain daemon loaded:\n" + "\n".join(offending)
