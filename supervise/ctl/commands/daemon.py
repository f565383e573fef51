"""The daemon itself: ``reload``, ``shutdown``, ``reexec``, ``version``."""

from __future__ import annotations

from attrs import define

from supervise.ctl.session import OK, Session


@define(eq=False)
class DaemonCommands:
    """Restart, stop or re-execute the daemon; print its version."""

    session: Session

    def do_reload(self, words: list[str]) -> int:
        """``reload``: restart the daemon."""
        self.session.call("supervisor.restart")
        self.session.emit("Restarted supervisord")
        return OK

    def do_shutdown(self, words: list[str]) -> int:
        """``shutdown``: stop every program, then the daemon."""
        self.session.call("supervisor.shutdown")
        self.session.emit("Shut down")
        return OK

    def do_reexec(self, words: list[str]) -> int:
        """Replace the daemon with a fresh copy of itself; every program keeps running."""
        self.session.call("supervise.reexec")
        self.session.emit("Re-executing supervise; programs keep running")
        return OK

    def do_version(self, words: list[str]) -> int:
        """``version``: the daemon's version."""
        version = self.session.call("supervisor.getSupervisorVersion")
        if self.session.as_json:
            self.session.emit_json({"version": version})
        else:
            self.session.emit(version)
        return OK
