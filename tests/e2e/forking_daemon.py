"""A classic double-forking daemon for the tests: the launcher exits 0 at once; the
daemon (in a new session) writes its pid to argv[1] and runs until killed."""

import os
import sys
import time

pidfile = sys.argv[1]
if os.fork():
    sys.exit(0)
os.setsid()
if os.fork():
    os._exit(0)
time.sleep(0.2)
with open(pidfile + ".tmp", "w") as handle:
    handle.write(f"{os.getpid()}\n")
os.rename(pidfile + ".tmp", pidfile)
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
while True:
    time.sleep(1)
