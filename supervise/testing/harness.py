"""Harness: programs on a fake clock and fake collaborators, every event recorded."""

from __future__ import annotations

import os
from collections.abc import Iterable

from attrs import define, field
from twisted.internet.task import Clock

from supervise.config.model import ProcessConfig
from supervise.events.bus import CallbackListener, EventBus
from supervise.events.types import Event, ProcessStateEvent
from supervise.process.host import ProcessHost
from supervise.process.program import Program
from supervise.process.spec import SpawnContext
from supervise.states import ProcessState
from supervise.testing.children import FakeSpawner
from supervise.testing.host import (
    FakeCheck,
    FakeFiles,
    FakeNotifySockets,
    FakeProcessTable,
    FakeTree,
)


@define(eq=False)
class Harness:
    """Programs on a fake clock and fake spawner, with every event recorded."""

    tmpdir: str
    clock: Clock = field(factory=Clock)
    spawner: FakeSpawner = field(factory=FakeSpawner)
    bus: EventBus = field(init=False)
    events: list[Event] = field(factory=list)
    programs: dict[str, Program] = field(factory=dict)
    restarts_allowed: bool = True
    table: FakeProcessTable = field(factory=FakeProcessTable)
    files: FakeFiles = field(factory=FakeFiles)
    notify: FakeNotifySockets = field(factory=FakeNotifySockets)
    trees: dict[str, FakeTree] = field(factory=dict)
    checks: dict[str, FakeCheck] = field(factory=dict)
    host: ProcessHost = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.bus = EventBus(self.clock.seconds)
        self.bus.subscribe(CallbackListener("recorder", (Event,), self.events.append))
        context = SpawnContext(
            environ=dict(os.environ), server_url=None, childlogdir=self.tmpdir, identifier="test"
        )
        self.host = ProcessHost(
            clock=self.clock,
            wall_clock=self.clock.seconds,
            spawner=self.spawner,
            bus=self.bus,
            context=context,
            table=self.table,
            files=self.files,
            notify=self.notify,
            trees=lambda config: self.trees.setdefault(config.name, FakeTree()),
            checks=lambda spec: self.checks.setdefault(spec, FakeCheck(spec)),
            may_restart=lambda: self.restarts_allowed,
        )

    def add(self, name: str, command: str = "/bin/true", **options: object) -> Program:
        """Add a program (its options are ProcessConfig fields)."""
        config = ProcessConfig(name=name, group=name, program=name, command=command, **options)  # type: ignore[arg-type]
        program = Program(config, self.host)
        self.programs[name] = program
        return program

    def states(self, name: str) -> list[ProcessState]:
        """The states ``name`` entered, in order."""
        return [
            e.state for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name
        ]

    def state_events(self, name: str) -> Iterable[ProcessStateEvent]:
        """The state events of ``name``."""
        return [e for e in self.events if isinstance(e, ProcessStateEvent) and e.process == name]
