"""``top``: the live full-screen view (``supervise/ctl/top.py``; Textual is loaded only here)."""

from __future__ import annotations

import sys

from attrs import define

from supervise.ctl.session import Session, UsageError


@define(eq=False)
class TopCommands:
    """A live view of every program: state, pid, uptime, restarts, CPU, memory."""

    session: Session

    def do_top(self, words: list[str]) -> int:
        """``top``: a live full-screen view of every program (state, pid, uptime, restarts,
        CPU, memory, last exit) from the daemon's event stream; ``/`` filters as you type,
        ``s``/``x``/``r`` start, stop, restart the selected program, ``t`` follows its
        stdout, ``q`` quits.

        Example: ``supervisectl -c /etc/supervisord.conf top``
        """
        if words:
            raise UsageError("top takes no arguments (filter inside it with /)")
        if self.session.as_json:
            raise UsageError("top is a screen, not a report: use status --json")
        if not sys.stdin.isatty() or not sys.stdout.isatty():
            raise UsageError("top needs a terminal")
        from supervise.ctl.top import run

        return run(self.session.connection)
