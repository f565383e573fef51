"""Layer 2: listener pools speak supervisord's protocol, on fake children."""

from __future__ import annotations

import pytest

from supervise.config.model import GroupConfig, GroupKind
from supervise.events.types import EventBufferOverflow, ProcessGroupAdded, Tick5
from supervise.process.pool import ListenerPool, WireSerials
from supervise.states import ListenerState
from supervise.testing import Harness


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def make_pool(harness, events=("TICK_5",), numprocs=1, buffer_size=10):
    programs = [harness.add(f"l{i}", startsecs=0) for i in range(numprocs)]
    config = GroupConfig(
        "pool",
        -1,
        tuple(p.config for p in programs),
        GroupKind.EVENTLISTENER,
        events=events,
        buffer_size=buffer_size,
    )
    pool = ListenerPool(config, programs, harness.bus, "supx", WireSerials())
    pool.start()
    for program in programs:
        program.start()
    return pool, programs


def sent(child) -> bytes:
    data = bytes(child.stdin)
    child.stdin.clear()
    return data


def test_event_reaches_a_ready_listener_with_supervisord_envelope(harness):
    """A READY listener gets the header line and payload exactly as supervisord writes them."""
    pool, (_listener,) = make_pool(harness)
    child = harness.spawner.last
    harness.bus.publish(Tick5(1795464410))
    assert sent(child) == b""
    child.write("stdout", b"READY\n")
    assert sent(child) == (
        b"ver:3.0 server:supx serial:0 pool:pool poolserial:0 eventname:TICK_5 len:15\nwhen:1795464410"
    )
    assert pool.channels["l0"].state is ListenerState.BUSY


def test_ok_acknowledges_and_fail_requeues(harness):
    """RESULT 2 OK acknowledges; RESULT 4 FAIL sends the same event again after READY."""
    _pool, _ = make_pool(harness)
    child = harness.spawner.last
    child.write("stdout", b"READY\n")
    harness.bus.publish(Tick5(5))
    harness.bus.publish(Tick5(10))
    assert b"when:5" in sent(child)
    child.write("stdout", b"RESULT 4\nFAILREADY\n")
    assert b"serial:0 " in (again := sent(child)) and again.endswith(b"when:5")
    child.write("stdout", b"RESULT 2\nOKREADY\n")
    assert sent(child).endswith(b"when:10")


def test_garbage_makes_listener_unknown_and_death_requeues(harness):
    """A listener writing garbage gets no more events; its event waits for a restarted one."""
    pool, (_listener,) = make_pool(harness)
    child = harness.spawner.last
    child.write("stdout", b"READY\n")
    harness.bus.publish(Tick5(5))
    assert sent(child)
    child.write("stdout", b"what is this\n")
    assert pool.channels["l0"].state is ListenerState.UNKNOWN
    child.exit(1)
    new_child = harness.spawner.last
    assert new_child is not child
    new_child.write("stdout", b"READY\n")
    assert sent(new_child).endswith(b"when:5")


def test_overflow_drops_oldest_and_says_so(harness):
    """A full buffer drops its oldest event and publishes EVENT_BUFFER_OVERFLOW."""
    _pool, _ = make_pool(harness, buffer_size=2)
    for boundary in (5, 10, 15):
        harness.bus.publish(Tick5(boundary))
    overflows = [e for e in harness.events if isinstance(e, EventBufferOverflow)]
    assert [(o.pool, o.dropped_serial) for o in overflows] == [("pool", 0)]
    child = harness.spawner.last
    child.write("stdout", b"READY\n")
    assert sent(child).endswith(b"when:10")


def test_events_shared_between_listeners_and_supertype(harness):
    """With numprocs=2 each event goes to one listener; EVENT subscribes to every supervisord type."""
    _pool, _programs = make_pool(harness, events=("EVENT",), numprocs=2)
    first, second = harness.spawner.children
    first.write("stdout", b"READY\n")
    second.write("stdout", b"READY\n")
    got_first, got_second = sent(first), sent(second)
    assert b"PROCESS_STATE_STARTING" in got_first and b"PROCESS_STATE_RUNNING" in got_second
    harness.bus.publish(ProcessGroupAdded("web"))
    first.write("stdout", b"RESULT 2\nOKREADY\n")
    assert sent(first).endswith(b"processname:l1 groupname:l1 from_state:STOPPED tries:0")
    second.write("stdout", b"RESULT 2\nOKREADY\n")
    assert b"eventname:PROCESS_STATE_RUNNING" in sent(second)
    first.write("stdout", b"RESULT 2\nOKREADY\n")
    assert sent(first).endswith(b"eventname:PROCESS_GROUP_ADDED len:14\ngroupname:web\n")
