"""A supervisord-protocol listener for benchmark M6: writes when it got each event."""

import sys
import time

from supervisor import childutils


def main() -> None:
    with open(sys.argv[1], "a", buffering=1) as out:
        while True:
            headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
            out.write(f"{time.time()} {headers['eventname']} {payload}\n")
            childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
