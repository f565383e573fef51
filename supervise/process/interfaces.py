"""The collaborators a Program works through: every OS call of the core sits behind one.

The core (machine, program, start/run/stop data) calls only these and ``IReactorTime``;
the real providers live in ``process/os/``, the fakes in ``supervise.testing``.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class ITreeKiller(Interface):
    """One program's process tree: what is left of it when its main process ends.

    ``killmode = tree`` (the default) finds descendants through the subreaper (orphans
    re-parented to the daemon stay attributable by their environment); ``cgroup = true``
    uses a cgroup v2; ``killmode = process`` is supervisord's own behaviour (the main
    process only).
    """

    def prepare(spec, label):  # type: ignore[no-untyped-def]  # SpawnSpec, str -> SpawnSpec
        """The spawn spec for a new run (a cgroup to join, say); ``label`` names the run."""

    def remember(pid: int) -> None:
        """The program is being stopped: note every member of ``pid``'s tree now."""

    def signal_rest(pid: int, sig: int) -> None:
        """Send ``sig`` to every member still alive except the main process ``pid``."""

    def when_empty(pid: int):  # type: ignore[no-untyped-def]  # -> Deferred[None]
        """Fire once no member but the (reaped) main process is left; at once if none."""

    def release() -> int:
        """The run is over: forget it, clean up; return how many members the kernel
        killed for lack of memory (cgroup only, else 0)."""


class IReadinessCheck(Interface):
    """One probe of a program: ``tcp:HOST:PORT``, ``http(s)://…`` or ``command:CMD``.

    Parsed once, from the config; the retry loop and its deadline belong to the core.
    """

    description = Attribute("str: the probe as configured, for logs and events")

    def check(env, timeout):  # type: ignore[no-untyped-def]  # Mapping[str, str], float -> Deferred[bool]
        """One attempt: fire True if it passed within ``timeout`` seconds, else False.

        Never fails; cancelling it stops the attempt."""


class INotifyChannel(Interface):
    """A per-run sd_notify socket (``NOTIFY_SOCKET``)."""

    address = Attribute("str: the NOTIFY_SOCKET value given to the program")

    def close() -> None:
        """Stop listening."""


class INotifySockets(Interface):
    """Opens sd_notify sockets."""

    def open(label, on_message):  # type: ignore[no-untyped-def]  # str, Callable[[str, str], None] -> INotifyChannel
        """A new socket; ``on_message(key, value)`` for each ``KEY=value`` line received."""


class IFileWatcher(Interface):
    """Says when a file may have changed (inotify on its folder, no polling)."""

    def watch(path, on_change):  # type: ignore[no-untyped-def]  # str, Callable[[], None] -> Callable[[], None]
        """Call ``on_change`` after each change of ``path``; returns a function that stops it."""


class IProcessTable(Interface):
    """The one reader of the kernel's process table (``/proc``), and signals by pid."""

    def signal(pid: int, sig: int) -> None:
        """Send ``sig`` to ``pid`` (a process that is no child of ours); nothing if gone."""

    def start_ticks(pid: int) -> int | None:
        """When ``pid`` started (clock ticks since boot); None if gone or a zombie."""

    def start_time(pid: int) -> float | None:
        """When ``pid`` started, in epoch seconds; None if gone."""

    def find(pattern, uid, exclude):  # type: ignore[no-untyped-def]  # re.Pattern, int|None, Callable[[int], bool] -> int|None
        """The oldest live process whose command line matches (owned by ``uid`` if set)."""

    def pidfile_pid(path: str, written_since: float) -> int | None:
        """The live pid a pidfile names, if written at or after ``written_since``."""
