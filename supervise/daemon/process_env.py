"""The daemon process's own environment: umask, working directory, user, limits.

Two services, because supervisord drops privileges *before* opening its main log and
raises limits (logging that it did) *after*.
"""

from __future__ import annotations

import os
import pwd
import resource as rlimits

from twisted.application.service import Service
from twisted.logger import Logger

from supervise.config.model import ConfigModel
from supervise.config.values import name_to_uid
from supervise.daemon.errors import StartupError
from supervise.daemon.runtime import Runtime
from supervise.process.linux.reaper import become_subreaper

log = Logger(namespace="supervise.service")

ROOT_WARNING = (
    "Supervisor is running as root.  Privileges were not dropped because no user is "
    "specified in the config file.  If you intend to run as root, you can set "
    "user=root in the config file to avoid this message."
)


def drop_privileges(user: str | None) -> str:
    """Become ``[supervisord] user`` (SUPERVISOR.md §4.6): groups, gid, then uid.

    Returns the line to log once the main log is open ("" when nothing changed).
    """
    if user is None:
        return ""
    record = pwd.getpwuid(name_to_uid(user))
    if record.pw_uid == os.getuid():
        return ""
    if os.getuid() != 0:
        raise StartupError("Can't drop privilege as nonroot user")
    os.setgroups(os.getgrouplist(record.pw_name, record.pw_gid))
    os.setgid(record.pw_gid)
    os.setuid(record.pw_uid)
    return f"Set uid to user {record.pw_uid} succeeded"


def raise_limits(model: ConfigModel) -> None:
    """Raise RLIMIT_NOFILE/RLIMIT_NPROC to minfds/minprocs, or refuse to start."""
    for name, limit, minimum in (
        ("RLIMIT_NOFILE", rlimits.RLIMIT_NOFILE, model.supervisord.minfds),
        ("RLIMIT_NPROC", rlimits.RLIMIT_NPROC, model.supervisord.minprocs),
    ):
        soft, hard = rlimits.getrlimit(limit)
        if soft == rlimits.RLIM_INFINITY or soft >= minimum:
            continue
        new_hard = hard if hard == rlimits.RLIM_INFINITY or hard >= minimum else minimum
        try:
            rlimits.setrlimit(limit, (minimum, new_hard))
            log.info("Increased {name} limit to {minimum}", name=name, minimum=minimum)
        except (ValueError, OSError) as problem:
            raise StartupError(
                f"The minimum number required by {name} ({minimum}) is higher than the "
                f"current limit ({soft}) and it could not be raised: {problem}"
            ) from None


def warn_if_root(model: ConfigModel) -> None:
    """supervisord's CRIT line for a daemon left running as root."""
    if os.getuid() == 0 and model.supervisord.user is None:
        log.critical(ROOT_WARNING)


class PrivilegesService(Service):
    """umask, the working directory a re-exec hands over, then ``[supervisord] user``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        model = self.runtime.model
        if model.supervisord.umask_given:
            # supervisord applies umask only when it daemonizes; under systemd (-n) a
            # configured umask would be silently ignored. Here it always holds.
            os.umask(model.supervisord.umask)
        handoff = self.runtime.handoff
        cwd = handoff.extra.get("cwd") if handoff is not None else None
        if isinstance(cwd, str):
            # The copy started where the first one was started (its command line's
            # relative paths); its programs run where the first one's did.
            try:
                os.chdir(cwd)
            except OSError as problem:
                self.runtime.messages.append(f"could not return to {cwd}: {problem.strerror}")
        message = drop_privileges(model.supervisord.user)
        if message:
            self.runtime.messages.append(message)


class LimitsService(Service):
    """The subreaper role, minfds/minprocs, and the root warning."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        if not become_subreaper():
            log.warn(
                "orphaned grandchildren and daemonized programs' exit statuses cannot be collected"
            )
        raise_limits(self.runtime.model)
        warn_if_root(self.runtime.model)
