"""How the daemon was asked to run (the config path, command-line overrides, environment)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from attrs import define, field

from supervise import config as config_module
from supervise.config.ini import RawConfig
from supervise.config.model import ConfigModel


@define(eq=False)
class DaemonOptions:
    """How the daemon was asked to run: the config path and command-line overrides."""

    config_path: str
    overrides: Mapping[str, str] = field(factory=dict)
    echo: bool = False
    environ: Mapping[str, str] = field(factory=lambda: dict(os.environ))
    handoff: str | None = None

    def load(self, extra: Callable[[RawConfig], None] | None = None) -> ConfigModel:
        """Read the configuration (raises ConfigError); ``extra`` adds cluster sections."""
        return config_module.load(self.config_path, self.environ, self.overrides, extra)
