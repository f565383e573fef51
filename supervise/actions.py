"""Named actions on processes, answered per process in words: what the console and cluster run.

``perform(control, "restart", ["web", "workers:*"])`` does for each process what
supervisorctl would (start waits for RUNNING, restart is stop then start) and answers
``{"name", "ok", "error"}`` for each, the error in plain words.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList, fail, maybeDeferred
from twisted.python.failure import Failure

from supervise.config.values import signal_number
from supervise.control import SupervisorControl
from supervise.errors import BadName, in_words
from supervise.process.program import Program
from supervise.states import RUNNING_STATES

ACTIONS = ("start", "stop", "restart", "signal", "clearlog")


class BadAction(ValueError):
    """The action request is malformed; the message says how."""


def check(
    action: object, names: object, signal: object = None
) -> tuple[str, list[str], int | None]:
    """Validate an action request from outside; BadAction names what is wrong."""
    if action not in ACTIONS:
        raise BadAction(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BadAction("names must be a non-empty list of process names")
    sig = None
    if action == "signal":
        try:
            sig = signal_number(str(signal or ""))
        except ValueError:
            raise BadAction(f"bad signal {signal!r}") from None
    return str(action), names, sig


def perform(
    control: SupervisorControl, action: str, names: list[str], sig: int | None = None
) -> Deferred[list[dict[str, Any]]]:
    """Do ``action`` on every process ``names`` designate; one result per process."""
    labels: list[str] = []
    programs_by_label: dict[str, Program] = {}
    work: list[Deferred[None]] = []
    for name in names:
        try:
            programs = _resolve(control, name)
        except BadName as error:
            labels.append(name)
            work.append(fail(error))
            continue
        for program in programs:
            labels.append(program.namespec)
            programs_by_label[program.namespec] = program
            work.append(maybeDeferred(_act, control, action, program, sig))

    def collect(outcomes: list[tuple[bool, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "name": label,
                "ok": ok,
                "error": "" if ok else _words(value, programs_by_label.get(label)),
            }
            for label, (ok, value) in zip(labels, outcomes, strict=True)
        ]

    return DeferredList(work, consumeErrors=True).addCallback(collect)  # type: ignore[no-any-return]


def _resolve(control: SupervisorControl, name: str) -> list[Program]:
    group, sep, process = name.partition(":")
    if sep and process in ("*", ""):
        return control.group(group).ordered()
    return [control.process(name)]


def _act(
    control: SupervisorControl, action: str, program: Program, sig: int | None
) -> Deferred[None]:
    return Deferred.fromCoroutine(_one(control, action, program, sig))


async def _one(control: SupervisorControl, action: str, program: Program, sig: int | None) -> None:
    label = program.namespec
    if action == "start":
        await control.start_process(program, label, True)
    elif action == "stop":
        await control.stop_process(program, label, True)
    elif action == "restart":
        if program.state in RUNNING_STATES:
            await control.stop_process(program, label, True)
        await control.start_process(program, label, True)
    elif action == "signal":
        assert sig is not None
        program.signal(sig)
    else:
        program.stdout.clear()
        program.stderr.clear()


def _words(failure: Failure, program: Program | None) -> str:
    error = failure.value
    words = in_words(error) if isinstance(error, Exception) else str(error)
    if program is not None and program.spawnerr and program.spawnerr not in words:
        words = f"{words}: {program.spawnerr}"
    return words
