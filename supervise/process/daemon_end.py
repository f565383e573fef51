"""When a process's end ends the daemon: ``critical = true`` and ``exit_when_done``.

Processes report ending for good (``ProcessEnd``); these rules turn that into the
supervisor machine's ``end`` input, with the status the daemon is to exit with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from attrs import define
from twisted.internet.interfaces import IReactorTime

from supervise.config.model import GroupKind
from supervise.process.ended import ProcessEnd
from supervise.process.group import ProcessGroup
from supervise.states import ProcessState

#: States a process stays in until someone starts it: it has ended, for exit_when_done.
ENDED_STATES = frozenset({ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL})

#: The supervisor machine's ``end`` input: (group, name, status, why).
EndInput = Callable[[str, str, int, str], None]


@define(eq=False)
class DaemonEndRules:
    """Decides whether a process's end ends the daemon.

    :ivar groups: the daemon's groups now (event listener pools never count as work).
    :ivar first_unexpected: the first end with an unexpected status (exit_when_done).
    """

    exit_when_done: bool
    clock: IReactorTime
    groups: Callable[[], Iterable[ProcessGroup]]
    end: EndInput
    first_unexpected: ProcessEnd | None = None

    def ended(self, end: ProcessEnd) -> None:
        """A process ended for good: a critical one ends the daemon with its status;
        with exit_when_done, the last one ends it (a reactor turn later, so that what
        its end set going, such as a dependant's start, is seen first). A scheduled
        program's runs end nothing: it runs again at its next tick."""
        if end.scheduled:
            return
        if end.critical:
            why = f"critical program {end.namespec} {end.why}"
            self.end(end.group, end.name, end.status, why)
            return
        if not self.exit_when_done:
            return
        if not end.expected and self.first_unexpected is None:
            self.first_unexpected = end
        self.clock.callLater(0, self._check, end)

    def _check(self, last: ProcessEnd) -> None:
        for group in self.groups():
            if group.config.kind is GroupKind.EVENTLISTENER:
                continue
            for process in group.processes.values():
                if process.state not in ENDED_STATES or process.config.extras.schedule:
                    return
        first = self.first_unexpected
        if first is None:
            self.end(last.group, last.name, 0, "every program has ended as expected")
        else:
            why = (
                f"every program has ended; {first.namespec} first ended unexpectedly ({first.why})"
            )
            self.end(first.group, first.name, first.status or 1, why)
