"""The supervisor's own state machine: RUNNING, RESTARTING (a reload), SHUTDOWN.

supervisord's SupervisorStates (SUPERVISOR.md §3.1) on Automat, like the process
machine: the machine decides, the Supervisor records. Automatic starts happen only
while RUNNING; a reload or shutdown announces SUPERVISOR_STATE_CHANGE_STOPPING once.
A program whose end ends the daemon (``critical``, ``exit_when_done``) is heard only
while RUNNING: during a reload or a shutdown every program ends anyway.
"""

from __future__ import annotations

from typing import Protocol

from automat import TypeMachineBuilder, pep614

from supervise.errors import Failed
from supervise.states import SupervisorState


class SupervisorInputs(Protocol):
    """What can happen to the daemon as a whole."""

    def start(self) -> None:
        """The groups are in place: RUNNING (again, after a reload)."""

    def restart(self) -> None:
        """A reload begins: every program is stopped and the config replaced."""

    def shut_down(self) -> None:
        """The daemon is stopping for good."""

    def end(self, group: str, name: str, status: int, why: str) -> None:
        """A program's end ends the daemon, which is to exit with ``status``."""


class SupervisorCore(Protocol):
    """What the machine needs of the Supervisor."""

    def record(self, state: SupervisorState) -> None:
        """Record the state."""

    def announce_stopping(self) -> None:
        """Publish SUPERVISOR_STATE_CHANGE_STOPPING."""

    def announce_exit(self, group: str, name: str, status: int, why: str) -> None:
        """Say which program ends the daemon and why (main log, SUPERVISE_DAEMON_EXITING)."""


builder = TypeMachineBuilder(SupervisorInputs, SupervisorCore)  # type: ignore[type-abstract]
Running = builder.state("RUNNING")
Restarting = builder.state("RESTARTING")
Shutdown = builder.state("SHUTDOWN")


@pep614(Running.upon(SupervisorInputs.start).loop())
@pep614(Restarting.upon(SupervisorInputs.start).to(Running))
def running(c: SupervisorInputs, s: SupervisorCore) -> None:
    s.record(SupervisorState.RUNNING)


@pep614(Running.upon(SupervisorInputs.restart).to(Restarting))
def restarting(c: SupervisorInputs, s: SupervisorCore) -> None:
    s.record(SupervisorState.RESTARTING)
    s.announce_stopping()


@pep614(Running.upon(SupervisorInputs.shut_down).to(Shutdown))
@pep614(Restarting.upon(SupervisorInputs.shut_down).to(Shutdown))
def shutting_down(c: SupervisorInputs, s: SupervisorCore) -> None:
    s.record(SupervisorState.SHUTDOWN)
    s.announce_stopping()


@pep614(Running.upon(SupervisorInputs.end).to(Shutdown))
def ending(
    c: SupervisorInputs, s: SupervisorCore, group: str, name: str, status: int, why: str
) -> None:
    s.record(SupervisorState.SHUTDOWN)
    s.announce_exit(group, name, status, why)
    s.announce_stopping()


@pep614(Restarting.upon(SupervisorInputs.restart).loop())
def already_restarting(c: SupervisorInputs, s: SupervisorCore) -> None:
    raise Failed("a restart is already in progress")


@pep614(Shutdown.upon(SupervisorInputs.restart).loop())
@pep614(Shutdown.upon(SupervisorInputs.start).loop())
def shutting_down_already(c: SupervisorInputs, s: SupervisorCore) -> None:
    raise Failed("the daemon is shutting down")


Shutdown.upon(SupervisorInputs.shut_down).loop().returns(None)
Restarting.upon(SupervisorInputs.end).loop().returns(None)
Shutdown.upon(SupervisorInputs.end).loop().returns(None)

SupervisorMachine = builder.build()
