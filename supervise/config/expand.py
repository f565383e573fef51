"""supervisord's ``%(name)s`` expansions (SUPERVISOR.md §2.2)."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping


def expand(text: str, names: Mapping[str, object], option: str) -> str:
    """Expand ``%(name)s`` forms in ``text``; ``%%`` is a literal ``%``.

    Errors carry supervisord's wording, naming the option and the available names.
    """
    try:
        return text % names
    except KeyError as error:
        missing = str(error.args[0])
        if missing.startswith("ENV_"):
            raise ValueError(
                f"Format string {text!r} for {option!r} contains names ({error}) which cannot "
                f"be expanded: the environment variable {missing[4:]} is not set"
            ) from None
        shown = sorted(name for name in names if not name.startswith("ENV_"))
        available = ", ".join([*shown, "ENV_X for each environment variable X"])
        raise ValueError(
            f"Format string {text!r} for {option!r} contains names ({error}) which cannot "
            f"be expanded. Available names: {available}"
        ) from None
    except Exception as error:
        raise ValueError(
            f"Format string {text!r} for {option!r} is badly formatted: {error}"
        ) from None


def environ_expansions(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``ENV_X`` names for every variable of ``environ`` (default: ours)."""
    source = os.environ if environ is None else environ
    return {f"ENV_{key}": value for key, value in source.items()}


def host_node_name() -> str:
    """Return ``platform.node()``, the value of ``%(host_node_name)s``."""
    return platform.node()
