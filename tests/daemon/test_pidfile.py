"""Layer 2: the pidfile objects and the pidfiles a re-exec hands over."""

from __future__ import annotations

import os
from pathlib import Path

from supervise.daemon.handoff import SavedState
from supervise.daemon.pidfile import NullPidFile, PidFile, PidFileService, pidfile_at
from tests.daemon.conftest import runtime_in


def test_pidfile_written_then_removed(tmp_path: Path) -> None:
    """``<pid>\\n`` while running; gone afterwards."""
    pidfile = PidFile(str(tmp_path / "d.pid"))
    pidfile.write()
    assert (tmp_path / "d.pid").read_text() == f"{os.getpid()}\n"
    pidfile.remove()
    assert not (tmp_path / "d.pid").exists()


def test_a_pidfile_never_written_is_not_removed(tmp_path: Path) -> None:
    """Another daemon's pidfile is left alone by one that did not write it."""
    (tmp_path / "d.pid").write_text("12345\n")
    PidFile(str(tmp_path / "d.pid")).remove()
    assert (tmp_path / "d.pid").read_text() == "12345\n"


def test_unwritable_pidfile_is_logged_not_raised(tmp_path: Path) -> None:
    """supervisord logs a pidfile it cannot write and runs on."""
    pidfile = PidFile(str(tmp_path / "missing" / "d.pid"))
    pidfile.write()
    pidfile.remove()
    assert not pidfile.written


def test_no_path_gives_the_null_object() -> None:
    """An empty path (twistd's ``--pidfile=``) means no file."""
    assert isinstance(pidfile_at(""), NullPidFile) and isinstance(pidfile_at(None), NullPidFile)
    NullPidFile().write()
    NullPidFile().remove()


def test_twistd_pidfile_is_handed_over_and_kept_by_the_copy(tmp_path: Path) -> None:
    """The copy after a re-exec rewrites and at the end removes twistd's pidfile too."""
    first = runtime_in(tmp_path)
    first.options.twistd = {"pidfile": str(tmp_path / "twistd.pid")}
    handed = PidFileService(first).handoff()
    assert handed == [str(tmp_path / "twistd.pid")]
    copy = runtime_in(tmp_path)
    copy.handoff = SavedState(os.getpid(), [], {"pidfiles": handed})
    service = PidFileService(copy)
    service.startService()
    assert (tmp_path / "twistd.pid").read_text() == f"{os.getpid()}\n"
    assert (tmp_path / "supervisord.pid").read_text() == f"{os.getpid()}\n"
    assert PidFileService(copy).handoff() == handed  # and on to the next copy
    service.stopService()
    assert not (tmp_path / "twistd.pid").exists() and not (tmp_path / "supervisord.pid").exists()


def test_reload_moves_the_pidfile(tmp_path: Path) -> None:
    """A reload naming another pidfile removes the old one and writes the new one."""
    runtime = runtime_in(tmp_path)
    service = PidFileService(runtime)
    service.startService()
    (tmp_path / "other").mkdir()
    service.reload(runtime_in(tmp_path / "other").model)
    assert not (tmp_path / "supervisord.pid").exists()
    assert (tmp_path / "other" / "supervisord.pid").exists()
    service.stopService()
