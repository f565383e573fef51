"""From a process's configuration to what the spawner needs: command, environment, user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from attrs import field, frozen

from supervise.config.envfiles import EnvironmentFileError, layered
from supervise.config.model import ProcessConfig
from supervise.errors import SpawnError
from supervise.process import command

if TYPE_CHECKING:
    from supervise.logs.forward import OutputForwarder
    from supervise.process.linux.cgroups import CgroupTree

OWNER_ENV = "SUPERVISE_OWNER"


@frozen
class SpawnSpec:
    """Everything needed to start one child: pure data built from a ProcessConfig."""

    filename: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str | None = None
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] | None = None
    umask: int | None = None
    redirect_stderr: bool = False
    stdin_fd: int | None = None
    cgroup: str | None = None
    listen_fds: tuple[int, ...] = ()
    #: The program's namespec: names its pipes in the descriptor keeper.
    label: str = ""
    #: ``(name, soft, hard)`` resource limits set in the child (hard None: inherited).
    rlimits: tuple[tuple[str, int, int | None], ...] = ()


class ChildSetupError(Exception):
    """The child could not be set up (user, directory, exec).

    supervisord reports these on the child's stderr and exits 127; ``lines`` are those
    messages, which the caller writes to the stderr log.
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


@frozen
class SpawnContext:
    """What every process of a daemon shares when it spawns."""

    environ: Mapping[str, str]
    server_url: str | None
    childlogdir: str
    identifier: str
    strip_ansi: bool = False
    log_output: bool = False
    cgroups: CgroupTree | None = None
    sockets: Mapping[str, int] = field(factory=dict)
    owner: str = ""  # SUPERVISE_OWNER in each child's environment: finds survivors of a crash
    #: ``forward_output``: every program's lines also on the daemon's stdout and stderr.
    forward: OutputForwarder | None = None


def build_spawn_spec(
    config: ProcessConfig, context: SpawnContext, stdin_fd: int | None
) -> SpawnSpec:
    """The SpawnSpec of one start: resolved command (SpawnError with supervisord's text),
    supervisord's environment (SUPERVISOR_* then the program's own, SUPERVISOR.md §4.7),
    the user's ids and groups, and any ``[socket:x]`` to hand over. Environment files
    are read now: one missing or malformed is a SpawnError naming file and line."""
    try:
        environment = layered(config.environment, config.extras.environment_files)
    except EnvironmentFileError as error:
        raise SpawnError(str(error), "SPAWN_ERROR") from None
    filename, argv = command.resolve(
        config.command, command.search_path(environment, context.environ)
    )
    env = dict(context.environ)
    env["SUPERVISOR_ENABLED"] = "1"
    server_url = config.serverurl or context.server_url
    if server_url:
        env["SUPERVISOR_SERVER_URL"] = server_url
    env["SUPERVISOR_PROCESS_NAME"] = config.name
    env["SUPERVISOR_GROUP_NAME"] = config.group
    if context.owner:
        env[OWNER_ENV] = context.owner
    env.update(environment)
    listen_fds: tuple[int, ...] = ()
    names = config.extras.sockets
    if names:
        missing = [n for n in names if n not in context.sockets]
        if missing:
            raise SpawnError(f"socket {', '.join(missing)} is not open", "SPAWN_ERROR")
        listen_fds = tuple(context.sockets[n] for n in names)
        env["LISTEN_FDS"] = str(len(names))
        env["LISTEN_FDNAMES"] = ":".join(names)
    return SpawnSpec(
        filename=filename,
        argv=argv,
        env=env,
        cwd=config.directory,
        uid=config.uid,
        umask=config.umask,
        redirect_stderr=config.redirect_stderr,
        stdin_fd=stdin_fd,
        listen_fds=listen_fds,
        label=config.namespec,
        rlimits=config.extras.rlimits,
    )
