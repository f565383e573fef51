"""A program whose child escapes: it starts a new session and ignores SIGTERM.

argv[1] gets the escaped child's pid. The main process just waits.
"""

import os
import signal
import sys
import time

child = os.fork()
if child == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1)
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(f"{child}\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(1)
