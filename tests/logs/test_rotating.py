"""Layer 1: log files rotate with supervisord's naming and read back with its offsets."""

import os

from supervise.logs.rotating import RotatingFile, read_slice, tail


def test_rotation_names_and_backups(tmp_path):
    """Reaching maxbytes shifts .1 → .2 and base → .1, keeping at most `backups` files."""
    path = str(tmp_path / "out.log")
    log = RotatingFile(path, maxbytes=10, backups=2)
    for chunk in (b"aaaaaaaaaaaa", b"bbbbbbbbbbbb", b"cccccccccccc", b"dd"):
        log.write(chunk)
    log.close()
    assert open(path, "rb").read() == b"dd"
    assert open(path + ".1", "rb").read() == b"cccccccccccc"
    assert open(path + ".2", "rb").read() == b"bbbbbbbbbbbb"
    assert not os.path.exists(path + ".3")


def test_zero_backups_truncates(tmp_path):
    """With backups=0 the file is truncated in place and no .1 appears."""
    path = str(tmp_path / "out.log")
    log = RotatingFile(path, maxbytes=4, backups=0)
    log.write(b"12345")
    log.write(b"ab")
    log.close()
    assert (open(path, "rb").read(), os.path.exists(path + ".1")) == (b"ab", False)


def test_maxbytes_zero_never_rotates(tmp_path):
    """maxbytes=0 means the file grows without rotation."""
    path = str(tmp_path / "out.log")
    log = RotatingFile(path, maxbytes=0, backups=3)
    for _ in range(100):
        log.write(b"x" * 100)
    log.close()
    assert os.path.getsize(path) == 10_000 and not os.path.exists(path + ".1")


def test_non_seekable_target_is_written_without_rotation(tmp_path):
    """A pipe (like /dev/stdout in a container) is written to, never rotated."""
    read_fd, write_fd = os.pipe()
    log = RotatingFile(f"/proc/self/fd/{write_fd}", maxbytes=1, backups=1)
    log.write(b"hello")
    log.close()
    os.close(write_fd)
    assert os.read(read_fd, 100) == b"hello"


def test_read_slice_offsets(tmp_path):
    """readLog offsets: from offset, last N bytes, or a slice."""
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    assert read_slice(str(path), 7, 0) == b"789"
    assert read_slice(str(path), -3, 0) == b"789"
    assert read_slice(str(path), 2, 3) == b"234"


def test_tail_overflow(tmp_path):
    """tailProcessStdoutLog returns the last bytes, the size, and whether it overflowed."""
    path = tmp_path / "f"
    path.write_bytes(b"x" * 57 + b"om\n")
    assert tail(str(path), 0, 3) == (b"om\n", 60, True)
    assert tail(str(path), 60, 10) == (b"", 60, False)
    assert tail(str(tmp_path / "missing"), 5, 10) == (b"", 5, False)


def test_auto_log_names_and_cleanup(tmp_path):
    """AUTO logs are named <process>-<channel>---<identifier>-XXXXXXXX.log; cleanup removes only ours."""
    from supervise.logs.channel import auto_log_path, cleanup_auto_logs

    ours = auto_log_path(str(tmp_path), "web", "stdout", "supx")
    rotated = ours + ".1"
    open(rotated, "w").close()
    theirs = auto_log_path(str(tmp_path), "web", "stdout", "other")
    assert os.path.basename(ours).startswith("web-stdout---supx-") and ours.endswith(".log")
    removed = cleanup_auto_logs(str(tmp_path), "supx")
    assert sorted(removed) == sorted([os.path.basename(ours), os.path.basename(rotated)])
    assert os.path.exists(theirs)


def test_a_descriptor_path_is_never_rotated_whatever_maxbytes(tmp_path):
    """stdout_logfile = /proc/self/fd/N (or /dev/stdout) onto a regular file: every byte
    is written, nothing is renamed or cleared, however small maxbytes is."""
    target = tmp_path / "daemon-stdout"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        log = RotatingFile(f"/proc/self/fd/{fd}", maxbytes=10, backups=2)
        for n in range(20):
            log.write(b"line %02d\n" % n)
        log.clear()
        log.close()
        assert target.read_bytes() == b"".join(b"line %02d\n" % n for n in range(20))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon-stdout"]
    finally:
        os.close(fd)


def test_a_pipe_is_written_with_no_seek(tmp_path):
    """A pipe as the log (the daemon's stdout in a container): written, never sought."""
    read_end, write_end = os.pipe()
    try:
        log = RotatingFile(f"/dev/fd/{write_end}", maxbytes=5, backups=1)
        log.write(b"0123456789\n")
        log.write(b"abc\n")
        log.close()
        assert os.read(read_end, 100) == b"0123456789\nabc\n"
    finally:
        os.close(read_end)
        os.close(write_end)
