"""``POST /api/action``: start, stop, restart, signal and clear logs from the console.

The body is JSON ``{"action": ..., "names": [namespec, ...], "signal": "HUP"}``; a name
may be ``group:*``. Every name is answered with ``{"name", "ok", "error"}``, the error in
words; the work goes through SupervisorControl, as XML-RPC's does.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, DeferredList, fail, maybeDeferred
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.config.values import signal_number
from supervise.control import SupervisorControl
from supervise.errors import BadName, in_words
from supervise.process.program import Program
from supervise.states import RUNNING_STATES
from supervise.web.guard import refusal

MAX_BODY = 1024 * 1024
ACTIONS = ("start", "stop", "restart", "signal", "clearlog")


class BadAction(Exception):
    """The request is malformed; the message says how."""


def _json(request: IRequest, code: int, payload: object) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(payload).encode()


def parse(body: bytes) -> tuple[str, list[str], int | None]:
    """Check the request body; BadAction names what is wrong."""
    try:
        data = json.loads(body)
    except ValueError as problem:
        raise BadAction(f"the body is not JSON: {problem}") from None
    if not isinstance(data, dict):
        raise BadAction("the body must be a JSON object")
    action = data.get("action")
    if action not in ACTIONS:
        raise BadAction(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    names = data.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BadAction("names must be a non-empty list of process names")
    sig = None
    if action == "signal":
        try:
            sig = signal_number(str(data.get("signal", "")))
        except ValueError:
            raise BadAction(f"bad signal {data.get('signal')!r}") from None
    return action, names, sig


class ConsoleActions(resource.Resource):
    """The action endpoint."""

    isLeaf = True

    def __init__(self, control: SupervisorControl, token: str) -> None:
        super().__init__()
        self.control = control
        self.token = token

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        request.setHeader(b"allow", b"POST")
        return _json(request, 405, {"error": "actions are POSTs"})

    def render_POST(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        why = refusal(request, self.token)
        if why is not None:
            return _json(request, 403, {"error": why})
        kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip()
        if kind != b"application/json":
            return _json(request, 415, {"error": "the body must be application/json"})
        assert request.content is not None
        body = request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _json(request, 413, {"error": "the body is too large"})
        try:
            action, names, sig = parse(body)
        except BadAction as problem:
            return _json(request, 400, {"error": str(problem)})
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))

        def answer(results: list[dict[str, Any]]) -> None:
            if not finished[0]:
                request.write(_json(request, 200, {"action": action, "results": results}))
                request.finish()

        self.run(action, names, sig).addCallback(answer)
        return server.NOT_DONE_YET

    def run(self, action: str, names: list[str], sig: int | None) -> Deferred[list[dict[str, Any]]]:
        """Do ``action`` on every process ``names`` designate; one result per process."""
        labels: list[str] = []
        programs_by_label: dict[str, Program] = {}
        work: list[Deferred[None]] = []
        for name in names:
            try:
                programs = self._resolve(name)
            except BadName as error:
                labels.append(name)
                work.append(fail(error))
                continue
            for program in programs:
                labels.append(program.namespec)
                programs_by_label[program.namespec] = program
                work.append(maybeDeferred(self._act, action, program, sig))

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

    def _resolve(self, name: str) -> list[Program]:
        group, sep, process = name.partition(":")
        if sep and process in ("*", ""):
            return self.control.group(group).ordered()
        return [self.control.process(name)]

    def _act(self, action: str, program: Program, sig: int | None) -> Deferred[None]:
        return Deferred.fromCoroutine(self._one(action, program, sig))

    async def _one(self, action: str, program: Program, sig: int | None) -> None:
        label = program.namespec
        if action == "start":
            await self.control.start_process(program, label, True)
        elif action == "stop":
            await self.control.stop_process(program, label, True)
        elif action == "restart":
            if program.state in RUNNING_STATES:
                await self.control.stop_process(program, label, True)
            await self.control.start_process(program, label, True)
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
