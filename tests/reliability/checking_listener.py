"""A supervisord-protocol listener for the load test: checks that every process's state
events arrive complete and in order; writes its summary (JSON) to OUTFILE as it goes."""

import json
import sys

from supervisor import childutils


def main() -> None:
    path = sys.argv[1]
    last: dict[str, str] = {}
    summary = {"events": 0, "violations": []}
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        fields = dict(token.split(":", 1) for token in payload.split() if ":" in token)
        key = f"{fields.get('groupname')}:{fields.get('processname')}"
        state = headers["eventname"].replace("PROCESS_STATE_", "")
        summary["events"] += 1
        if (
            key in last
            and fields.get("from_state") != last[key]
            and len(summary["violations"]) < 20
        ):
            summary["violations"].append(
                f"{key}: {last[key]} then {state} from {fields.get('from_state')}"
            )
        last[key] = state
        if summary["events"] % 200 == 0 or summary["violations"]:
            with open(path + ".tmp", "w") as out:
                json.dump(summary, out)
            import os

            os.replace(path + ".tmp", path)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
