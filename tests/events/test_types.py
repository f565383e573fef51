"""Event types as plugins see them: each kind is its own frozen attrs type, whether it
adds fields or only names its kind."""

from __future__ import annotations

import pickle

import attrs
import pytest

from supervise.events.types import (
    ProcessStateRunning,
    ProcessStateStarting,
    SupervisorRunning,
    Tick5,
)
from supervise.states import ProcessState


def test_a_kind_without_fields_of_its_own_behaves_as_its_own_type() -> None:
    running = ProcessStateRunning(group="web", process="web", from_state=ProcessState.STARTING)
    starting = ProcessStateStarting(group="web", process="web", from_state=ProcessState.STARTING)
    assert running != starting and running == attrs.evolve(running)
    assert repr(running).startswith("ProcessStateRunning(serial=0, when=0.0, group='web'")
    assert type(attrs.evolve(running, pid=7)) is ProcessStateRunning
    assert [f.name for f in attrs.fields(ProcessStateRunning)][-3:] == ["pid", "tries", "expected"]
    assert pickle.loads(pickle.dumps(running)) == running
    assert attrs.has(Tick5) and Tick5(boundary=5, when=1.0).type_name == "TICK_5"
    assert not hasattr(SupervisorRunning(), "__dict__")  # slotted, as the rest
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        running.pid = 9  # type: ignore[misc]
