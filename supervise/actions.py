"""Named actions on processes, answered per process in words: what the console and cluster run.

``perform(control, "restart", ["web", "workers:*"])`` does for each process what
supervisorctl would (start waits for RUNNING, restart is stop then start) and answers
``{"name", "ok", "error"}`` for each, the error in plain words.

Built on ``ISupervisorControl`` alone, below the edges that use it (the console's
``/api/action`` and the cluster agent's commands).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList, fail, maybeDeferred
from twisted.python.failure import Failure

from supervise.config.values import signal_number
from supervise.errors import BadName, in_words
from supervise.interfaces import ISupervisorControl
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
    control: ISupervisorControl, action: str, names: list[str], sig: int | None = None
) -> Deferred[list[dict[str, Any]]]:
    """Do ``action`` on every process ``names`` designate; one result per process."""
    labels: list[str] = []
    work: list[Deferred[None]] = []
    for name in names:
        try:
            namespecs = control.resolve(name).namespecs
        except BadName as error:
            labels.append(name)
            work.append(fail(error))
            continue
        for namespec in namespecs:
            labels.append(namespec)
            work.append(maybeDeferred(_act, control, action, namespec, sig))

    def collect(outcomes: list[tuple[bool, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "name": label,
                "ok": ok,
                "error": "" if ok else _words(value, control, label),
            }
            for label, (ok, value) in zip(labels, outcomes, strict=True)
        ]

    return DeferredList(work, consumeErrors=True).addCallback(collect)  # type: ignore[no-any-return]


def _act(
    control: ISupervisorControl, action: str, namespec: str, sig: int | None
) -> Deferred[None]:
    return Deferred.fromCoroutine(_one(control, action, namespec, sig))


async def _one(control: ISupervisorControl, action: str, namespec: str, sig: int | None) -> None:
    if action == "start":
        await control.start(namespec, True)
    elif action == "stop":
        await control.stop(namespec, True)
    elif action == "restart":
        if control.snapshot(namespec).state in RUNNING_STATES:
            await control.stop(namespec, True)
        await control.start(namespec, True)
    elif action == "signal":
        assert sig is not None
        control.signal(namespec, sig)
    else:
        control.clear_log(namespec)


def _words(failure: Failure, control: ISupervisorControl, label: str) -> str:
    error = failure.value
    words = in_words(error) if isinstance(error, Exception) else str(error)
    try:
        spawnerr = control.snapshot(label).spawnerr
    except BadName:
        return words
    if spawnerr and spawnerr not in words:
        words = f"{words}: {spawnerr}"
    return words
