"""``@rpc_method``: the explicit table of XML-RPC methods and their signatures."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
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


def rpc_method(
    *names: str, signature: tuple[str, ...], unchecked: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Register a method under its wire ``names`` (aliases too).

    :param signature: ``(return_type, param_type, ...)`` as methodSignature reports it.
    :param unchecked: parameters passed as sent, whatever their XML-RPC type (base64
        included): the method checks them itself, with supervisord's fault (its
        ``sendProcessStdin`` answers ``INCORRECT_PARAMETERS: 5`` for chars=5). Every other
        parameter is checked against the signature before the call.
    """

    def mark(function: F) -> F:
        function.__rpc_names__ = names  # type: ignore[attr-defined]
        function.__rpc_signature__ = signature  # type: ignore[attr-defined]
        function.__rpc_unchecked__ = unchecked  # type: ignore[attr-defined]
        return function

    return mark


def methods_of(namespace: str, obj: object) -> dict[str, Callable[..., Any]]:
    """Every registered method of ``obj`` as ``{"ns.name": bound method}``."""
    found: dict[str, Callable[..., Any]] = {}
    for _, member in inspect.getmembers(obj, callable):
        for name in getattr(member, "__rpc_names__", ()):
            found[f"{namespace}.{name}"] = member
    return found


def methods_of_all(namespace: str, objects: Iterable[object]) -> dict[str, Callable[..., Any]]:
    """Every registered method of several objects sharing one namespace (a namespace
    served by one object per family of methods), as ``methods_of`` answers for each.

    :raises ValueError: when two objects register the same wire name.
    """
    found: dict[str, Callable[..., Any]] = {}
    for obj in objects:
        for name, method in methods_of(namespace, obj).items():
            if name in found:
                raise ValueError(f"{name} is registered by two objects")
            found[name] = method
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


def unchecked_params(method: Callable[..., Any]) -> tuple[str, ...]:
    """The parameters the method checks itself (see ``rpc_method``)."""
    return tuple(getattr(method, "__rpc_unchecked__", ()))


def help_of(method: Callable[..., Any]) -> str:
    """The method's docstring as written, as supervisord serves it (methodHelp)."""
    return method.__doc__ or ""
