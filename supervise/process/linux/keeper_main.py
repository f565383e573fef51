"""Hold children's pipe read ends while no daemon runs: the descriptor keeper process.

When the daemon is killed with SIGKILL, the read ends of its children's stdout/stderr
pipes would die with it: a child writing output then dies of SIGPIPE and bytes in flight
are lost. The keeper, one small process per daemon, holds duplicates of those read ends
(as systemd's fd store does). It never reads them: while no daemon runs, a child's
writes block once its pipe is full and nothing is lost. The next daemon connects, takes
every descriptor with its label and reads on where the dead one stopped.

This module is the keeper's entry point and the wire format, and imports the standard
library only (no Twisted, no attrs, no package ``__init__``), so the keeper stays a few
MiB. ``supervise.process.linux.keeper`` is the daemon's client.

Run: ``python -I -S keeper_main.py SOCKET [--idle-timeout SECONDS] [--ready-fd FD]
[--client-fd FD] [--detach]`` (``spawn_keeper`` and ``launch_keeper`` do this). With
``--client-fd``, the keeper starts with that descriptor (one end of a socket pair the
daemon made) as its connected daemon: the daemon sends to it at once, without waiting
for the keeper to start, and what it sends waits in the socket meanwhile.

Wire format, on a unix stream socket: each frame is a 4-byte big-endian length and a
JSON object; a frame with ``"fds": n`` carries ``n`` (at most ``MAX_FDS``) descriptors as
``SCM_RIGHTS`` ancillary data sent with its bytes. Descriptors arrive with the first byte
of their frame, in order, so the reader queues them and hands the first ``n`` to each
frame it completes. Requests, each answered by one ``{"ok": true, ...}`` frame:

- ``hello {version}`` → ``{version, pid, kept}``
- ``keep {keys, fds}`` → ``{kept}``: hold one descriptor per key (a JSON object of
  scalars); a key kept again replaces (and closes) the old descriptor.
- ``drop {match}`` → ``{dropped}``: close every descriptor whose key holds all of the
  non-empty ``match``'s items.
- ``take`` → frames ``{keys, fds, more}`` of at most ``MAX_FDS`` each, the last with
  ``more: false``: duplicates of every kept descriptor; the keeper goes on holding them.
- ``status`` → ``{version, pid, kept}``
- ``quit`` → ``{}``; then the keeper closes everything, removes its socket and exits.

A malformed frame is logged to stderr, answered ``{"ok": false, "error": ...}`` where
possible, and the connection dropped; the keeper lives on. One daemon is connected at a
time: a new connection (same uid, checked by ``SO_PEERCRED``) replaces the old one.
"""

from __future__ import annotations

import array
import errno
import fcntl
import json
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import termios
import time
from collections.abc import Mapping, Sequence

PROTOCOL_VERSION = 1
#: Descriptors per frame; the kernel's SCM_MAX_FD is 253.
MAX_FDS = 250
#: Largest frame body, bytes.
MAX_FRAME = 1 << 20
#: Largest key, bytes of its canonical JSON.
MAX_KEY = 1024
#: Seconds the keeper waits for a daemon to take a reply before dropping it.
SEND_TIMEOUT = 10.0
READ_SIZE = 64 * 1024

#: Exit status when another keeper already listens on the socket.
EXIT_ALREADY_RUNNING = 3

_HEADER = struct.Struct("!I")
_UCRED = struct.Struct("3i")

KeyValue = str | int | float | bool | None
Key = Mapping[str, KeyValue]


class ProtocolError(Exception):
    """A frame broke the wire format; the connection that sent it is dropped."""


def canonical_key(key: object) -> str:
    """The key's canonical JSON (its identity); raise ProtocolError if it is not one.

    A key is a non-empty JSON object of scalars (str, int, float, bool, None) whose
    canonical form is at most ``MAX_KEY`` bytes.
    """
    if not isinstance(key, dict) or not key:
        raise ProtocolError(f"a key must be a non-empty object, not {type(key).__name__}")
    for name, value in key.items():
        if not isinstance(name, str):
            raise ProtocolError("key names must be strings")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ProtocolError(f"key {name!r} holds a {type(value).__name__}, not a scalar")
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if len(text.encode()) > MAX_KEY:
        raise ProtocolError(f"key longer than {MAX_KEY} bytes")
    return text


def encode_frame(message: Mapping[str, object]) -> bytes:
    """One frame: length header and compact JSON."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def send_frame(sock: socket.socket, message: Mapping[str, object], fds: Sequence[int] = ()) -> None:
    """Send one frame with ``fds`` attached (at most ``MAX_FDS``); block until sent.

    ``message`` must announce the descriptors as ``"fds": len(fds)`` when there are any.
    """
    data = encode_frame(message)
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sent = sock.sendmsg([data], rights, socket.MSG_NOSIGNAL)
    if sent < len(data):
        sock.sendall(data[sent:], socket.MSG_NOSIGNAL)


class FrameReader:
    """Reassembles frames from a stream socket and pairs them with their descriptors.

    Received descriptors belong to the reader until a frame claims them; ``close``
    closes those no frame claimed.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._fds: list[int] = []

    def receive(self, sock: socket.socket) -> bool:
        """Read what one ``recvmsg`` gives; False at end of stream."""
        data, fds, flags, _ = socket.recv_fds(sock, READ_SIZE, MAX_FDS + 3, socket.MSG_CMSG_CLOEXEC)
        self._fds.extend(fds)
        if flags & socket.MSG_CTRUNC:
            raise ProtocolError("descriptors were truncated (RLIMIT_NOFILE reached?)")
        self._buffer += data
        return bool(data)

    def next_frame(self) -> tuple[dict[str, object], list[int]] | None:
        """The next complete frame and its descriptors, or None until more arrives."""
        if len(self._buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._buffer)
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME}")
        if len(self._buffer) < _HEADER.size + size:
            return None
        body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
        del self._buffer[: _HEADER.size + size]
        try:
            message = json.loads(body)
        except ValueError as error:
            raise ProtocolError(f"frame is not JSON: {error}") from None
        if not isinstance(message, dict):
            raise ProtocolError("frame is not a JSON object")
        count = message.get("fds", 0)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_FDS:
            raise ProtocolError(f"bad descriptor count {count!r}")
        if count > len(self._fds):
            raise ProtocolError(f"frame announces {count} descriptors, {len(self._fds)} arrived")
        fds = self._fds[:count]
        del self._fds[:count]
        return message, fds

    def close(self) -> None:
        """Close the descriptors no frame claimed."""
        close_all(self._fds)
        self._fds.clear()


def close_all(fds: Sequence[int]) -> None:
    """Close every descriptor, ignoring those already closed."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def log(message: str) -> None:
    """Write one line to stderr (the keeper's log); never fail."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        sys.stderr.write(f"{stamp} keeper[{os.getpid()}]: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _items(key: Mapping[str, object]) -> list[tuple[str, str]]:
    """A key's items, values as JSON: 1, true and "1" are different values."""
    return [(name, json.dumps(value)) for name, value in key.items()]


def _pipefs_device() -> int:
    """The device number of anonymous pipes (pipefs), learnt from a pipe of our own."""
    read_end, write_end = os.pipe()
    try:
        return os.fstat(read_end).st_dev
    finally:
        os.close(read_end)
        os.close(write_end)


_PIPEFS: list[int] = []


def _is_pipe_read_end(fd: int) -> bool:
    """True for the read end of an anonymous pipe (not a FIFO, socket or file)."""
    if not _PIPEFS:
        _PIPEFS.append(_pipefs_device())
    try:
        info = os.fstat(fd)
        mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        return False
    return stat.S_ISFIFO(info.st_mode) and info.st_dev == _PIPEFS[0] and mode == os.O_RDONLY


def _bytes_buffered(fd: int) -> int:
    buffer = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buffer)
    return int.from_bytes(buffer, sys.byteorder, signed=True)


def _hung_up(fd: int) -> bool:
    """Check the hang-up directly: an epoll event may name a descriptor number reused since."""
    poller = select.poll()
    poller.register(fd, 0)
    return any(mask & select.POLLHUP for _, mask in poller.poll(0))


class Keeper:
    """The keeper's state and its loop: one listener, at most one daemon, the kept fds."""

    def __init__(self, listener: socket.socket, path: str, idle_timeout: float) -> None:
        self.listener = listener
        self.path = path
        self.path_inode = os.stat(path).st_ino
        self.idle_timeout = idle_timeout
        #: canonical key -> (key, descriptor), in the order kept.
        self.kept: dict[str, tuple[dict[str, object], int]] = {}
        #: (name, JSON of a value) -> canonical keys holding that item, so that a drop
        #: costs the size of its smallest match, not the number kept.
        self.index: dict[tuple[str, str], set[str]] = {}
        #: descriptor -> canonical key, for pipes watched for a hang-up.
        self.watched: dict[int, str] = {}
        self.conn: socket.socket | None = None
        self.peer_pid = 0
        self.reader = FrameReader()
        self.quitting = False
        self.epoll = select.epoll()
        listener.setblocking(False)
        self.epoll.register(listener.fileno(), select.EPOLLIN)

    def serve(self) -> None:
        """Run until ``quit``, or until idle (no daemon, nothing kept) for the timeout."""
        idle_since: float | None = None
        while not self.quitting:
            timeout = -1.0
            if self.conn is None and not self.kept and self.idle_timeout > 0:
                now = time.monotonic()
                idle_since = now if idle_since is None else idle_since
                timeout = idle_since + self.idle_timeout - now
                if timeout <= 0:
                    log(f"no daemon and nothing kept for {self.idle_timeout:g} s: exiting")
                    break
            else:
                idle_since = None
            for fd, _ in self.epoll.poll(timeout):
                if fd == self.listener.fileno():
                    self._accept()
                elif self.conn is not None and fd == self.conn.fileno():
                    self._read()
                elif fd in self.watched:
                    self._hang_up(fd)
                if self.quitting:
                    break
        self._shut_down()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            log(f"accept failed: {error}")
            return
        self.adopt(conn)

    def adopt(self, conn: socket.socket) -> None:
        """Serve ``conn`` as the daemon's connection (a same-uid peer only)."""
        pid, uid, _gid = _UCRED.unpack(
            conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        )
        if uid != os.geteuid():
            log(f"refused a connection from pid {pid}: uid {uid} is not {os.geteuid()}")
            conn.close()
            return
        if self.conn is not None:
            log(f"daemon pid {pid} replaces daemon pid {self.peer_pid}")
            self._close_conn()
        else:
            log(f"daemon pid {pid} connected ({len(self.kept)} kept)")
        conn.settimeout(SEND_TIMEOUT)
        self.conn, self.peer_pid, self.reader = conn, pid, FrameReader()
        self.epoll.register(conn.fileno(), select.EPOLLIN | select.EPOLLRDHUP)

    def _close_conn(self) -> None:
        if self.conn is not None:
            self.epoll.unregister(self.conn.fileno())
            self.conn.close()
            self.conn = None
        self.reader.close()

    def _read(self) -> None:
        assert self.conn is not None
        conn = self.conn
        try:
            more = self.reader.receive(conn)
            while self.conn is conn and not self.quitting:
                frame = self.reader.next_frame()
                if frame is None:
                    break
                self._handle(*frame)
            if not more and self.conn is conn:
                log(f"daemon pid {self.peer_pid} disconnected ({len(self.kept)} kept)")
                self._close_conn()
        except ProtocolError as error:
            log(f"malformed message from pid {self.peer_pid}, connection dropped: {error}")
            try:
                send_frame(conn, {"ok": False, "error": str(error)})
            except OSError:
                pass
            self._close_conn()
        except OSError as error:
            log(f"connection to pid {self.peer_pid} failed: {error}")
            self._close_conn()

    def _handle(self, message: dict[str, object], fds: list[int]) -> None:
        op = message.get("op")
        try:
            if op == "keep":
                self._keep(message.get("keys"), fds)
                fds = []
                self._reply({"kept": len(self.kept)})
                return
            if fds:
                raise ProtocolError(f"{op!r} carries no descriptors")
            if op in ("hello", "status"):
                self._reply(
                    {"version": PROTOCOL_VERSION, "pid": os.getpid(), "kept": len(self.kept)}
                )
            elif op == "drop":
                self._reply({"dropped": self._drop(message.get("match"))})
            elif op == "take":
                self._take()
            elif op == "quit":
                log(f"quit by daemon pid {self.peer_pid}")
                self._reply({})
                self.quitting = True
            else:
                raise ProtocolError(f"unknown op {op!r}")
        finally:
            close_all(fds)

    def _reply(self, message: dict[str, object], fds: Sequence[int] = ()) -> None:
        assert self.conn is not None
        send_frame(self.conn, {"ok": True, **message}, fds)

    def _keep(self, keys: object, fds: list[int]) -> None:
        if not isinstance(keys, list) or len(keys) != len(fds):
            raise ProtocolError("keep needs one key per descriptor")
        names = [canonical_key(key) for key in keys]
        for name, key, fd in zip(names, keys, fds, strict=True):
            self._forget(name)
            self.kept[name] = (key, fd)
            for item in _items(key):
                self.index.setdefault(item, set()).add(name)
            if _is_pipe_read_end(fd):
                # Events 0: only the hang-up (always reported) wakes us, never data.
                self.epoll.register(fd, 0)
                self.watched[fd] = name

    def _drop(self, match: object) -> int:
        canonical_key(match)  # validates
        assert isinstance(match, dict)
        sets = sorted((self.index.get(item, set()) for item in _items(match)), key=len)
        names = set(sets[0]).intersection(*sets[1:])
        for name in names:
            self._forget(name)
        return len(names)

    def _take(self) -> None:
        entries = list(self.kept.values())
        start = 0
        while True:
            batch = entries[start : start + MAX_FDS]
            start += MAX_FDS
            more = start < len(entries)
            self._reply(
                {"keys": [key for key, _ in batch], "fds": len(batch), "more": more},
                [fd for _, fd in batch],
            )
            if not more:
                return

    def _forget(self, name: str) -> None:
        entry = self.kept.pop(name, None)
        if entry is None:
            return
        for item in _items(entry[0]):
            holders = self.index[item]
            holders.discard(name)
            if not holders:
                del self.index[item]
        fd = entry[1]
        if self.watched.pop(fd, None) is not None:
            # Unregister before closing: the daemon holds the same open file, so closing
            # our descriptor would not remove it from the epoll set.
            self.epoll.unregister(fd)
        os.close(fd)

    def _hang_up(self, fd: int) -> None:
        """A kept pipe lost its last writer: forget it if it is empty too (nothing to keep)."""
        name = self.watched[fd]
        if not _hung_up(fd):
            return
        if _bytes_buffered(fd) == 0:
            log(f"pipe {name} has no writer and no bytes left: closed")
            self._forget(name)
        else:
            # Bytes wait for the next daemon; no writer can come back, nothing more to watch.
            self.epoll.unregister(fd)
            del self.watched[fd]

    def _shut_down(self) -> None:
        self._close_conn()
        for name in list(self.kept):
            self._forget(name)
        try:
            if os.stat(self.path).st_ino == self.path_inode:
                os.unlink(self.path)
        except OSError:
            pass
        self.listener.close()
        self.epoll.close()


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit; return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    try:
        with open("/proc/sys/fs/nr_open") as handle:
            ceiling = int(handle.read())
        target = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
    except (OSError, ValueError):
        pass
    if target == resource.RLIM_INFINITY or target <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


class AlreadyRunning(Exception):
    """Another keeper answers on the socket path."""


def listen(path: str) -> socket.socket:
    """Listen on ``path`` (mode 0600), replacing a stale socket left by a dead keeper."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _attempt in range(2):
        old_mask = os.umask(0o177)
        try:
            listener.bind(path)
        except OSError as error:
            # EADDRINUSE: a keeper, the socket of a dead one, or some other file.
            if error.errno != errno.EADDRINUSE or not stat.S_ISSOCK(os.lstat(path).st_mode):
                listener.close()
                raise
        else:
            os.chmod(path, 0o600)
            listener.listen(16)
            return listener
        finally:
            os.umask(old_mask)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            os.unlink(path)  # stale: nobody listens
        else:
            listener.close()
            raise AlreadyRunning(f"a keeper already listens on {path}")
        finally:
            probe.close()
    listener.close()
    raise OSError(f"cannot listen on {path}")


class Arguments:
    """The command line: the socket path and the options."""

    def __init__(self) -> None:
        self.path = ""
        self.idle_timeout = 60.0
        self.ready_fd: int | None = None
        self.client_fd: int | None = None
        self.detach = False


def _parse(argv: Sequence[str]) -> Arguments:
    usage = (
        "usage: keeper_main.py SOCKET [--idle-timeout SECONDS] [--ready-fd FD] "
        "[--client-fd FD] [--detach]"
    )
    found = Arguments()
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--detach":
            found.detach = True
        elif word in ("--idle-timeout", "--ready-fd", "--client-fd") and words:
            value = words.pop(0)
            try:
                if word == "--idle-timeout":
                    found.idle_timeout = float(value)
                elif word == "--ready-fd":
                    found.ready_fd = int(value)
                else:
                    found.client_fd = int(value)
            except ValueError:
                raise SystemExit(f"{usage}\n{word}: {value!r} is not a number") from None
        elif not found.path and not word.startswith("-"):
            found.path = word
        else:
            raise SystemExit(usage)
    if not found.path:
        raise SystemExit(usage)
    return found


def _tell(ready_fd: int | None, line: str) -> None:
    """Tell ``spawn_keeper`` how start-up went, once, and close the descriptor."""
    if ready_fd is None:
        return
    try:
        os.write(ready_fd, f"{line}\n".encode())
    except OSError:
        pass
    os.close(ready_fd)


def _isolate(kept_fds: Sequence[int]) -> None:
    """Leave the daemon's session, directory and descriptors (but ``kept_fds``); ignore
    its signals."""
    for sig in (signal.SIGPIPE, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    os.umask(0o077)
    os.chdir("/")
    try:
        os.setsid()
    except PermissionError:
        pass  # already a session leader (start_new_session)
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    low = 3
    for fd in sorted(kept_fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, limit)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the keeper; the exit status is 0 after ``quit`` or idleness."""
    arguments = _parse(sys.argv[1:] if argv is None else argv)
    path, idle_timeout, ready_fd = arguments.path, arguments.idle_timeout, arguments.ready_fd
    _isolate([fd for fd in (ready_fd, arguments.client_fd) if fd is not None])
    if arguments.detach and os.fork() > 0:
        os._exit(0)  # the keeper is the grandchild: not a child of the daemon's Popen
    limit = raise_fd_limit()
    try:
        listener = listen(path)
    except AlreadyRunning as error:
        log(str(error))
        _tell(ready_fd, f"error {error}")
        return EXIT_ALREADY_RUNNING
    except OSError as error:
        log(f"cannot listen on {path}: {error}")
        _tell(ready_fd, f"error cannot listen on {path}: {error}")
        return 1
    keeper = Keeper(listener, path, idle_timeout)
    log(f"listening on {path} (descriptor limit {limit}, idle timeout {idle_timeout:g} s)")
    _tell(ready_fd, f"ready {os.getpid()}")
    if arguments.client_fd is not None:
        keeper.adopt(socket.socket(fileno=arguments.client_fd))
    keeper.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
