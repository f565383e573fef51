"""A busy child for the resource tests: burns the CPU seconds it is given, then holds 64 MiB and idles."""

import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
while time.process_time() < seconds:
    pass
held = bytearray(64 * 1024 * 1024)
for offset in range(0, len(held), 4096):
    held[offset] = 1  # touch every page: resident, not just reserved
print("burnt", flush=True)
time.sleep(3600)
