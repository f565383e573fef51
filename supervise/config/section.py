"""Reading one INI section: expand, parse, and locate errors at file, line and option."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from supervise.config import values
from supervise.config.errors import ConfigError
from supervise.config.expand import expand
from supervise.config.ini import RawConfig

T = TypeVar("T")


class SectionReader:
    """Reads one section's options, expanding and parsing with located errors."""

    def __init__(self, raw: RawConfig, name: str, names: Mapping[str, object]) -> None:
        self.raw = raw
        self.name = name
        self.options = raw.sections.get(name, {})
        self.names = dict(names)

    def has(self, option: str) -> bool:
        return option in self.options

    def text(
        self,
        option: str,
        default: str | None,
        *,
        expand_names: Mapping[str, object] | None = None,
        do_expand: bool = True,
    ) -> str | None:
        value = self.options.get(option, default)
        if value is None or not do_expand:
            return value
        names = self.names if expand_names is None else expand_names
        try:
            return expand(value, names, f"{self.name}.{option}")
        except ValueError as error:
            raise self.error(str(error), option) from None

    def parse(
        self,
        option: str,
        default: str,
        parser: Callable[[str], T],
        *,
        expand_names: Mapping[str, object] | None = None,
    ) -> T:
        text = self.text(option, default, expand_names=expand_names)
        assert text is not None
        return self.convert(option, text, parser)

    def optional(
        self,
        option: str,
        parser: Callable[[str], T],
        *,
        expand_names: Mapping[str, object] | None = None,
    ) -> T | None:
        text = self.text(option, None, expand_names=expand_names)
        return None if text is None else self.convert(option, text, parser)

    def convert(self, option: str, text: str, parser: Callable[[str], T]) -> T:
        try:
            return parser(text)
        except ValueError as error:
            raise self.error(str(error), option) from None

    def error(self, message: str, option: str | None = None) -> ConfigError:
        return self.raw.error(message, self.name, option)

    def warn_unknown(self, known: frozenset[str]) -> None:
        for option in sorted(set(self.options) - known):
            self.raw.warn(f"ignoring unknown option {option!r}", self.name, option)


def checked_user(text: str) -> str:
    values.name_to_uid(text)
    return text
