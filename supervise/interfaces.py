"""The zope Interfaces that edges, plugins and the core program against."""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IEventListener(Interface):
    """Something that consumes events from the bus."""

    name = Attribute("str, used in logs")
    event_types = Attribute("tuple of Event classes; subclasses included")
    max_pending = Attribute("int, bound of this listener's queue while it is busy")

    def notify(event):  # type: ignore[no-untyped-def]  # Event -> Deferred | None
        """Take one event; a returned Deferred holds back the next until it fires."""


class ISubscription(Interface):
    """A listener's place on the bus."""

    pending = Attribute("int, events queued for this listener")
    dropped = Attribute("int, events dropped because the queue was full")
    failures = Attribute("int, events whose delivery raised or failed")

    def cancel() -> None:
        """Stop delivering events to this listener."""


class IEventBus(Interface):
    """The one bus every lifecycle event travels on."""

    def publish(event):  # type: ignore[no-untyped-def]  # Event -> Event
        """Stamp ``serial`` and ``when``, deliver in order, return the stamped event.

        Delivery is never re-entrant: a publish made while delivering is queued and
        delivered after the current event reached every listener.
        """

    def subscribe(listener: IEventListener) -> ISubscription:
        """Deliver every later event of the listener's types to it."""


class IChild(Interface):
    """A running child process, as the process machine sees it."""

    pid = Attribute("int")

    def signal(sig: int, group: bool = False) -> None:
        """Send ``sig`` to the child (or its process group); ProcessGone if reaped."""

    def write_stdin(data: bytes) -> None:
        """Queue bytes for the child's stdin; NotRunning if it is closed."""

    def close_stdin() -> None:
        """Close the child's stdin."""


class IChildProtocol(Interface):
    """Receives what happens to one child."""

    def output(stream: str, data: bytes) -> None:
        """Bytes the child wrote on ``stdout`` or ``stderr``."""

    def exited(status: int) -> None:
        """Once, after the child is reaped: its raw wait status."""


class IProcessSpawner(Interface):
    """Starts children."""

    def spawn(spec, protocol):  # type: ignore[no-untyped-def]  # SpawnSpec, IChildProtocol -> IChild
        """Start a child from a SpawnSpec; failures before exec raise SpawnError."""

    def adopt(pid, protocol, fds=None, label=""):  # type: ignore[no-untyped-def]  # int, IChildProtocol, dict | None, str -> IChild
        """Watch an existing process as a child; ``fds`` are its pipes, if any (inherited
        through a re-exec, or taken back from the descriptor keeper); ``label`` names it."""

    def owns(pid: int) -> bool:
        """True if ``pid`` is already some program's child."""


class IProcess(Interface):
    """One supervised process, as the control API sees it."""

    config = Attribute("ProcessConfig")
    state = Attribute("ProcessState")

    def start() -> None:
        """Ask the process to start; AlreadyStarted etc. when it cannot."""

    def stop() -> None:
        """Ask the process to stop; NotRunning when it is not running."""


class IPluginContext(Interface):
    """What a plugin gets to work with."""

    name = Attribute("str: the plugin's section name")
    control = Attribute(
        "SupervisorControl: start, stop, signal, snapshot … (the core's command API)"
    )
    bus = Attribute("IEventBus: publish your own events, or subscribe more listeners")
    reactor = Attribute("the Twisted reactor (IReactorTime, IReactorProcess …)")
    log = Attribute("twisted.logger.Logger namespaced for this plugin")


class ISupervisorPlugin(Interface):
    """An in-process plugin, found through the ``supervise.plugins`` entry point group.

    Enabled by a ``[plugin:<name>]`` section whose options are given to ``configure``.
    Every method may be left to ``supervise.plugin.Plugin``'s defaults.
    """

    def configure(options, context):  # type: ignore[no-untyped-def]
        """Validate and keep the section's options; raise ValueError naming the option."""

    def listeners():  # type: ignore[no-untyped-def]
        """IEventListener providers to subscribe to the bus."""

    def resources():  # type: ignore[no-untyped-def]
        """``{b"path": IResource}`` mounted under ``/plugins/<name>/``."""

    def rpc_namespaces():  # type: ignore[no-untyped-def]
        """``{"namespace": object}`` served over XML-RPC as ``namespace.method``."""

    def services():  # type: ignore[no-untyped-def]
        """IService providers started and stopped with the daemon."""
