"""Layer 4: rotation by time with gzipped backups, through a real daemon."""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import pytest

from supervise.testing import wait_until
from tests.e2e.conftest import Daemon

pytestmark = pytest.mark.e2e

#: Writes numbered lines, each in two writes, so rotations meet half-written lines.
WRITER = """
import sys
import time
number = 0
while True:
    sys.stdout.write(f"{number:07d} ")
    sys.stdout.flush()
    sys.stdout.write("x" * 40 + "\\n")
    sys.stdout.flush()
    number += 1
    time.sleep(0.001)  # pacing only: keeps the volume small
"""


def backups(folder: Path, name: str) -> list[Path]:
    found = [p for p in folder.iterdir() if re.fullmatch(rf"{name}\.\d+\.gz", p.name)]
    return sorted(found, key=lambda p: int(p.name.split(".")[-2]), reverse=True)


def test_time_rotation_keeps_every_line_and_gzips(daemon: Daemon, tmp_path: Path) -> None:
    """A 1-second period: each backup is gzipped, whole lines only, none lost; the main
    log rotates and compresses the same way."""
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER)
    daemon.write(
        f"""
        [program:writer]
        command = {sys.executable} -u {writer}
        startsecs = 0
        stdout_logfile = {tmp_path}/writer.log
        stdout_logfile_maxbytes = 0
        stdout_logfile_backups = 1000
        stdout_logfile_rotate_every = 1s
        stdout_logfile_compress = true
        """
    )
    conf = daemon.conf.read_text().replace(
        "[supervisord]\n", "[supervisord]\nlogfile_rotate_every = 1s\nlogfile_compress = true\n"
    )
    daemon.conf.write_text(conf)
    daemon.start(None)
    rpc = daemon.rpc()
    wait_until(lambda: len(backups(tmp_path, "writer.log")) >= 3, what="three gzipped backups")
    rpc.supervisor.stopProcess("writer")
    wait_until(
        lambda: not list(tmp_path.glob("*.rotating-*")) and backups(tmp_path, "main.log"),
        what="every backup compressed, the main log's too",
    )

    parts = [gzip.decompress(p.read_bytes()) for p in backups(tmp_path, "writer.log")]
    parts.append((tmp_path / "writer.log").read_bytes())
    assert all(part.endswith(b"\n") for part in parts if part)
    lines = b"".join(parts).splitlines()
    assert len(lines) >= 3
    assert all(re.fullmatch(rb"\d{7} x{40}", line) for line in lines)
    assert [int(line[:7]) for line in lines] == list(range(len(lines)))
    main = [gzip.decompress(p.read_bytes()) for p in backups(tmp_path, "main.log")]
    assert all(part.endswith(b"\n") for part in main)
    text = (b"".join(main) + (tmp_path / "main.log").read_bytes()).decode()
    assert text.index("spawned: 'writer'") < text.index("stopped: writer")
