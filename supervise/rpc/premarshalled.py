"""getAllProcessInfo's structs written straight to XML, without xmlrpc.client's
marshaller and its per-value dispatch: a struct of strings, ints and booleans is one
string join. The answer is the same text ``xmlrpc.client.dumps`` writes for the same
dicts (tested). Nothing is kept between calls: a kept copy of each process's XML made
calls a little faster but cost 1.25 KiB a program for as long as it ran.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Sequence
from typing import Any
from xmlrpc.client import MAXINT, MININT, escape

from supervise.rpc.marshal import process_info
from supervise.snapshot import ProcessSnapshot

RESPONSE_HEAD = "<?xml version='1.0'?>\n<methodResponse>\n"
RESPONSE_TAIL = "</methodResponse>\n"


class PreMarshalled(dict[str, Any]):
    """A struct (a plain dict to Python callers) with its XML-RPC ``<value>`` written."""

    __slots__ = ("xml",)

    def __init__(self, fields: dict[str, Any], xml: str) -> None:
        super().__init__(fields)
        self.xml = xml


def _dump_premarshalled(
    marshaller: xmlrpc.client.Marshaller, value: Any, write: Callable[[str], object]
) -> None:
    write(value.xml)


class Marshaller(xmlrpc.client.Marshaller):
    """xmlrpc.client's marshaller, writing a PreMarshalled struct's XML as it is."""

    dispatch = {**xmlrpc.client.Marshaller.dispatch, PreMarshalled: _dump_premarshalled}


def dumps_response(value: Any) -> str:
    """A methodResponse for ``value`` (None allowed), as ``xmlrpc.client.dumps`` writes it."""
    return RESPONSE_HEAD + Marshaller("utf-8", allow_none=True).dumps((value,)) + RESPONSE_TAIL


def value_xml(value: Any) -> str:
    """``value`` as one XML-RPC ``<value>`` element."""
    params = Marshaller("utf-8", allow_none=True).dumps((value,))
    return params[len("<params>\n<param>\n") : -len("</param>\n</params>\n")]


def struct_xml(fields: dict[str, Any]) -> str:
    """``fields`` as one ``<value><struct>``, as xmlrpc.client writes it (strings,
    booleans and 32-bit ints here; any other value through its marshaller)."""
    parts = ["<value><struct>\n"]
    for name, value in fields.items():
        kind = type(value)
        if kind is str:
            xml = f"<value><string>{escape(value)}</string></value>\n"
        elif kind is int and MININT <= value <= MAXINT:
            xml = f"<value><int>{value}</int></value>\n"
        elif kind is bool:
            xml = f"<value><boolean>{int(value)}</boolean></value>\n"
        else:
            xml = value_xml(value)
        parts.append(f"<member>\n<name>{escape(name)}</name>\n{xml}</member>\n")
    parts.append("</struct></value>\n")
    return "".join(parts)


#: supervisord's process-info struct: its keys in order, each a string (True) or an int.
STANDARD = (
    ("name", True), ("group", True), ("start", False), ("stop", False), ("now", False),
    ("state", False), ("statename", True), ("spawnerr", True), ("exitstatus", False),
    ("logfile", True), ("stdout_logfile", True), ("stderr_logfile", True), ("pid", False),
    ("description", True),
)  # fmt: skip
_STANDARD_KEYS = tuple(key for key, _ in STANDARD)
_TEMPLATE = (
    "<value><struct>\n"
    + "".join(
        f"<member>\n<name>{key}</name>\n<value><{'string' if text else 'int'}>%s"
        f"</{'string' if text else 'int'}></value>\n</member>\n"
        for key, text in STANDARD
    )
    + "</struct></value>\n"
)


def standard_struct_xml(fields: dict[str, Any]) -> str | None:
    """``struct_xml`` of a plain process-info struct by one template (None if ``fields``
    is not one: other keys, or a value of another type)."""
    if tuple(fields) != _STANDARD_KEYS:
        return None
    values = []
    for (_, text), value in zip(STANDARD, fields.values(), strict=True):
        if text and type(value) is str:
            values.append(escape(value))
        elif not text and type(value) is int and MININT <= value <= MAXINT:
            values.append(str(value))
        else:
            return None
    return _TEMPLATE % tuple(values)


def process_structs(snapshots: Sequence[ProcessSnapshot], now: float) -> list[PreMarshalled]:
    """getAllProcessInfo's structs at ``now``, each with its XML written."""
    structs = []
    for snapshot in snapshots:
        fields = process_info(snapshot, now)
        xml = standard_struct_xml(fields) or struct_xml(fields)
        structs.append(PreMarshalled(fields, xml))
    return structs
