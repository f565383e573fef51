"""Layer 1: the main log is written in supervisord's format and level filter."""

import io
import time

from twisted.logger import LogLevel

from supervise.logs.mainlog import MainLogObserver, format_line
from supervise.logs.rotating import RotatingFile


def event(level, text, namespace="supervise.process.program", when=1795464410.125):
    return {"log_level": level, "log_format": text, "log_namespace": namespace, "log_time": when}


def test_line_format():
    """Lines read 'YYYY-MM-DD HH:MM:SS,mmm LEVL message'."""
    line = format_line(
        event(LogLevel.warn, "exited: crash (exit status 3; not expected)"), time.gmtime
    )
    assert line == "2026-11-23 20:06:50,125 WARN exited: crash (exit status 3; not expected)\n"


def test_level_filter_and_foreign_namespaces(tmp_path):
    """Below loglevel is dropped; other libraries' info lines stay out, their errors go in."""
    echo = io.StringIO()
    path = tmp_path / "main.log"
    observer = MainLogObserver(RotatingFile(str(path)), "warn", echo)
    observer(event(LogLevel.info, "spawned: 'web' with pid 1"))
    observer(
        event(LogLevel.critical, "Server 'x' running without any HTTP authentication checking")
    )
    observer(event(LogLevel.info, "Site starting", namespace="twisted.web"))
    observer(event(LogLevel.error, "Unhandled error", namespace="twisted.internet"))
    observer.file.close()
    lines = path.read_text().splitlines()
    assert [line.split(" ", 3)[2:] for line in lines] == [
        ["CRIT", "Server 'x' running without any HTTP authentication checking"],
        ["ERRO", "Unhandled error"],
    ]
    assert echo.getvalue().count("\n") == 2


def test_messages_read_as_twisted_formats_them():
    """Fields, conversions, attribute and index access, calls, and a format that fails all
    read in the main log as Twisted's own formatting reads them."""
    from twisted.logger import formatEvent

    from supervise.logs.mainlog import message

    class Program:
        name = "web"

        def describe(self):
            return "pid 7"

    cases = [
        {"log_format": "spawned: {name!r} with pid {pid}", "name": "web", "pid": 7},
        {"log_format": "{program.name} at {where[0]:>5}", "program": Program(), "where": [3]},
        {"log_format": "{program.describe()}", "program": Program()},
        {"log_format": "missing {nothing}"},
        {"log_format": "braces {{kept}} {n:03d}", "n": 4},
        {"log_format": None},
    ]
    for case in cases:
        assert message(case) == formatEvent(case), case
    assert message(cases[0]) == "spawned: 'web' with pid 7"
