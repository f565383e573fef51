"""The explicit method table: several objects sharing one namespace."""

from __future__ import annotations

import pytest

from supervise.rpc.registry import methods_of_all, rpc_method


class Reading:
    @rpc_method("getThing", signature=("string",))
    def get_thing(self) -> str:
        """Return the thing."""
        return "thing"


class Writing:
    @rpc_method("setThing", signature=("boolean", "string"))
    def set_thing(self, value: str) -> bool:
        """Set the thing."""
        return True


class AlsoReading:
    @rpc_method("getThing", signature=("string",))
    def get_thing(self) -> str:
        """Return another thing."""
        return "other"


def test_families_share_one_namespace() -> None:
    """Each object's methods are served under the one prefix, bound to their object."""
    methods = methods_of_all("ns", [Reading(), Writing()])
    assert sorted(methods) == ["ns.getThing", "ns.setThing"]
    assert methods["ns.getThing"]() == "thing"
    assert methods["ns.setThing"]("x") is True


def test_a_wire_name_served_twice_is_refused() -> None:
    """Two objects registering one wire name is an error, never a silent replacement."""
    with pytest.raises(ValueError, match=r"ns\.getThing"):
        methods_of_all("ns", [Reading(), AlsoReading()])
