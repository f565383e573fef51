"""Which sections a configuration may have: a section of another kind is a warning
(supervisord ignores it in silence: a typo like ``[progam:x]`` went unnoticed)."""

from __future__ import annotations

#: Sections known by their whole name.
NAMED = frozenset({"supervisord", "supervisorctl", "include", "cluster"})
#: Sections known by how their name starts (``[program:web]``, ``[inet_http_server]``).
PREFIXES = (
    "program:", "group:", "eventlistener:", "fcgi-program:", "rpcinterface:", "ctlplugin:",
    "unix_http_server", "inet_http_server", "plugin:", "socket:",
)  # fmt: skip


def is_known(section: str) -> bool:
    """True for a section supervise (or supervisorctl) reads."""
    return section in NAMED or section.startswith(PREFIXES)


def suggestion(section: str) -> str:
    """`` (did you mean [program:x]?)`` for a near miss of a known kind, else ""."""
    import difflib  # only for a section of an unknown kind

    kind, colon, name = section.partition(":")
    kinds = [prefix.rstrip(":") for prefix in PREFIXES] + sorted(NAMED)
    close = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.75)
    if not close:
        return ""
    return f" (did you mean [{close[0]}{colon}{name}]?)"
