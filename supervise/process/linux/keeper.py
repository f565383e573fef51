"""Let children's output pipes outlive a killed daemon: the client of the descriptor keeper.

The keeper (``supervise.process.linux.keeper_main``) is one small process, started by the
daemon in its own session, that holds duplicates of every child's pipe read ends and
never reads them. While the daemon runs it reads the pipes itself as before; when the
daemon is killed, the keeper's copies keep each pipe open, so a child writing output
blocks once its pipe is full instead of dying of SIGPIPE, and no byte is lost. The next
daemon connects, ``take()``s every descriptor with its key, and reads on.

The daemon's side::

    client = connect(path) or launch_keeper(path, log_path=...)[0]
    client.keep(child_key("web", pid, "stdout"), fd)   # after each spawn
    client.drop(child_match("web", pid))               # after reaping and draining
    for kept in client.take(): ...                     # at start, after a crash
    client.quit()                                      # on a clean shutdown

Every call is synchronous on a blocking socket with a timeout (a few tens of
microseconds on a local socket). A dead, hung or misbehaving keeper never hurts the
daemon: each call either succeeds or raises ``KeeperUnavailable`` (a ``KeeperError``),
after which the client is closed and the daemon carries on without a keeper, or
connects again. No Twisted here: the daemon wraps it as it likes.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping

from attrs import define, field, frozen

from supervise.process.linux import keeper_main
from supervise.process.linux.keeper_main import (
    MAX_FDS,
    PROTOCOL_VERSION,
    FrameReader,
    Key,
    KeyValue,
    ProtocolError,
    canonical_key,
    close_all,
    send_frame,
)

__all__ = [
    "KeeperClient",
    "KeeperError",
    "KeeperStatus",
    "KeeperUnavailable",
    "Kept",
    "Key",
    "KeyValue",
    "child_key",
    "child_match",
    "connect",
    "launch_keeper",
    "spawn_keeper",
]

#: Seconds a call waits for the keeper before giving it up for hung.
CALL_TIMEOUT = 2.0
#: Seconds ``spawn_keeper`` waits for the new keeper to listen.
SPAWN_TIMEOUT = 10.0
#: Longest path a unix socket address takes (``sun_path`` less its NUL).
MAX_SOCKET_PATH = 107


class KeeperError(Exception):
    """The keeper could not do what was asked; log it and carry on."""


class KeeperUnavailable(KeeperError):
    """The keeper is dead, hung, refused us or broke the protocol; the client is closed."""


class InvalidKey(KeeperError, ValueError):
    """A key is not a non-empty mapping of JSON scalars of at most 1 KiB."""


@frozen
class Kept:
    """One descriptor handed back by ``take``: now owned (and to be closed) by the caller."""

    key: dict[str, KeyValue]
    fd: int


@frozen
class KeeperStatus:
    """What the keeper says about itself."""

    pid: int
    kept: int
    version: int


def child_key(namespec: str, pid: int, stream: str) -> dict[str, KeyValue]:
    """The key of one child's stream (``stdout``, ``stderr``)."""
    return {"namespec": namespec, "pid": pid, "stream": stream}


def child_match(namespec: str, pid: int) -> dict[str, KeyValue]:
    """A ``drop`` match for every stream of one child."""
    return {"namespec": namespec, "pid": pid}


def spawn_keeper(
    path: str,
    *,
    idle_timeout: float = 60.0,
    log_path: str | None = None,
    timeout: float = SPAWN_TIMEOUT,
) -> int:
    """Start a keeper listening on ``path``; return its pid once it listens.

    The keeper runs ``keeper_main.py`` in a fresh interpreter (``-I -S``: no site, no
    Twisted), in its own session, detached (it is this process's grandchild: under the
    daemon's subreaper it is re-parented to the daemon, otherwise to init). It exits by
    itself after ``idle_timeout`` seconds with no daemon connected and nothing kept
    (0: never). Its log lines go to ``log_path`` (appended), or nowhere.

    :raises KeeperError: the keeper did not start (another keeper already listens on
        ``path``, the path is unusable, or it was not listening after ``timeout`` s).
    """
    read_end, write_end = os.pipe()
    try:
        launcher = _launch(path, idle_timeout, log_path, ("--ready-fd", write_end), detach=True)
    except KeeperError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    try:
        answer = _read_answer(read_end, time.monotonic() + timeout)
    finally:
        os.close(read_end)
    word, _, rest = answer.partition(" ")
    started = word == "ready" and rest.isdigit()
    if not started:
        _kill_group(launcher.pid)  # a keeper still starting after the timeout goes too
    try:
        launcher.wait(timeout=timeout)  # it exits right after forking the keeper
    except subprocess.TimeoutExpired:
        _kill_group(launcher.pid)
        launcher.wait()
    if started:
        return int(rest)
    if word == "error":
        raise KeeperError(f"the keeper did not start: {rest}")
    raise KeeperError(
        f"the keeper did not start within {timeout:g} s (launcher status {launcher.returncode})"
    )


def launch_keeper(
    path: str, *, idle_timeout: float = 60.0, log_path: str | None = None
) -> tuple[KeeperClient, subprocess.Popen[bytes]]:
    """Start a keeper on ``path`` as ``spawn_keeper`` does, without waiting for it.

    Returns a client already connected (one end of a socket pair; the keeper serves the
    other as its daemon's connection once it listens) and the keeper's process: the
    caller's child (not detached), which the caller reaps when it ends. Descriptors sent
    meanwhile wait in the socket, so a daemon killed before the keeper runs loses none.
    A keeper that cannot start (another one listens on ``path``; see its log) closes its
    end: the client's next call raises ``KeeperUnavailable``.

    :raises KeeperError: the keeper's process could not be started.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        keeper = _launch(path, idle_timeout, log_path, ("--client-fd", theirs.fileno()))
    except KeeperError:
        ours.close()
        raise
    finally:
        theirs.close()
    ours.settimeout(CALL_TIMEOUT)
    return KeeperClient(path, ours, keeper_pid=keeper.pid), keeper


def _launch(
    path: str,
    idle_timeout: float,
    log_path: str | None,
    passed: tuple[str, int],
    detach: bool = False,
) -> subprocess.Popen[bytes]:
    """The keeper's process (with ``detach``, its launcher), given descriptor ``passed``
    (an option and an fd)."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise KeeperError(f"socket path longer than {MAX_SOCKET_PATH} bytes: {path}")
    option, fd = passed
    argv = [
        sys.executable, "-I", "-S", keeper_main.__file__, path,
        "--idle-timeout", repr(float(idle_timeout)), option, str(fd),
    ] + (["--detach"] if detach else [])  # fmt: skip
    try:
        stderr = (
            os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            if log_path is not None
            else subprocess.DEVNULL
        )
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(fd,),
                start_new_session=True,
                cwd="/",
                env={"PATH": os.defpath},
            )
        finally:
            if stderr != subprocess.DEVNULL:
                os.close(stderr)
    except OSError as error:
        raise KeeperError(f"cannot start a keeper: {error}") from error


def _kill_group(pgid: int) -> None:
    """SIGKILL a process group (the launcher, not yet reaped, keeps its id from reuse)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_answer(fd: int, deadline: float) -> str:
    """What the keeper wrote on ``fd`` up to end of file (it closes it right after its
    line, so no descriptor of ours lingers in it); bounded by ``deadline``."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            return ""
        chunk = os.read(fd, 4096)
        if not chunk:
            return data.decode(errors="replace").strip()
        data += chunk


def connect(path: str, *, timeout: float = CALL_TIMEOUT) -> KeeperClient | None:
    """Connect to the keeper on ``path``; None if no keeper listens there.

    A new connection replaces the keeper's previous one (whose daemon is presumed dead).
    ``timeout`` bounds every later call, in seconds.

    :raises KeeperUnavailable: something listens but refused us or does not speak the
        protocol (wrong version, other uid, not a keeper).
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as error:
        sock.close()
        raise KeeperUnavailable(f"keeper at {path}: {error}") from error
    client = KeeperClient(path, sock)
    reply = client._call({"op": "hello", "version": PROTOCOL_VERSION})
    if reply.get("version") != PROTOCOL_VERSION:
        client.close()
        raise KeeperUnavailable(f"keeper at {path} speaks version {reply.get('version')!r}")
    client.keeper_pid = client._int(reply, "pid")
    return client


def _keep_messages(
    items: Iterable[tuple[Mapping[str, KeyValue], int]],
) -> list[tuple[dict[str, object], list[int]]]:
    """The ``keep`` messages for ``items``, MAX_FDS descriptors each (all checked first)."""
    pairs = [(_key(key), fd) for key, fd in items]
    for _, fd in pairs:
        try:
            fcntl.fcntl(fd, fcntl.F_GETFD)
        except OSError as error:
            raise KeeperError(f"cannot keep descriptor {fd}: {error.strerror}") from None
    messages: list[tuple[dict[str, object], list[int]]] = []
    for start in range(0, len(pairs), MAX_FDS):
        batch = pairs[start : start + MAX_FDS]
        keys: list[object] = [key for key, _ in batch]
        messages.append(({"op": "keep", "keys": keys, "fds": len(batch)}, [fd for _, fd in batch]))
    return messages


def _key(key: Mapping[str, KeyValue]) -> dict[str, KeyValue]:
    try:
        canonical_key(dict(key))
    except (ProtocolError, TypeError, ValueError) as error:
        raise InvalidKey(f"invalid key {key!r}: {error}") from None
    return dict(key)


#: ``send_keep`` messages left unanswered at most: their answers (about 40 bytes each)
#: stay far below what the socket holds, so neither side ever blocks on a full buffer.
MAX_UNANSWERED = 64


@define(eq=False)
class KeeperClient:
    """A daemon's connection to its keeper; every call raises only ``KeeperError``."""

    path: str
    sock: socket.socket | None
    keeper_pid: int = 0
    _reader: FrameReader = field(factory=FrameReader, init=False)
    #: ``keep`` messages sent whose replies are not read yet (see ``send_keep``).
    _unanswered: int = field(default=0, init=False)

    @property
    def closed(self) -> bool:
        """True once closed, by ``close``/``quit`` or after ``KeeperUnavailable``."""
        return self.sock is None

    def keep(self, key: Mapping[str, KeyValue], fd: int) -> None:
        """Have the keeper hold a duplicate of ``fd`` under ``key`` (replacing that key's).

        The caller keeps its own ``fd`` and goes on reading it.
        """
        self.keep_all([(key, fd)])

    def keep_all(self, items: Iterable[tuple[Mapping[str, KeyValue], int]]) -> int:
        """``keep`` each (key, descriptor), ``MAX_FDS`` per message; return the keeper's count.

        :raises InvalidKey: a key is not valid (nothing sent).
        :raises KeeperError: a descriptor is not open (nothing sent).
        :raises KeeperUnavailable: the keeper is gone (the client is closed).
        """
        kept = 0
        for message, fds in _keep_messages(items):
            kept = self._int(self._call(message, fds), "kept")
        return kept

    def send_keep(self, items: Iterable[tuple[Mapping[str, KeyValue], int]]) -> None:
        """``keep_all`` without waiting for the keeper's answer: the descriptors are in
        the keeper's socket once sent (a daemon killed now loses none), and the answer
        is read before the next call's, or after MAX_UNANSWERED sends. A spawn costs no
        round trip to the keeper; a refusal surfaces at the next call.

        :raises KeeperError: as ``keep_all``, now or for an earlier send.
        """
        for message, fds in _keep_messages(items):
            self._send_unanswered(message, fds)

    def send_drop(self, match: Mapping[str, KeyValue]) -> None:
        """``drop`` without waiting for the answer (read as ``send_keep``'s are): an exit
        costs no round trip to the keeper before the program's restart."""
        self._send_unanswered({"op": "drop", "match": _key(match)}, [])

    def _send_unanswered(self, message: dict[str, object], fds: list[int]) -> None:
        if self.sock is None:
            raise KeeperUnavailable(f"keeper at {self.path}: not connected")
        try:
            send_frame(self.sock, message, fds)
        except OSError as error:
            raise self._broken(error) from error
        self._unanswered += 1
        if self._unanswered >= MAX_UNANSWERED:
            self._settle()

    def _settle(self) -> None:
        """Read the answers of the messages sent without waiting."""
        while self._unanswered:
            self._unanswered -= 1
            try:
                _, received = self._receive()
            except (OSError, ProtocolError) as error:
                raise self._broken(error) from error
            if received:
                close_all(received)
                raise self._broken(ProtocolError("unexpected descriptors in a reply"))

    def drop(self, match: Mapping[str, KeyValue]) -> int:
        """Close the keeper's descriptors whose keys hold all of ``match``'s items.

        Call it once the child is reaped and its pipes drained (``child_match`` drops
        both streams). Returns how many were dropped (0 is not an error).
        """
        reply = self._call({"op": "drop", "match": _key(match)})
        return self._int(reply, "dropped")

    def take(self) -> list[Kept]:
        """Duplicates of every kept descriptor with its key, in the order kept.

        The caller owns the returned descriptors (close-on-exec, blocking mode as the
        previous daemon left it); the keeper goes on holding its own until ``drop``.
        """
        taken: list[Kept] = []
        try:
            reply, fds = self._exchange({"op": "take"})
            while True:
                keys = reply.get("keys")
                if not isinstance(keys, list) or len(keys) != len(fds):
                    close_all(fds)
                    raise ProtocolError("take: one key per descriptor expected")
                taken.extend(Kept(key, fd) for key, fd in zip(keys, fds, strict=True))
                if not reply.get("more"):
                    return taken
                reply, fds = self._receive()
        except KeeperError:
            close_all([kept.fd for kept in taken])
            raise
        except (OSError, ProtocolError) as error:
            close_all([kept.fd for kept in taken])
            raise self._broken(error) from error

    def status(self) -> KeeperStatus:
        """The keeper's pid, how many descriptors it holds, its protocol version."""
        reply = self._call({"op": "status"})
        return KeeperStatus(
            self._int(reply, "pid"), self._int(reply, "kept"), self._int(reply, "version")
        )

    def quit(self) -> None:
        """End the keeper (a clean daemon shutdown): it closes everything and exits."""
        self._call({"op": "quit"})
        self.close()

    def close(self) -> None:
        """Disconnect; the keeper goes on holding what it keeps."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._unanswered = 0
        self._reader.close()

    def _call(self, message: dict[str, object], fds: list[int] | None = None) -> dict[str, object]:
        try:
            reply, received = self._exchange(message, fds or [])
        except (OSError, ProtocolError) as error:
            raise self._broken(error) from error
        if received:
            close_all(received)
            raise self._broken(ProtocolError("unexpected descriptors in a reply"))
        return reply

    def _exchange(
        self, message: dict[str, object], fds: list[int] | None = None
    ) -> tuple[dict[str, object], list[int]]:
        if self.sock is None:
            raise KeeperUnavailable(f"keeper at {self.path}: not connected")
        self._settle()
        send_frame(self.sock, message, fds or [])
        return self._receive()

    def _receive(self) -> tuple[dict[str, object], list[int]]:
        assert self.sock is not None
        while True:
            frame = self._reader.next_frame()
            if frame is not None:
                break
            if not self._reader.receive(self.sock):
                raise ProtocolError("the keeper closed the connection")
        reply, fds = frame
        if reply.get("ok") is not True:
            close_all(fds)
            raise ProtocolError(f"the keeper answered: {reply.get('error', reply)}")
        return reply, fds

    def _int(self, reply: Mapping[str, object], name: str) -> int:
        value = reply.get(name)
        if not isinstance(value, int):
            raise self._broken(ProtocolError(f"reply field {name!r} is {value!r}, not an integer"))
        return value

    def _broken(self, error: BaseException) -> KeeperUnavailable:
        self.close()
        if isinstance(error, TimeoutError):
            reason = "no answer (hung?)"
        elif isinstance(error, ProtocolError):
            reason = str(error)
        else:
            reason = f"{type(error).__name__}: {error}"
        return KeeperUnavailable(f"keeper at {self.path}: {reason}")
