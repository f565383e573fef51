"""Layer 1: AUTO logs found by a normalised path, whatever ``childlogdir`` says."""

from __future__ import annotations

import os
from pathlib import Path

from supervise.config.model import ChannelConfig
from supervise.config.values import LogTarget
from supervise.logs.channel import OutputChannel, auto_log_path, cleanup_auto_logs


def test_kept_log_survives_a_childlogdir_with_dotdot(tmp_path: Path) -> None:
    """``%(here)s/../var`` and the absolute path name the same file: it is kept."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "var").mkdir()
    dotted = str(tmp_path / "etc" / ".." / "var")
    kept = auto_log_path(dotted, "web", "stdout", "sup")
    stale = auto_log_path(dotted, "old", "stdout", "sup")
    removed = cleanup_auto_logs(dotted, "sup", {kept})
    assert removed == [os.path.basename(stale)]
    assert os.path.exists(kept)
    assert (
        cleanup_auto_logs(str(tmp_path / "var"), "sup", {kept.replace("/var/", "/etc/../var/")})
        == []
    )


def test_taken_over_channel_names_the_normalised_path(tmp_path: Path) -> None:
    """A channel taken over at a dotted path writes to (and reports) the plain path."""
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "x.log"
    path.write_bytes(b"before\n")
    os.chmod(path, 0o600)
    channel = OutputChannel.create(
        "x", "stdout", ChannelConfig(logfile=LogTarget.NONE), "", "", False
    )
    taken = OutputChannel.at_path(channel, str(tmp_path / "a" / ".." / "a" / "x.log"))
    taken.open()
    taken.write(b"after\n")
    taken.close()
    assert taken.path == str(path)
    assert path.read_bytes() == b"before\nafter\n"
    assert path.stat().st_mode & 0o777 == 0o600
