"""The main activity log: a twisted.logger observer in supervisord's format.

``2026-11-23 20:05:01,123 INFO spawned: 'web' with pid 8532`` — operators grep for these
lines, so the wording and the four-letter levels are supervisord's (SUPERVISOR.md §4.4).
"""

from __future__ import annotations

import sys
import syslog
import time
from collections.abc import Callable
from typing import IO, Any

from attrs import define, field
from twisted.logger import ILogObserver, LogLevel, formatEvent
from zope.interface import implementer

from supervise.config.values import LOG_LEVELS
from supervise.logs.rotating import RotatingFile

LEVEL_NAMES = {
    LogLevel.debug: "DEBG",
    LogLevel.info: "INFO",
    LogLevel.warn: "WARN",
    LogLevel.error: "ERRO",
    LogLevel.critical: "CRIT",
}
SYSLOG_PRIORITIES = {
    LogLevel.debug: syslog.LOG_DEBUG,
    LogLevel.info: syslog.LOG_INFO,
    LogLevel.warn: syslog.LOG_WARNING,
    LogLevel.error: syslog.LOG_ERR,
    LogLevel.critical: syslog.LOG_CRIT,
}
LEVEL_NUMBERS = {
    LogLevel.debug: 10,
    LogLevel.info: 20,
    LogLevel.warn: 30,
    LogLevel.error: 40,
    LogLevel.critical: 50,
}


def message(event: dict[str, Any]) -> str:
    """The event's text: ``str.format_map`` for a plain format (a tenth of the cost: a
    500-program start writes 1,500 lines), else Twisted's ``formatEvent``, which also
    calls ``{f()}`` and turns a format that fails into a line saying so."""
    text = event.get("log_format")
    if isinstance(text, str) and "()" not in text:
        try:
            return text.format_map(event)
        except Exception:  # formatEvent says what went wrong
            pass
    return formatEvent(event)


def format_line(
    event: dict[str, Any], localtime: Callable[[float], time.struct_time] = time.localtime
) -> str:
    """Render one log event as a main-log line (with a trailing newline)."""
    when = float(event.get("log_time", 0.0))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", localtime(when))
    millis = int((when - int(when)) * 1000)
    level = LEVEL_NAMES.get(event.get("log_level", LogLevel.info), "INFO")
    text = message(event)
    failure = event.get("log_failure")
    if failure is not None:
        text += "\n" + failure.getTraceback()
    return f"{stamp},{millis:03d} {level} {text}\n"


@implementer(ILogObserver)
@define(eq=False)
class MainLogObserver:
    """Writes supervise's own events (and others' errors) to the main log file.

    :ivar echo: a stream that also gets each line (stdout in the foreground).
    """

    file: RotatingFile | None
    loglevel: str = "info"
    echo: IO[str] | None = None
    to_syslog: bool = False
    followers: list[Callable[[bytes], None]] = field(factory=list)
    _threshold: int = field(init=False)

    def __attrs_post_init__(self) -> None:
        self._threshold = LOG_LEVELS.get(self.loglevel, 20)

    def __call__(self, event: dict[str, Any]) -> None:
        level = event.get("log_level", LogLevel.info)
        number = LEVEL_NUMBERS.get(level, 20)
        namespace = str(event.get("log_namespace", ""))
        if not namespace.startswith("supervise") and number < 40:
            return
        if number < self._threshold:
            return
        line = format_line(event)
        if self.to_syslog:
            priority = SYSLOG_PRIORITIES.get(level, syslog.LOG_INFO)
            syslog.syslog(priority, line.split(" ", 3)[-1].rstrip("\n"))
        if self.file is not None:
            try:
                self.file.write(line.encode("utf-8", "replace"))
            except OSError:
                pass
        for follower in tuple(self.followers):
            follower(line.encode("utf-8", "replace"))
        if self.echo is not None:
            try:
                self.echo.write(line)
                self.echo.flush()
            except (OSError, ValueError):
                pass

    def reopen(self) -> None:
        """Reopen the file after an external rotation."""
        if self.file is not None:
            self.file.reopen()


def stdout_echo() -> IO[str]:
    """The stream foreground daemons echo their main log to."""
    return sys.__stdout__ or sys.stdout
