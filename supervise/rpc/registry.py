"""``@rpc_method``: the explicit table of XML-RPC methods and their signatures."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: XML-RPC type names a parameter may have, and the Python types they accept.
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "boolean": (bool, int),
    "array": (list, tuple),
    "struct": (dict,),
    "base64": (bytes,),
    "double": (float, int),
}


def rpc_method(*names: str, signature: tuple[str, ...], binary: bool = False) -> Callable[[F], F]:
    """Register a method under its wire ``names`` (aliases too).

    :param signature: ``(return_type, param_type, ...)`` as methodSignature reports it.
    :param binary: its string parameters may also come as base64 (raw bytes); any other
        method refuses a base64 value where it expects a string.
    """

    def mark(function: F) -> F:
        function.__rpc_names__ = names  # type: ignore[attr-defined]
        function.__rpc_signature__ = signature  # type: ignore[attr-defined]
        function.__rpc_binary__ = binary  # type: ignore[attr-defined]
        return function

    return mark


def methods_of(namespace: str, obj: object) -> dict[str, Callable[..., Any]]:
    """Every registered method of ``obj`` as ``{"ns.name": bound method}``."""
    found: dict[str, Callable[..., Any]] = {}
    for _, member in inspect.getmembers(obj, callable):
        for name in getattr(member, "__rpc_names__", ()):
            found[f"{namespace}.{name}"] = member
    return found


def public_methods(namespace: str, obj: object) -> dict[str, Callable[..., Any]]:
    """Every public method of ``obj`` as ``{"ns.name": bound method}`` (for namespaces
    made by ``[rpcinterface:x]`` factories and plugins, which do not use ``@rpc_method``)."""
    return {
        f"{namespace}.{name}": member
        for name, member in inspect.getmembers(obj, callable)
        if not name.startswith("_")
    }


def signature_of(method: Callable[..., Any]) -> tuple[str, ...] | None:
    """The declared signature, or None for a method without one."""
    return getattr(method, "__rpc_signature__", None)


def takes_binary(method: Callable[..., Any]) -> bool:
    """True if the method takes base64 values for its string parameters."""
    return bool(getattr(method, "__rpc_binary__", False))


def help_of(method: Callable[..., Any]) -> str:
    """The method's docstring as written, as supervisord serves it (methodHelp)."""
    return method.__doc__ or ""
