"""The ``system.*`` namespace: introspection and multicall."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define, field

from supervise.rpc import faults
from supervise.rpc.faults import RPCError
from supervise.rpc.registry import help_of, rpc_method, signature_of


@define(eq=False)
class SystemNamespace:
    """supervisord's ``system`` namespace.

    :ivar dispatch: runs one call and returns its value or a Deferred.
    """

    methods: dict[str, Callable[..., Any]] = field(factory=dict)
    dispatch: Callable[[str, list[Any]], Any] | None = None

    @rpc_method("listMethods", signature=("array",))
    def list_methods(self) -> list[str]:
        """Return an array listing the available method names

        @return array result  An array of method names available (strings).
        """
        return sorted(self.methods)

    @rpc_method("methodHelp", signature=("string", "string"), unchecked=("name",))
    def method_help(self, name: object) -> str:
        """Return a string showing the method's documentation

        @param string name   The name of the method.
        @return string result The documentation for the method name.
        """
        method = self.methods.get(name) if isinstance(name, str) else None
        if method is None:  # any other value names no method, as in supervisord
            raise RPCError(faults.SIGNATURE_UNSUPPORTED)
        return help_of(method)

    @rpc_method("methodSignature", signature=("array", "string"), unchecked=("name",))
    def method_signature(self, name: object) -> list[str]:
        """Return an array describing the method signature in the
        form [rtype, ptype, ptype...] where rtype is the return data type
        of the method, and ptypes are the parameter data types that the
        method accepts in method argument order.

        @param string name  The name of the method.
        @return array result  The result.
        """
        method = self.methods.get(name) if isinstance(name, str) else None
        signature = signature_of(method) if method is not None else None
        if signature is None:
            raise RPCError(faults.SIGNATURE_UNSUPPORTED)
        return list(signature)

    @rpc_method("multicall", signature=("array", "array"))
    async def multicall(self, calls: list[Any]) -> list[Any]:
        """Process an array of calls, and return an array of
        results. Calls should be structs of the form {'methodName':
        string, 'params': array}. Each result will either be a
        single-item array containing the result value, or a struct of
        the form {'faultCode': int, 'faultString': string}. This is
        useful when you need to make lots of small calls without lots
        of round trips.

        @param array calls  An array of call requests
        @return array result  An array of results
        """
        from twisted.internet.defer import Deferred

        assert self.dispatch is not None
        results: list[Any] = []
        for call in calls:
            try:
                if not isinstance(call, dict) or "methodName" not in call:
                    raise RPCError(faults.INCORRECT_PARAMETERS, "No methodName")
                name = call["methodName"]
                if name == "system.multicall":
                    raise RPCError(
                        faults.INCORRECT_PARAMETERS, "Recursive system.multicall forbidden"
                    )
                params = call.get("params", [])
                if not isinstance(params, list):
                    raise RPCError(faults.INCORRECT_PARAMETERS)
                value = self.dispatch(name, params)
                if isinstance(value, Deferred):
                    value = await value
                results.append(value)
            except RPCError as error:
                results.append({"faultCode": error.code, "faultString": error.text})
        return results
