"""Programs with equal log channels and extras share one value in the model; unequal
values never mix."""

from __future__ import annotations

from pathlib import Path

from attrs import evolve

from supervise.config import load
from supervise.config.model import ChannelConfig
from supervise.config.shared import shared


def test_equal_values_are_one_and_unequal_ones_stay_apart() -> None:
    first = ChannelConfig(maxbytes=1024)
    assert shared(first) is first
    assert shared(ChannelConfig(maxbytes=1024)) is first
    other = shared(evolve(first, backups=3))
    assert other is not first and other.backups == 3 and first.backups != 3
    unhashable: dict[str, int] = {"a": 1}
    assert shared(unhashable) is unhashable


def test_programs_built_from_one_file_share_their_defaults(tmp_path: Path) -> None:
    text = (
        "[supervisord]\n"
        + "".join(f"[program:p{n}]\ncommand=sleep 1\nstdout_logfile=NONE\n" for n in range(3))
        + "[program:own]\ncommand=sleep 1\nstdout_logfile_maxbytes=1KB\nstdout_logfile=NONE\n"
    )
    path = tmp_path / "s.conf"
    path.write_text(text)
    config = load(str(path))
    processes = {p.name: p for g in config.groups for p in g.processes}
    assert processes["p0"].stdout is processes["p1"].stdout is processes["p2"].stdout
    assert processes["p0"].extras is processes["p2"].extras
    assert processes["own"].stdout.maxbytes == 1024 and processes["p0"].stdout.maxbytes != 1024
