"""Find, load and wire plugins: entry points (``supervise.plugins``) or ``factory=``.

A plugin that fails to import, to configure or to start is logged with its
distribution's name and left out; the daemon and the other plugins go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from attrs import define, field
from twisted.logger import Logger
from zope.interface import implementer

from supervise.config.model import PluginConfig
from supervise.config.values import import_spec
from supervise.interfaces import IEventBus, IPluginContext, ISupervisorPlugin

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

log = Logger()

ENTRY_POINT_GROUP = "supervise.plugins"


@implementer(IPluginContext)
@define(eq=False)
class PluginContext:
    """What one plugin gets (see IPluginContext)."""

    name: str
    control: Any  # ISupervisorControl (typed so once service.py hands it over non-optional)
    bus: IEventBus
    reactor: Any
    log: Logger


@define(eq=False)
class LoadedPlugin:
    """A plugin that loaded and configured, with what it provides."""

    name: str
    origin: str
    plugin: Any
    listeners: list[Any] = field(factory=list)
    resources: dict[bytes, Any] = field(factory=dict)
    namespaces: dict[str, object] = field(factory=dict)
    services: list[Any] = field(factory=list)


def available() -> dict[str, EntryPoint]:
    """Installed plugins by entry point name."""
    # Read when a config names a plugin: importlib.metadata costs 10 ms at every start.
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _origin(entry_point: EntryPoint | None, factory: str | None) -> str:
    if entry_point is not None:
        dist = entry_point.dist
        version = f" {dist.version}" if dist is not None else ""
        return f"{dist.name if dist is not None else 'unknown distribution'}{version} ({entry_point.value})"
    return f"factory {factory}"


def load_one(
    config: PluginConfig, make_context: Callable[[str], PluginContext]
) -> LoadedPlugin | None:
    """Load, configure and collect one plugin; None (logged) if anything fails."""
    entry_point = None if config.factory else available().get(config.name)
    origin = _origin(entry_point, config.factory)
    if entry_point is None and config.factory is None:
        log.error(
            "[plugin:{name}] names no installed plugin (installed: {installed}); set factory = "
            "module:callable or pip install the plugin",
            name=config.name,
            installed=", ".join(sorted(available())) or "none",
        )
        return None
    try:
        factory = (
            entry_point.load() if entry_point is not None else import_spec(config.factory or "")
        )
        plugin = factory()
        if not ISupervisorPlugin.providedBy(plugin):
            raise TypeError(f"{plugin!r} does not provide ISupervisorPlugin")
        plugin.configure(dict(config.options), make_context(config.name))
        loaded = LoadedPlugin(
            config.name,
            origin,
            plugin,
            list(plugin.listeners()),
            dict(plugin.resources()),
            dict(plugin.rpc_namespaces()),
            list(plugin.services()),
        )
    except Exception:
        log.failure(
            "plugin {name} from {origin} failed to load; left out", name=config.name, origin=origin
        )
        return None
    log.info("plugin {name} loaded from {origin}", name=config.name, origin=origin)
    return loaded


def load_all(
    configs: Iterable[PluginConfig], make_context: Callable[[str], PluginContext]
) -> list[LoadedPlugin]:
    """Every plugin that loads; the others are logged and left out."""
    return [p for p in (load_one(c, make_context) for c in configs) if p is not None]
