"""XML-RPC over twisted.web: parse, check, dispatch, answer — never crash the daemon.

supervisord's wire rules (SUPERVISOR.md §6): method names are exactly ``ns.method``;
wrong arity is INCORRECT_PARAMETERS; every ``supervisor.*`` call but
sendRemoteCommEvent is refused with SHUTDOWN_STATE while stopping. Beyond supervisord:
request bodies are capped, parameter types are checked against the signature, and an
unexpected error is logged and answered as a FAILED fault.
"""

from __future__ import annotations

import inspect
import reprlib
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.iweb import IRequest

from supervise.audit import AuditTrail
from supervise.errors import SuperviseError
from supervise.http.peer import caller, door_of
from supervise.rpc import faults
from supervise.rpc.audit import audited_calls, outcome_of, permitted, targets
from supervise.rpc.faults import RPCError, to_rpc_error
from supervise.rpc.premarshalled import dumps_response
from supervise.rpc.registry import PYTHON_TYPES, signature_of, unchecked_params

log = Logger()

MAX_BODY = 4 * 1024 * 1024


class XMLRPCResource(resource.Resource):
    """``POST /RPC2``: supervisord-compatible XML-RPC dispatch."""

    isLeaf = True

    def __init__(
        self,
        methods: dict[str, Callable[..., Any]],
        check_state: Callable[[str], None],
        max_body: int = MAX_BODY,
        audit: AuditTrail | None = None,
        role: str = "admin",
    ) -> None:
        """:param role: who the callers are (``viewer`` and ``operator``: a cluster
        console's users; their actions beyond their role are refused with FAILED)."""
        super().__init__()
        self.methods = methods
        self.check_state = check_state
        self.max_body = max_body
        self.audit = audit
        self.role = role

    def for_role(self, role: str) -> XMLRPCResource:
        """The same methods, for callers of ``role``."""
        return XMLRPCResource(self.methods, self.check_state, self.max_body, self.audit, role)

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        request.setResponseCode(400)
        return b"XML-RPC requests must use POST"

    def render_POST(self, request: server.Request) -> bytes | int:  # noqa: N802 - Twisted's name
        length = request.getHeader(b"content-length")
        if length is None:
            request.setResponseCode(411)
            return b"Content-Length required"
        assert request.content is not None
        request.content.seek(0, 2)
        size = request.content.tell()
        if size > self.max_body:
            request.setResponseCode(413)
            return b"request body too large"
        request.content.seek(0)
        body = request.content.read()
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            # XML-RPC has no use for a DTD; refusing it stops entity-expansion bombs.
            log.error("XML-RPC request refused: it declares a DTD or entities")
            request.setResponseCode(400)
            return b"XML-RPC requests may not declare a DTD or entities"
        try:
            params, method = xmlrpc.client.loads(body)
        except (ExpatError, ValueError, TypeError, xmlrpc.client.ResponseError) as error:
            log.error(
                "XML-RPC request data {data!r} is invalid: unmarshallable ({error})",
                data=body[:200],
                error=error,
            )
            request.setResponseCode(400)
            return b"invalid XML-RPC request"
        if method is None:
            request.setResponseCode(400)
            return b"invalid XML-RPC request: no method name"
        if _deeper_than(params, MAX_DEPTH):
            log.error("XML-RPC request refused: values nested more than {n} deep", n=MAX_DEPTH)
            request.setResponseCode(400)
            return f"XML-RPC values may not be nested more than {MAX_DEPTH} deep".encode()
        finished = [False]
        request.notifyFinish().addBoth(lambda _: finished.__setitem__(0, True))
        calls = audited_calls(method, list(params))
        refused = [name for _index, name, _params in calls if not permitted(self.role, name)]
        if refused:
            why = f"refused: {', '.join(refused)} is not for a {self.role}"
            self._record(xmlrpc.client.Fault(faults.FAILED, why), request, method, calls)
            self._respond(xmlrpc.client.Fault(faults.FAILED, f"FAILED: {why}"), request, [False])
            return server.NOT_DONE_YET
        result = ensureDeferred(self._call(method, list(params)))
        if calls and self.audit is not None:
            result.addCallback(self._record, request, method, calls)
        result.addCallback(self._respond, request, finished)
        result.addErrback(self._crashed, request, finished, method)
        return server.NOT_DONE_YET

    async def _call(self, method: str, params: list[Any]) -> Any:
        try:
            value = self.dispatch(method, params)
            if isinstance(value, Deferred):
                value = await value
            return value
        except RPCError as error:
            return error.fault()

    def dispatch(self, method: str, params: list[Any]) -> Any:
        """Run one call; return a value or Deferred, raise RPCError."""
        target = self.methods.get(method) if isinstance(method, str) else None
        if target is None or method.count(".") != 1:
            raise RPCError(faults.UNKNOWN_METHOD)
        namespace, name = method.split(".")
        if namespace == "supervisor":
            self.check_state(name)
        params = self._coerce_params(target, params)
        try:
            value = target(*params)
            if inspect.iscoroutine(value):
                value = Deferred.fromCoroutine(value)
        except SuperviseError as error:
            raise to_rpc_error(error) from None
        if isinstance(value, Deferred):
            value.addErrback(_translate)
        return value

    def _coerce_params(self, target: Callable[..., Any], params: list[Any]) -> list[Any]:
        """Check the count; coerce values the way supervisord's code would use them.

        supervisord calls ``int()`` on offsets and lengths, uses ``wait`` for its truth
        value and formats names with ``%s``; values that cannot be used so are refused
        with INCORRECT_PARAMETERS instead of failing inside the method.
        """
        try:
            bound = _signature(target).bind(*params)
        except TypeError:
            raise RPCError(faults.INCORRECT_PARAMETERS) from None
        signature = signature_of(target)
        if signature is None:
            return params
        unchecked = unchecked_params(target)
        coerced = list(params)
        names = list(bound.arguments)
        for index, (value, kind) in enumerate(zip(params, signature[1:], strict=False)):
            if names[index] in unchecked:
                continue
            try:
                coerced[index] = _coerce(value, kind)
            except (TypeError, ValueError):
                shown = reprlib.repr(value)  # bounded: a 4 MiB string is not echoed back
                raise RPCError(faults.INCORRECT_PARAMETERS, f"{shown} is not a {kind}") from None
        return coerced

    def _record(
        self,
        value: Any,
        request: server.Request,
        method: str,
        calls: list[tuple[int, str, list[Any]]],
    ) -> Any:
        """One audit record per action the request held; the answer passes through."""
        if self.audit is None:
            return value
        who, where = caller(request)
        door = door_of(request, "xml-rpc")
        for index, name, params in calls:
            self.audit.record(who, where, door, name, targets(params), outcome_of(value, index))
        return value

    def _respond(self, value: Any, request: server.Request, finished: list[bool]) -> None:
        if finished[0]:
            return
        if isinstance(value, xmlrpc.client.Fault):
            body = xmlrpc.client.dumps(value, methodresponse=True)
        else:
            body = dumps_response(value)
        data = body.encode("utf-8")
        request.setHeader(b"content-type", b"text/xml")
        request.setHeader(b"content-length", str(len(data)).encode())
        request.write(data)
        request.finish()

    def _crashed(
        self, failure: Failure, request: server.Request, finished: list[bool], method: str
    ) -> None:
        log.failure("unexpected error in XML-RPC method {method}", failure, method=method)
        error = failure.value
        fault = xmlrpc.client.Fault(faults.FAILED, f"FAILED: {type(error).__name__}:{error}")
        self._respond(fault, request, finished)


_SIGNATURES: dict[Any, inspect.Signature] = {}


MAX_DEPTH = 64


def _deeper_than(value: Any, limit: int) -> bool:
    """True when arrays and structs nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
    return False


def _signature(target: Callable[..., Any]) -> inspect.Signature:
    """A method's signature, computed once (it is checked on every call)."""
    key = getattr(target, "__func__", target)
    found = _SIGNATURES.get(key)
    if found is None:
        found = _SIGNATURES[key] = inspect.signature(target)
    return found


def _coerce(value: Any, kind: str) -> Any:
    if kind == "int":
        if isinstance(value, bool | int | float) or (isinstance(value, str) and value.strip()):
            return int(value)
        raise TypeError(kind)
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise TypeError(kind)
    allowed = PYTHON_TYPES.get(kind)
    if kind != "boolean" and allowed is not None and not isinstance(value, allowed):
        raise TypeError(kind)
    return value


def _translate(failure: Failure) -> Any:
    if isinstance(failure.value, SuperviseError):
        raise to_rpc_error(failure.value)
    return failure
