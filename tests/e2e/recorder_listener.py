"""A supervisord-protocol event listener used by the tests: records every event.

Usage: recorder_listener.py OUTFILE. Each event becomes one JSON line with the header
tokens and the payload; the answer is OK (or FAIL once for events whose payload contains
``failonce`` the first time they are seen, to prove rejected events come back).
"""

import json
import sys

from supervisor import childutils


def main() -> None:
    out = open(sys.argv[1], "a", buffering=1)
    failed: set[str] = set()
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        key = headers["serial"]
        if "failonce" in payload and key not in failed:
            failed.add(key)
            childutils.listener.fail(sys.stdout)
            continue
        out.write(json.dumps({"headers": headers, "payload": payload}) + "\n")
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
