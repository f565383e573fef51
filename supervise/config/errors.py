"""The one configuration error type: it names the file, line, section and option."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, located as precisely as the reader knows.

    ``str()`` gives ``file:line: [section] option: message (included from f:l)``,
    leaving out what is unknown.
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

    def __str__(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}:{self.line}:" if self.line else f"{self.path}:")
        if self.section is not None:
            where = f"[{self.section}]"
            if self.option is not None:
                where += f" {self.option}:"
            parts.append(where)
        parts.append(self.message)
        text = " ".join(parts)
        if self.included_from:
            text += f" (included from {self.included_from})"
        return text
