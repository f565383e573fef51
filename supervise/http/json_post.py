"""JSON POST endpoints behind the cross-site guard: the consoles' action APIs.

The body is a JSON object; the answer is JSON with a status code that says what went
wrong (403 refused, 415 not JSON, 413 too large, 400 malformed).
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.http.csrf import refusal
from supervise.http.openapi import mark

#: The largest body accepted, in bytes.
MAX_BODY = 1024 * 1024


class BadRequest(ValueError):
    """The request is malformed; the message says how (answered with status 400)."""


def json_answer(request: IRequest, code: int, payload: object) -> bytes:
    """Set the status and headers of a JSON answer; return its body."""
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    mark(request)
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(payload).encode()


def peek_json(request: IRequest) -> dict[str, Any]:
    """The body of a refused POST, best effort (to say in the audit what was tried)."""
    content = getattr(request, "content", None)
    if content is None:
        return {}
    try:
        content.seek(0)
        data = json.loads(content.read(MAX_BODY))
    except Exception:
        return {}
    finally:
        content.seek(0)
    return data if isinstance(data, dict) else {}


class JsonAction(resource.Resource):
    """A POST endpoint taking a JSON object, behind the cross-site guard.

    Subclasses say who may act (``forbidden``) and do the work (``act``: raise
    BadRequest, or a ValueError subclass, for a bad request; else return a Deferred of
    the JSON answer).
    """

    isLeaf = True  # noqa: N815 - Twisted's name

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def forbidden(self) -> str | None:
        """Why this user may not act at all, or None."""
        return None

    def act(self, data: dict[str, Any]) -> Deferred[dict[str, Any]]:
        """Do the work of one request."""
        raise NotImplementedError

    def act_for(self, data: dict[str, Any], request: IRequest) -> Deferred[dict[str, Any]]:
        """Do the work of one request for its caller (to audit who asked); ``act`` by default."""
        return self.act(data)

    def refused(self, request: IRequest, why: str) -> None:
        """A request was refused with 403 (an endpoint that audits records it here)."""

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        request.setHeader(b"allow", b"POST")
        return json_answer(request, 405, {"error": "actions are POSTs"})

    def render_POST(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        why = refusal(request, self.token) or self.forbidden()
        if why is not None:
            self.refused(request, why)
            return json_answer(request, 403, {"error": why})
        kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip()
        if kind != b"application/json":
            return json_answer(request, 415, {"error": "the body must be application/json"})
        assert request.content is not None
        body = request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return json_answer(request, 413, {"error": "the body is too large"})
        try:
            data = json.loads(body)
        except ValueError as problem:
            return json_answer(request, 400, {"error": f"the body is not JSON: {problem}"})
        try:
            if not isinstance(data, dict):
                raise BadRequest("the body must be a JSON object")
            work = self.act_for(data, request)
        except ValueError as problem:
            return json_answer(request, 400, {"error": str(problem)})
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))

        def answer(payload: dict[str, Any]) -> None:
            if not finished[0]:
                request.write(json_answer(request, 200, payload))
                request.finish()

        work.addCallback(answer)
        return server.NOT_DONE_YET
