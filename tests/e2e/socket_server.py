"""A server that takes its listening socket from supervise (systemd's LISTEN_FDS).

On SIGTERM it finishes the connection in hand and exits; connections not yet accepted
stay queued in the socket, which supervise keeps open for the next process.
"""

import os
import signal
import socket

assert os.environ["LISTEN_PID"] == str(os.getpid()), "LISTEN_PID must be this process"
assert os.environ["LISTEN_FDS"] == "1" and os.environ["LISTEN_FDNAMES"] == "web"
stopping = False


def stop(signum: int, frame: object) -> None:
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)
server = socket.socket(fileno=3)
server.settimeout(0.05)
while not stopping:
    try:
        connection, _ = server.accept()
    except TimeoutError:
        continue
    with connection:
        connection.settimeout(None)
        connection.sendall(f"hello from {os.getpid()}\n".encode())
