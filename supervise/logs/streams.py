"""Log targets that are streams, not files: ``/dev/stdout``, ``/dev/stderr``,
``/proc/self/fd/N``, a pipe, a terminal. They are written to as they are: never
sought, rotated, renamed or removed, whatever ``maxbytes`` says (supervisor #1078)."""

from __future__ import annotations

import os
import re
import stat

#: Paths naming one of the daemon's own descriptors.
DESCRIPTOR_PATH = re.compile(
    r"/dev/(stdout|stderr|stdin)|/dev/fd/\d+|/proc/(self|thread-self)/fd/\d+"
)


def is_stream(path: str) -> bool:
    """True when ``path`` names a descriptor of the daemon or something not a regular file."""
    if DESCRIPTOR_PATH.fullmatch(os.path.normpath(path)):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)
