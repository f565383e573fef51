"""A core on a fake clock and fake spawner, driven through SupervisorControl (layer 2)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from attrs import define, evolve, field

from supervise import config
from supervise.config.model import ConfigModel
from supervise.control import SupervisorControl
from supervise.process.spec import SpawnContext
from supervise.snapshot import ProcessSnapshot
from supervise.states import ProcessState
from supervise.supervisor import Supervisor
from supervise.testing import FakeChild, Harness


@define(eq=False)
class Core:
    """A Supervisor and its control on a Harness; ``write`` is the config file's body."""

    folder: Path
    harness: Harness
    supervisor: Supervisor = field(init=False)
    control: SupervisorControl = field(init=False)

    @property
    def conf(self) -> Path:
        return self.folder / "supervisord.conf"

    def write(self, body: str, supervisord: str = "") -> ConfigModel:
        """Write the config (``supervisord``: more lines for its section) and load it."""
        head = f"""
        [supervisord]
        logfile = {self.folder}/main.log
        childlogdir = {self.folder}
        identifier = test
        """
        self.conf.write_text(
            textwrap.dedent(head) + textwrap.dedent(supervisord) + textwrap.dedent(body)
        )
        return config.load(str(self.conf))

    def start(self, body: str, supervisord: str = "") -> SupervisorControl:
        model = self.write(body, supervisord)
        context = SpawnContext(
            environ=dict(os.environ),
            server_url=None,
            childlogdir=str(self.folder),
            identifier="test",
        )
        h = self.harness
        self.supervisor = Supervisor(
            model, h.clock, h.clock.seconds, h.spawner, h.bus, context,
            make_host=lambda context, may_restart: evolve(
                h.host, context=context, may_restart=may_restart
            ),
        )  # fmt: skip
        self.control = SupervisorControl(self.supervisor, lambda: config.load(str(self.conf)))
        self.supervisor.start()
        return self.control

    def child(self, namespec: str) -> FakeChild:
        """The live fake child of a process."""
        pid = self.control.snapshot(namespec).pid
        return next(c for c in self.harness.spawner.children if c.pid == pid and c.alive)

    def state(self, namespec: str) -> ProcessState:
        return self.control.snapshot(namespec).state


@pytest.fixture
def core(tmp_path: Path) -> Core:
    return Core(tmp_path, Harness(str(tmp_path)))


def running(snapshot: ProcessSnapshot) -> bool:
    return snapshot.state is ProcessState.RUNNING
