"""How the daemon was asked to run (the config path, command-line overrides, environment)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field

from supervise import config as config_module
from supervise.config.ini import RawConfig
from supervise.config.model import ConfigModel

#: supervisord's command line (``supervise``), for getopt.gnu_getopt.
SHORT = "c:nshv?u:m:d:l:y:z:e:j:i:q:ka:t"
LONG = [
    "configuration=", "nodaemon", "silent", "help", "version", "user=", "umask=",
    "directory=", "logfile=", "logfile_maxbytes=", "logfile_backups=", "loglevel=",
    "pidfile=", "identifier=", "childlogdir=", "nocleanup", "minfds=", "strip_ansi",
    "minprocs=", "profile_options=",
]  # fmt: skip


@define(eq=False)
class DaemonOptions:
    """How the daemon was asked to run: the config path and command-line overrides.

    :ivar handoff: the handoff file a re-exec passed (``SUPERVISE_HANDOFF``), else None.
    :ivar cwd: the working directory the command ran in (a re-exec starts there again,
        so relative paths on its command line mean what they meant).
    :ivar twistd: twistd's own options (``pidfile``, ``statusPipe`` once daemonized), or
        None when the service is built without twistd.
    :ivar stderr_fd: a copy of the terminal's stderr taken before twistd daemonizes, to
        tell why a start failed after the fork; closed once the daemon runs.
    """

    config_path: str
    overrides: Mapping[str, str] = field(factory=dict)
    echo: bool = False
    environ: Mapping[str, str] = field(factory=lambda: dict(os.environ))
    handoff: str | None = None
    cwd: str = field(factory=os.getcwd)
    twistd: Any = None
    stderr_fd: int | None = None

    def load(self, extra: Callable[[RawConfig], None] | None = None) -> ConfigModel:
        """Read the configuration (raises ConfigError); ``extra`` adds cluster sections."""
        return config_module.load(self.config_path, self.environ, self.overrides, extra)

    def release_stderr(self) -> None:
        """Close the copy of the terminal's stderr (the daemon started)."""
        if self.stderr_fd is not None:
            try:
                os.close(self.stderr_fd)
            except OSError:
                pass
            self.stderr_fd = None

    def twistd_option(self, name: str) -> Any:
        """One of twistd's options (None without twistd or when it has no such option)."""
        if self.twistd is None:
            return None
        try:
            return self.twistd[name]
        except KeyError:
            return None
