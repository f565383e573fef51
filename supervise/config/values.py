"""Pure parsers for supervisord's value syntaxes (SUPERVISOR.md §2.1).

Each parser takes the option's text and returns a Python value or raises
``ValueError`` whose text is supervisord's own message, so a migrated operator reads
the error they already know.
"""

from __future__ import annotations

import enum
import grp
import os
import pwd
import shlex
import signal
from typing import Any
from urllib.parse import urlparse

TRUTHY_STRINGS = ("yes", "true", "on", "1")
FALSY_STRINGS = ("no", "false", "off", "0")

BYTE_SUFFIXES = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}

#: supervisord's log level names, most to least severe, with our numeric order.
LOG_LEVELS = {
    "critical": 50,
    "error": 40,
    "warn": 30,
    "info": 20,
    "debug": 10,
    "trace": 5,
    "blather": 3,
}

_VALID_SIGNUMS = frozenset(int(s) for s in signal.Signals)


class AutoRestart(enum.Enum):
    """The three ``autorestart`` policies (SUPERVISOR.md §3.5)."""

    NEVER = "false"
    UNEXPECTED = "unexpected"
    ALWAYS = "true"


class LogTarget(enum.Enum):
    """The special ``*_logfile`` values that are not paths."""

    AUTO = "auto"
    NONE = "none"
    SYSLOG = "syslog"


def boolean(text: str) -> bool:
    """Parse ``yes/true/on/1`` and ``no/false/off/0`` in any case."""
    lowered = text.lower()
    if lowered in TRUTHY_STRINGS:
        return True
    if lowered in FALSY_STRINGS:
        return False
    raise ValueError(f"not a valid boolean value: {text!r}")


FORWARD_FORMATS = ("plain", "timestamped", "json")


def forward_output_format(text: str) -> str:
    """``plain``, ``timestamped`` or ``json`` (``forward_output_format``)."""
    value = text.strip().lower()
    if value not in FORWARD_FORMATS:
        raise ValueError(f"{text!r} is not one of {', '.join(FORWARD_FORMATS)}")
    return value


def integer(text: str) -> int:
    """Parse a decimal integer with Python's ``int()`` message on failure."""
    return int(text)


def seconds_or_zero(text: str) -> float:
    """A number of seconds, 0 or more (0 turns the feature off)."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not number >= 0 or number == float("inf"):
        raise ValueError(f"{text!r} must be 0 (off) or a positive number of seconds")
    return number


def byte_size(text: str) -> int:
    """Parse a byte size: a number with an optional ``KB``/``MB``/``GB`` suffix."""
    lowered = text.lower()
    for suffix, multiplier in BYTE_SUFFIXES.items():
        if lowered.endswith(suffix):
            return int(lowered[: -len(suffix)]) * multiplier
    return int(lowered)


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """Parse a period such as ``30m``, ``1h``, ``1d`` or ``7d`` (also ``45s``) into
    seconds; ``0`` or an empty value is none."""
    value = text.strip().lower()
    if value in ("", "0"):
        return 0
    number, unit = value[:-1].strip(), value[-1:]
    if unit not in DURATION_UNITS or not number.isdigit() or int(number) == 0:
        raise ValueError(f"{text!r} is not a period such as 30m, 1h, 1d or 7d")
    return int(number) * DURATION_UNITS[unit]


def octal(text: str) -> int:
    """Parse an octal number such as ``022`` or ``0o22`` (umask, chmod)."""
    try:
        return int(text, 8)
    except (TypeError, ValueError):
        raise ValueError(f"{text} can not be converted to an octal type") from None


def signal_number(text: str) -> int:
    """Parse a signal name (``TERM``, ``SIGterm``) or a valid signal number."""
    try:
        number = int(text)
    except ValueError:
        name = text.strip().upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        found = getattr(signal, name, None)
        if not isinstance(found, int):
            raise ValueError(f"value {text!r} is not a valid signal name") from None
        number = int(found)
    if number not in _VALID_SIGNUMS:
        raise ValueError(f"value {text!r} is not a valid signal number")
    return number


def signal_name(number: int) -> str:
    """Return the ``SIGxxx`` name of a signal number, or the number as text."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def list_of_strings(text: str) -> tuple[str, ...]:
    """Split a comma list, stripping each item; empty text is an empty list."""
    if not text:
        return ()
    return tuple(item.strip() for item in text.split(","))


def exit_codes(text: str) -> tuple[int, ...]:
    """Parse a comma list of exit codes, each 0..255."""
    try:
        codes = tuple(int(item) for item in text.split(",")) if text else ()
    except ValueError:
        raise ValueError(f"not a valid list of exit codes: {text!r}") from None
    if any(code < 0 or code > 255 for code in codes):
        raise ValueError(f"not a valid list of exit codes: {text!r}")
    return codes


def environment(text: str) -> dict[str, str]:
    """Parse ``KEY=val,KEY2="v,2"`` the way supervisord tokenises it (shlex)."""
    lexer = shlex.shlex(text)
    lexer.wordchars += "/.+-():"
    try:
        tokens = list(lexer)
    except ValueError as error:
        raise ValueError(f"Unexpected end of key/value pairs in value '{text}' ({error})") from None
    result: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        triple = tokens[index : index + 3]
        if len(triple) != 3 or triple[1] != "=":
            raise ValueError(f"Unexpected end of key/value pairs in value '{text}'")
        result[triple[0]] = triple[2].strip("'\"")
        index += 4
    return result


def auto_restart(text: str) -> AutoRestart:
    """Parse ``autorestart``: a boolean word or ``unexpected``."""
    lowered = text.lower()
    if lowered in TRUTHY_STRINGS:
        return AutoRestart.ALWAYS
    if lowered in FALSY_STRINGS:
        return AutoRestart.NEVER
    if lowered == "unexpected":
        return AutoRestart.UNEXPECTED
    raise ValueError(f"invalid 'autorestart' value {lowered!r}")


def existing_dirpath(text: str) -> str:
    """Return a path whose directory part, if any, exists (``~`` expanded)."""
    path = os.path.expanduser(text)
    directory = os.path.dirname(path)
    if not directory or os.path.isdir(directory):
        return path
    raise ValueError(f"The directory named as part of the path {text} does not exist")


def existing_directory(text: str) -> str:
    """Return a path that is an existing directory (``~`` expanded)."""
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        return path
    raise ValueError(f"{text} is not an existing directory")


def logfile_name(text: str) -> str | LogTarget:
    """Parse a ``*_logfile`` value: ``AUTO``, ``NONE``/``OFF``, ``syslog`` or a path."""
    lowered = text.lower()
    if lowered in ("none", "off"):
        return LogTarget.NONE
    if lowered == "auto":
        return LogTarget.AUTO
    if lowered == "syslog":
        return LogTarget.SYSLOG
    return existing_dirpath(text)


def logging_level(text: str) -> str:
    """Parse a log level name; ``warning`` is not accepted, as in supervisord."""
    lowered = text.lower()
    if lowered not in LOG_LEVELS:
        raise ValueError(f"bad logging level name {text!r}")
    return lowered


def name_to_uid(text: str) -> int:
    """Resolve a user name or numeric uid that exists in the password database."""
    try:
        uid = int(text)
    except ValueError:
        try:
            return pwd.getpwnam(text).pw_uid
        except KeyError:
            raise ValueError(f"Invalid user name {text}") from None
    try:
        pwd.getpwuid(uid)
    except KeyError:
        raise ValueError(f"Invalid user id {text}") from None
    return uid


def name_to_gid(text: str) -> int:
    """Resolve a group name or numeric gid that exists in the group database."""
    try:
        gid = int(text)
    except ValueError:
        try:
            return grp.getgrnam(text).gr_gid
        except KeyError:
            raise ValueError(f"Invalid group name {text}") from None
    try:
        grp.getgrgid(gid)
    except KeyError:
        raise ValueError(f"Invalid group id {text}") from None
    return gid


def user_and_group(text: str, label: str = "user:group definition") -> tuple[int, int]:
    """Parse ``user`` or ``user:group`` into ``(uid, gid)``; gid -1 when absent."""
    try:
        user, _, group = text.partition(":")
        uid = name_to_uid(user)
        gid = name_to_gid(group) if group else -1
    except ValueError:
        raise ValueError(f"Invalid {label} {text}") from None
    return uid, gid


def inet_address(text: str) -> tuple[str, int]:
    """Parse ``port``, ``host:port``, ``*:port`` or ``:port``; host '' means all."""
    host = ""
    port_text = text
    if ":" in text:
        host, port_text = text.rsplit(":", 1)
        if not port_text:
            raise ValueError(f"no port number specified in {text!r}")
        port = _port_number(port_text)
        host = host.lower()
    else:
        try:
            port = _port_number(port_text)
        except ValueError:
            raise ValueError(f"not a valid port number: {text!r} ") from None
    if host == "*":
        host = ""
    return host, port


def _port_number(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(f"{number!r} is below lower bound (1)")
    if number > 65535:
        raise ValueError(f"{number!r} is above upper bound (65535)")
    return number


def process_or_group_name(text: str) -> str:
    """Strip a process or group name and reject space, ``:`` and ``/``."""
    stripped = text.strip()
    for character in " :/":
        if character in stripped:
            raise ValueError(f"Invalid name: {text!r} because of character: {character!r}")
    return stripped


def import_spec(spec: str) -> Any:
    """The object a ``module:attribute.path`` spec names (supervisord's ``import_spec``).

    Raises ImportError or AttributeError when it cannot be found.
    """
    import importlib

    module_name, _, attribute = spec.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        target = getattr(target, part)
    return target


def url(text: str) -> str:
    """Accept a URL with a scheme and a network location or path."""
    parsed = urlparse(text)
    if parsed.scheme and (parsed.netloc or parsed.path):
        return text
    raise ValueError(f"value {text!r} is not a URL")
