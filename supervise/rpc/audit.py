"""Which XML-RPC calls are actions (and so audited), who may make them, and how each
one ended.

Reads (``get…``, ``read…``, ``tail…``, ``list…``, ``method…``, ``wait…``) are not
recorded; every other call is, ``system.multicall`` call by call. Roles: a viewer only
reads; an operator also acts on processes (start, stop, signal, clear logs, send to
stdin); an admin (the server's own user) may call everything.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

READS = ("get", "read", "tail", "list", "method", "wait")
OPERATOR_ACTIONS = ("start", "stop", "signal", "clear", "sendProcessStdin")


def permitted(role: str, method: str) -> bool:
    """May ``role`` call ``method`` (an action: reads are for everyone)?"""
    if role == "admin":
        return True
    _namespace, _, name = method.partition(".")
    return role == "operator" and name.startswith(OPERATOR_ACTIONS)


def is_action(method: str) -> bool:
    """True for a call that changes something."""
    _namespace, _, name = method.partition(".")
    return method != "system.multicall" and not name.startswith(READS)


def audited_calls(method: object, params: list[Any]) -> list[tuple[int, str, list[Any]]]:
    """The actions in one request: (index in a multicall, or -1; method; params)."""
    if method == "system.multicall" and params and isinstance(params[0], list):
        found = []
        for index, call in enumerate(params[0]):
            if isinstance(call, dict) and isinstance(call.get("methodName"), str):
                name = call["methodName"]
                if is_action(name):
                    found.append((index, name, list(call.get("params") or [])))
        return found
    if isinstance(method, str) and is_action(method):
        return [(-1, method, params)]
    return []


def targets(params: list[Any]) -> list[str]:
    """The names a call acts on: its leading string arguments (a namespec, a group)."""
    return [p for p in params[:1] if isinstance(p, str)] or ["*"]


def outcome(value: Any) -> str:
    """``ok``, or ``failed: fault N TEXT``, for one call's answer."""
    if isinstance(value, xmlrpc.client.Fault):
        if value.faultString.startswith("refused: "):
            return str(value.faultString)
        return f"failed: fault {value.faultCode} {value.faultString}"
    if isinstance(value, dict) and "faultCode" in value:
        return f"failed: fault {value['faultCode']} {value.get('faultString', '')}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        bad = [v for v in value if v.get("status", 80) != 80 and "status" in v]
        if bad:  # a group call's per-process results (80 is SUCCESS)
            return "failed: " + "; ".join(f"{v.get('name')}: {v.get('description')}" for v in bad)
    return "ok"


def outcome_of(value: Any, index: int) -> str:
    """How the call at ``index`` of a multicall (-1: the only call) ended."""
    if index < 0:
        return outcome(value)
    if isinstance(value, list) and index < len(value):
        answer = value[index]
        return outcome(answer[0] if isinstance(answer, list) and answer else answer)
    return outcome(value)
