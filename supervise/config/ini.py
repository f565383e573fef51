"""Read supervisord INI files: the main file, its ``[include]`` globs, and where each
value came from.

Parsing rules are supervisord's (SUPERVISOR.md §2): ``RawConfigParser`` with ``;``/``#``
inline comments (even inside quotes) and ``strict=False`` (duplicates merge, last wins);
``%(here)s`` is replaced textually per file; only the main file's ``[include]`` counts.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
from collections.abc import Mapping

from attrs import define, field

from supervise.config.errors import ConfigError, place
from supervise.config.kinds import is_known, suggestion

HERE = "%(here)s"
_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]+)\]")
_OPTION_RE = re.compile(r"^(?P<key>[^\s=:;#\[][^=:]*?)\s*[=:]")


@define
class Location:
    """Where a section or option was written."""

    path: str
    line: int
    included_from: str | None = None


@define
class RawConfig:
    """Every section's raw option text, with locations and read-time messages."""

    path: str
    here: str
    sections: dict[str, dict[str, str]]
    section_locations: dict[str, Location] = field(factory=dict)
    option_locations: dict[tuple[str, str], Location] = field(factory=dict)
    warnings: list[str] = field(factory=list)
    infos: list[str] = field(factory=list)
    errors: list[ConfigError] = field(factory=list)

    def locate(self, section: str, option: str | None = None) -> Location | None:
        """Return the location of an option, else of its section, else None."""
        if option is not None:
            found = self.option_locations.get((section, option))
            if found is not None:
                return found
        return self.section_locations.get(section)

    def place(self, section: str, option: str | None = None) -> str:
        """``x.conf:12`` of an option (else of its section), else the main file's path."""
        where = self.locate(section, option)
        return f"{where.path}:{where.line}" if where else self.path

    def warn(self, message: str, section: str | None = None, option: str | None = None) -> None:
        """Note a warning, ending ``at FILE:LINE, [section] option`` where it is known."""
        where = self.locate(section, option) if section is not None else None
        text = place(where.path if where else None, where.line if where else None, section, option)
        self.warnings.append(f"{message} at {text}" if text else message)

    def error(
        self, message: str, section: str | None = None, option: str | None = None
    ) -> ConfigError:
        """Build a ConfigError located at ``section``/``option``."""
        where = self.locate(section, option) if section is not None else None
        return ConfigError(
            message,
            path=where.path if where else self.path,
            line=where.line if where else None,
            section=section,
            option=option,
            included_from=where.included_from if where else None,
        )


def _new_parser() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(
        inline_comment_prefixes=(";", "#"), strict=False, interpolation=None
    )
    return parser


def _scan_locations(path: str, text: str, included_from: str | None, raw: RawConfig) -> None:
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _SECTION_RE.match(line)
        if header:
            section = header.group("name").strip()
            first = raw.section_locations.setdefault(section, Location(path, number, included_from))
            if (first.path, first.line) != (path, number):
                raw.warnings.append(
                    f"section [{section}] is given twice, at {first.path}:{first.line} and at "
                    f"{path}:{number}: its options are merged, the later value of each wins"
                )
            continue
        if section is None or line[:1].isspace():
            continue
        option = _OPTION_RE.match(line)
        if option:
            key = option.group("key").strip().lower()
            raw.option_locations[(section, key)] = Location(path, number, included_from)


def _warn_unknown_sections(raw: RawConfig) -> None:
    for section in raw.sections:
        if not is_known(section):
            raw.warn(
                f"ignoring section [{section}] of an unknown kind{suggestion(section)}", section
            )


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ConfigError(f"could not read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"could not read config file {path}: {error}") from None


def _parse_into(parser: configparser.RawConfigParser, path: str, text: str) -> list[str]:
    before = set(parser.sections())
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        line = getattr(error, "lineno", None)
        if line is None and isinstance(error, configparser.ParsingError) and error.errors:
            line = error.errors[0][0]
        raise ConfigError(str(error).replace("\n", " "), path=path, line=line) from None
    return [name for name in parser.sections() if name not in before]


def _expand_here(parser: configparser.RawConfigParser, here: str) -> None:
    for section in parser.sections():
        for key, value in parser.items(section):
            if value is not None and HERE in value:
                parser.set(section, key, value.replace(HERE, here))


def read(path: str, expansions: Mapping[str, str]) -> RawConfig:
    """Read ``path`` and the files its ``[include]`` names.

    :param expansions: names allowed in ``[include] files`` besides ``here``
        (``host_node_name`` and ``ENV_*``).
    """
    if not os.path.exists(path):
        raise ConfigError(f"could not find config file {path}")
    shown = path  # errors name the main file as the operator wrote it, like supervisord
    path = os.path.abspath(path)
    here = os.path.dirname(path)
    text = _read_text(path)
    raw = RawConfig(path=path, here=here, sections={})
    parser = _new_parser()
    _parse_into(parser, shown, text)
    _scan_locations(shown, text, None, raw)

    if parser.has_section("include"):
        _expand_here(parser, here)
        if not parser.has_option("include", "files"):
            raise raw.error(".ini file has [include] section, but no files setting", "include")
        from supervise.config.expand import expand

        files_text = parser.get("include", "files") or ""
        try:
            patterns = expand(files_text, {"here": here, **expansions}, "include.files").split()
        except ValueError as error:
            raise raw.error(str(error), "include", "files") from None
        files_at = raw.locate("include", "files")
        chain = f"{files_at.path}:{files_at.line}" if files_at else path
        for pattern in patterns:
            full = os.path.join(here, pattern)
            matches = sorted(glob.glob(full))
            if not matches:
                raw.warn(f'No file matches via include "{full}"', "include", "files")
                continue
            for included in matches:
                raw.infos.append(f'Included extra file "{included}" during parsing')
                included_text = _read_text(included)
                _parse_into(parser, included, included_text)
                _scan_locations(included, included_text, chain, raw)
                _expand_here(parser, os.path.abspath(os.path.dirname(included)))

    for section in parser.sections():
        raw.sections[section] = {
            key: (value if value is not None else "") for key, value in parser.items(section)
        }
    _warn_unknown_sections(raw)
    return raw


def add_text(raw: RawConfig, label: str, text: str) -> list[str]:
    """Add the sections of ``text`` to ``raw`` (errors name ``label`` as the file).

    Used for cluster revisions: their sections join the local files'. A section the
    local files already define is an error; ``%(here)s`` is the main file's folder.
    """
    parser = _new_parser()
    names = _parse_into(parser, label, text)
    for name in names:
        if name in raw.sections:
            where = raw.locate(name)
            place = f" (at {where.path}:{where.line})" if where else ""
            raise ConfigError(
                f"section [{name}] is defined both in {label} and in the local files{place}",
                path=label,
                section=name,
            )
    _scan_locations(label, text, None, raw)
    _expand_here(parser, raw.here)
    for name in names:
        raw.sections[name] = {
            key: value if value is not None else "" for key, value in parser.items(name)
        }
    return names
