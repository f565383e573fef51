"""A program that leaves an orphan behind: its child forks a grandchild that starts a
new session and ignores SIGTERM, then exits, so the grandchild is re-parented to the
daemon (the subreaper) and is no descendant of the program any more.

argv[1] gets the orphan's pid. The main process just waits.
"""

import os
import signal
import sys
import time

read, write = os.pipe()
child = os.fork()
if child == 0:
    grandchild = os.fork()
    if grandchild == 0:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.write(write, f"{os.getpid()}\n".encode())
        while True:
            time.sleep(1)
    os._exit(0)
os.waitpid(child, 0)
orphan = os.read(read, 64).decode().strip()
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(f"{orphan}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(1)
