"""Layer 1: rotation by time on an injected clock, at line ends, with gzipped backups."""

import gzip
import os

import pytest
from twisted.internet.task import Clock

from supervise.config.values import duration
from supervise.logs.compress import compress_pending
from supervise.logs.rotating import RotatingFile
from supervise.logs.schedule import next_boundary

HOUR, DAY = 3600, 86400
MONDAY = 4 * DAY  # 1970-01-05 00:00 UTC


def utc(moment: float) -> int:
    return 0


def clock_at(moment: float) -> Clock:
    clock = Clock()
    clock.advance(moment)
    return clock


def run_now(job):
    job()


def timed(path, clock, **options) -> RotatingFile:
    return RotatingFile(str(path), clock=clock.seconds, utc_offset=utc, runner=run_now, **options)


def test_boundaries_follow_the_wall_clock():
    """1h on the hour, 30m on the half hour, 1d at midnight, 7d at Monday midnight,
    in local time."""
    assert next_boundary(MONDAY + 10 * HOUR + 5, HOUR, utc) == MONDAY + 11 * HOUR
    assert next_boundary(MONDAY + 10 * HOUR + 5, 1800, utc) == MONDAY + 10 * HOUR + 1800
    assert next_boundary(MONDAY + 3 * DAY + 7, DAY, utc) == MONDAY + 4 * DAY
    assert next_boundary(MONDAY + 3 * DAY, 7 * DAY, utc) == MONDAY + 7 * DAY
    assert next_boundary(MONDAY + 7 * DAY, 7 * DAY, utc) == MONDAY + 14 * DAY
    # UTC+2: local midnight is 22:00 UTC.
    plus_two = lambda moment: 7200  # noqa: E731
    assert next_boundary(MONDAY + HOUR, DAY, plus_two) == MONDAY + DAY - 7200


def test_durations():
    assert [duration(t) for t in ("30m", "1h", "1d", "7d", "45s", "0")] == [
        1800, 3600, 86400, 604800, 45, 0,
    ]  # fmt: skip
    for bad in ("1x", "h", "-1h", "0h", "1.5h"):
        with pytest.raises(ValueError, match="not a period"):
            duration(bad)


def test_rotates_at_the_boundary_and_keeps_backups(tmp_path):
    """Each hour's lines land in their own file; backups still bound their number."""
    clock = clock_at(MONDAY + 10 * HOUR)
    path = tmp_path / "out.log"
    log = timed(path, clock, backups=2, rotate_every=HOUR)
    for hour in range(4):
        log.write(f"hour {hour} a\n".encode())
        clock.advance(HOUR / 2)
        log.write(f"hour {hour} b\n".encode())
        clock.advance(HOUR / 2)
    log.write(b"now\n")
    log.close()
    assert path.read_bytes() == b"now\n"
    assert (tmp_path / "out.log.1").read_bytes() == b"hour 3 a\nhour 3 b\n"
    assert (tmp_path / "out.log.2").read_bytes() == b"hour 2 a\nhour 2 b\n"
    assert not (tmp_path / "out.log.3").exists()


def test_no_line_is_split_or_lost(tmp_path):
    """A write after the boundary that finishes an open line finishes it in the old file;
    a write without a newline keeps the rotation waiting."""
    clock = clock_at(MONDAY)
    path = tmp_path / "out.log"
    log = timed(path, clock, backups=3, rotate_every=HOUR)
    log.write(b"one\ntw")
    clock.advance(HOUR)
    log.write(b"o and")
    log.write(b" more\nthree\nfo")
    log.write(b"ur\n")
    log.close()
    assert (tmp_path / "out.log.1").read_bytes() == b"one\ntwo and more\n"
    assert path.read_bytes() == b"three\nfour\n"


def test_idle_file_rotates_at_the_next_write_and_size_still_counts(tmp_path):
    """Nothing rotates while nothing is written; maxbytes works alongside the period."""
    clock = clock_at(MONDAY)
    path = tmp_path / "out.log"
    log = timed(path, clock, backups=5, rotate_every=DAY, maxbytes=10)
    log.write(b"12345\n")
    clock.advance(3 * DAY)
    assert path.read_bytes() == b"12345\n"
    log.write(b"abcdefghijk\n")  # rotates by time first, then by size
    log.write(b"x\n")
    log.close()
    assert (tmp_path / "out.log.2").read_bytes() == b"12345\n"
    assert (tmp_path / "out.log.1").read_bytes() == b"abcdefghijk\n"
    assert path.read_bytes() == b"x\n"


def test_a_file_from_an_earlier_period_rotates_at_the_first_write(tmp_path):
    """After a restart, a log last written before the boundary goes to .1 first."""
    path = tmp_path / "out.log"
    path.write_bytes(b"yesterday\n")
    os.utime(path, (MONDAY + 5 * HOUR, MONDAY + 5 * HOUR))
    clock = clock_at(MONDAY + DAY + HOUR)
    log = timed(path, clock, backups=1, rotate_every=DAY)
    log.write(b"today\n")
    log.close()
    assert (tmp_path / "out.log.1").read_bytes() == b"yesterday\n"
    assert path.read_bytes() == b"today\n"


def test_compressed_backups(tmp_path):
    """compress: backups are .1.gz … .N.gz, newest first, bounded by backups."""
    clock = clock_at(MONDAY)
    path = tmp_path / "out.log"
    log = timed(path, clock, backups=2, rotate_every=HOUR, compress=True)
    for hour in range(3):
        log.write(f"line {hour}\n".encode())
        clock.advance(HOUR)
    log.write(b"last\n")
    log.close()
    assert gzip.decompress((tmp_path / "out.log.1.gz").read_bytes()) == b"line 2\n"
    assert gzip.decompress((tmp_path / "out.log.2.gz").read_bytes()) == b"line 1\n"
    assert sorted(os.listdir(tmp_path)) == ["out.log", "out.log.1.gz", "out.log.2.gz"]


def test_compression_waits_for_its_runner_and_keeps_order(tmp_path):
    """Rotation only renames; gzip runs later on the runner (a thread in the daemon), and
    rotations that happened before it ran are compressed oldest first."""
    clock = clock_at(MONDAY)
    jobs = []
    path = tmp_path / "out.log"
    log = RotatingFile(str(path), backups=3, rotate_every=HOUR, compress=True,
                       clock=clock.seconds, utc_offset=utc, runner=jobs.append)  # fmt: skip
    for hour in range(3):
        log.write(f"line {hour}\n".encode())
        clock.advance(HOUR)
    log.write(b"last\n")
    log.close()
    assert not list(tmp_path.glob("*.gz")) and len(jobs) == 3
    jobs[-1]()
    jobs[0]()  # nothing left to do: the first job to run took all three
    for index, line in ((1, b"line 2\n"), (2, b"line 1\n"), (3, b"line 0\n")):
        assert gzip.decompress((tmp_path / f"out.log.{index}.gz").read_bytes()) == line
    assert len(os.listdir(tmp_path)) == 4


def test_leftover_from_a_stopped_daemon_is_compressed_at_open(tmp_path):
    path = tmp_path / "out.log"
    (tmp_path / "out.log.rotating-00000000000000000001").write_bytes(b"old\n")
    jobs = []
    log = RotatingFile(str(path), maxbytes=1000, backups=2, compress=True, runner=jobs.append)
    log.open()
    log.close()
    assert len(jobs) == 1
    jobs[0]()
    assert gzip.decompress((tmp_path / "out.log.1.gz").read_bytes()) == b"old\n"
    compress_pending(str(path), 2)  # idempotent
    assert sorted(os.listdir(tmp_path)) == ["out.log", "out.log.1.gz"]


def test_auto_log_cleanup_takes_compressed_backups(tmp_path):
    """Start-up cleanup of stale AUTO logs removes their .N.gz and set-aside files too."""
    from supervise.logs.channel import cleanup_auto_logs

    stale = ["web-stdout---e2e-abc.log", "web-stdout---e2e-abc.log.1.gz",
             "web-stdout---e2e-abc.log.rotating-00000000000000000001"]  # fmt: skip
    for name in [*stale, "mine.log.1.gz", "web-stdout---other-abc.log.1.gz"]:
        (tmp_path / name).write_bytes(b"")
    assert sorted(cleanup_auto_logs(str(tmp_path), "e2e")) == sorted(stale)
    assert sorted(os.listdir(tmp_path)) == ["mine.log.1.gz", "web-stdout---other-abc.log.1.gz"]
