"""The main log as a service: opened once privileges are dropped, closed last."""

from __future__ import annotations

from collections.abc import Callable

from twisted.application.service import Service
from twisted.logger import Logger, globalLogPublisher

from supervise.config.model import ConfigModel
from supervise.daemon.errors import StartupError
from supervise.daemon.runtime import Runtime
from supervise.logs.mainlog import MainLogObserver, stdout_echo
from supervise.logs.rotating import RotatingFile

log = Logger(namespace="supervise.service")


def main_log_path(model: ConfigModel) -> str | None:
    """The main log file, None for syslog."""
    path = model.supervisord.logfile
    return None if path.lower() == "syslog" else path


def open_main_log(model: ConfigModel, echo: bool) -> MainLogObserver:
    """An observer writing ``model``'s main log; StartupError naming the file if it
    cannot be opened for appending (a directory, a missing folder, no permission)."""
    opts = model.supervisord
    path = main_log_path(model)
    main_file = None
    if path is not None:
        main_file = RotatingFile(
            path,
            opts.logfile_maxbytes,
            opts.logfile_backups,
            opts.logfile_rotate_every,
            opts.logfile_compress,
        )
        try:
            main_file.open()
        except OSError as problem:
            raise StartupError(
                f"cannot open the main log file {path}: {problem.strerror or problem}"
            ) from None
    stream = stdout_echo() if echo and not opts.silent else None
    return MainLogObserver(main_file, opts.loglevel, stream, to_syslog=main_file is None)


class MainLogService(Service):
    """Adds the main-log observer to the global log publisher, and takes it away."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.observer: MainLogObserver | None = None

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        self._install(open_main_log(self.runtime.model, self.runtime.options.echo))
        model = self.runtime.model
        for message in self.runtime.messages:
            log.info("{message}", message=message)
        self.runtime.messages.clear()
        for message in model.warnings:
            log.warn("{message}", message=message)
        for message in model.infos:
            log.info("{message}", message=message)

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        super().stopService()
        self._remove()

    def reload(self, model: ConfigModel) -> None:
        """Write the log ``model`` names from now on; keep the old one if it cannot be
        opened."""
        try:
            observer = open_main_log(model, self.runtime.options.echo)
        except StartupError as problem:
            log.error("{problem}; the main log stays where it was", problem=str(problem))
            return
        self._install(observer)

    def _install(self, observer: MainLogObserver) -> None:
        followers = self.observer.followers if self.observer is not None else []
        self._remove()
        observer.followers.extend(followers)
        self.observer = observer
        globalLogPublisher.addObserver(observer)

    def _remove(self) -> None:
        if self.observer is not None:
            globalLogPublisher.removeObserver(self.observer)
            self.close_file()

    def close_file(self) -> None:
        """Close the file (before an exec); later lines still reach the echo."""
        if self.observer is not None and self.observer.file is not None:
            self.observer.file.close()

    def reopen(self) -> None:
        """Reopen the file after an external rotation."""
        if self.observer is not None:
            self.observer.reopen()

    def clear(self) -> None:
        """Delete and reopen the file."""
        if self.observer is not None and self.observer.file is not None:
            self.observer.file.clear()

    def followers(self) -> list[Callable[[bytes], None]] | None:
        """Who follows the log live (``/mainlogtail``)."""
        return self.observer.followers if self.observer is not None else None
