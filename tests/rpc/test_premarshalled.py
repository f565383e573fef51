"""getAllProcessInfo's XML, written without xmlrpc.client's marshaller: the same answer
xmlrpc.client writes, for every state, name, time and supervise key."""

from __future__ import annotations

import xmlrpc.client

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervise.rpc.marshal import process_info
from supervise.rpc.premarshalled import dumps_response, process_structs, struct_xml
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState

NOW = 1_790_000_000.5


def snapshot(name: str = "web", **changes: object) -> ProcessSnapshot:
    fields: dict[str, object] = {
        "name": name, "group": name, "state": ProcessState.RUNNING, "pid": 42,
        "start": NOW - 3725, "stop": 0.0, "spawnerr": "", "exitstatus": 0,
        "stdout_logfile": f"/var/log/{name}.log", "stderr_logfile": "", "namespec": name,
    }  # fmt: skip
    fields.update(changes)
    return ProcessSnapshot(**fields)  # type: ignore[arg-type]


def expected(snapshots: list[ProcessSnapshot], now: float) -> str:
    structs = [process_info(s, now) for s in snapshots]
    return xmlrpc.client.dumps((structs,), methodresponse=True, allow_none=True)


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@given(
    names=st.lists(text, min_size=0, max_size=4, unique=True),
    state=st.sampled_from(list(ProcessState)),
    spawnerr=text,
    times=st.tuples(st.floats(0, 2**32), st.floats(0, 2**32)),
    now=st.floats(0, 2**33),
    pid=st.integers(0, 2**31 - 1),
    exitstatus=st.integers(-255, 255),
    disabled=st.booleans(),
    next_run=st.floats(0, 2**32),
)
def test_the_answer_is_what_xmlrpc_client_writes(
    names: list[str],
    state: ProcessState,
    spawnerr: str,
    times: tuple[float, float],
    now: float,
    pid: int,
    exitstatus: int,
    disabled: bool,
    next_run: float,
) -> None:
    snapshots = [
        snapshot(
            n or "x", state=state, spawnerr=spawnerr, start=times[0], stop=times[1], pid=pid,
            exitstatus=exitstatus, disabled=disabled, next_run=next_run,
        )
        for n in names
    ]  # fmt: skip
    structs = process_structs(snapshots, now)
    assert dumps_response(structs) == expected(snapshots, now)
    assert structs == [process_info(s, now) for s in snapshots]  # plain dicts to Python


def test_values_outside_strings_ints_and_booleans_go_through_the_marshaller() -> None:
    fields = {"none": None, "list": [1, "a<b"], "float": 2.5, "text": "x&y"}
    assert (
        struct_xml(fields)
        == xmlrpc.client.dumps(({**fields},), allow_none=True)[
            len("<params>\n<param>\n") : -len("</param>\n</params>\n")
        ]
    )
    with pytest.raises(OverflowError):  # as xmlrpc.client refuses it
        struct_xml({"big": 2**40})


def test_other_answers_are_unchanged() -> None:
    for value in (None, True, 3, "a&b", [1, "x"], {"k": [None, 2.5]}):
        assert dumps_response(value) == xmlrpc.client.dumps(
            (value,), methodresponse=True, allow_none=True
        )
