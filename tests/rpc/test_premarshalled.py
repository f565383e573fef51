"""getAllProcessInfo's kept XML: the same answer xmlrpc.client writes, and a process's
struct follows its every change."""

from __future__ import annotations

import xmlrpc.client

import attrs
from hypothesis import given
from hypothesis import strategies as st

from supervise.rpc.marshal import process_info
from supervise.rpc.premarshalled import ProcessInfoCache, dumps_response
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
)
def test_the_answer_is_what_xmlrpc_client_writes(
    names: list[str], state: ProcessState, spawnerr: str, times: tuple[float, float], now: float
) -> None:
    snapshots = [
        snapshot(n or "x", state=state, spawnerr=spawnerr, start=times[0], stop=times[1])
        for n in names
    ]
    cache = ProcessInfoCache()
    for at in (now, now + 61):  # again from the kept parts, a minute later
        structs = cache.structs(snapshots, at)
        assert dumps_response(structs) == expected(snapshots, at)
        assert structs == [process_info(s, at) for s in snapshots]  # plain dicts to Python


def test_a_changed_process_is_written_anew_and_a_removed_one_forgotten() -> None:
    cache = ProcessInfoCache()
    web, db = snapshot("web"), snapshot("db")
    cache.structs([web, db], NOW)
    stopped = attrs.evolve(web, state=ProcessState.STOPPED, pid=0, stop=NOW + 1)
    answer = dumps_response(cache.structs([stopped], NOW + 2))
    assert answer == expected([stopped], NOW + 2)
    assert "<string>STOPPED</string>" in answer and "uptime" not in answer
    assert list(cache.kept) == ["web"]


def test_other_answers_are_unchanged() -> None:
    for value in (None, True, 3, "a&b", [1, "x"], {"k": [None, 2.5]}):
        assert dumps_response(value) == xmlrpc.client.dumps(
            (value,), methodresponse=True, allow_none=True
        )
