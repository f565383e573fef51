"""The one configuration error type: it names the file, line, section and option."""

from __future__ import annotations

PROGRAM_SECTION_KINDS = ("program", "eventlistener", "fcgi-program")


def place(
    path: str | None, line: int | None, section: str | None = None, option: str | None = None
) -> str:
    """``x.conf:12, [program:a] startsecs`` — as much of it as is known ("" for nothing)."""
    where = []
    if path is not None and line:
        where.append(f"{path}:{line}")
    elif path is not None:
        where.append(path)
    if section is not None and option is not None:
        where.append(f"[{section}] {option}")
    return ", ".join(where)


class ConfigError(ValueError):
    """A configuration problem, located as precisely as the reader knows.

    ``str()`` starts with supervisord's own text — the message, and for program-like
    sections ``in section 'program:a' (file: 'x.conf')`` — so scripts matching
    supervisord's errors keep working; then it adds what supervisord leaves out:
    ``at x.conf:12, [program:a] startsecs`` and the include chain.

    :ivar more: the further errors a whole-file check found after this one.
    :ivar warnings: the warnings found up to the error.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        section: str | None = None,
        option: str | None = None,
        included_from: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.section = section
        self.option = option
        self.included_from = included_from
        self.more: list[ConfigError] = []
        self.warnings: list[str] = []

    def __str__(self) -> str:
        text = self.message
        if self.section is not None and self.section.split(":", 1)[0] in PROGRAM_SECTION_KINDS:
            text += f" in section {self.section!r} (file: {self.path!r})"
        where = place(self.path, self.line, self.section, self.option)
        if where:
            text += " at " + where
        if self.included_from:
            text += f" (included from {self.included_from})"
        return text
