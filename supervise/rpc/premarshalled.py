"""Process-info structs whose XML is kept between calls: getAllProcessInfo re-marshals a
process only when its snapshot changed.

A struct's XML is cached in three parts around its two fields that change with the
clock (``now``, and the uptime in a RUNNING process's ``description``). The answer is
the same text ``xmlrpc.client.dumps`` writes for the same dicts.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Sequence
from typing import Any
from xmlrpc.client import escape

from attrs import frozen

from supervise.rpc.marshal import capped_int, process_info
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState

RESPONSE_HEAD = "<?xml version='1.0'?>\n<methodResponse>\n"
RESPONSE_TAIL = "</methodResponse>\n"
_NOW, _DESCRIPTION = "\x00now\x00", "\x00description\x00"


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


@frozen
class KeptStruct:
    """One process's struct as last marshalled: its XML around ``now`` and
    ``description`` (the description's own XML when the clock does not change it)."""

    snapshot: ProcessSnapshot
    head: str
    middle: str
    tail: str
    description_xml: str | None


class ProcessInfoCache:
    """getAllProcessInfo's structs, each marshalled again only when its snapshot changed."""

    def __init__(self) -> None:
        self.kept: dict[str, KeptStruct] = {}

    def structs(self, snapshots: Sequence[ProcessSnapshot], now: float) -> list[PreMarshalled]:
        """One struct per snapshot at ``now``; forgets processes no longer there."""
        now_int = capped_int(now)
        now_xml = f"<value><int>{now_int}</int></value>\n"
        kept: dict[str, KeptStruct] = {}
        structs = []
        for snapshot in snapshots:
            key = snapshot.namespec or f"{snapshot.group}:{snapshot.name}"
            found = self.kept.get(key)
            if found is None or found.snapshot != snapshot:
                found = keep(snapshot, now)
            kept[key] = found
            fields = process_info(snapshot, now)  # (rebuilt: a kept copy costs 0.5 KiB)
            description_xml = found.description_xml
            if description_xml is None:
                description_xml = (
                    f"<value><string>{escape(fields['description'])}</string></value>\n"
                )
            xml = found.head + now_xml + found.middle + description_xml + found.tail
            structs.append(PreMarshalled(fields, xml))
        self.kept = kept
        return structs


def keep(snapshot: ProcessSnapshot, now: float) -> KeptStruct:
    """Marshal ``snapshot``'s struct, cut around the fields that change with the clock."""
    fields = process_info(snapshot, now)
    xml = value_xml(dict(fields, now=_NOW, description=_DESCRIPTION))
    head, rest = xml.split(value_xml(_NOW))
    middle, tail = rest.split(value_xml(_DESCRIPTION))
    static = None
    if snapshot.state is not ProcessState.RUNNING:  # only an uptime changes with the clock
        static = value_xml(fields["description"])
    return KeptStruct(snapshot, head, middle, tail, static)
