"""Layer 2: a stop takes the program's whole tree (ITreeKiller), on a fake clock."""

from __future__ import annotations

import signal

import pytest

from supervise.config.model import ProcessConfig, ProcessExtras
from supervise.process.linux.trees import MainProcessOnly, SubreaperTree
from supervise.states import ProcessState
from supervise.testing import Harness

S = ProcessState


@pytest.fixture
def harness(tmp_path):
    return Harness(str(tmp_path))


def test_stop_waits_for_the_rest_of_the_tree(harness):
    """After the main process exits, what is left gets the stop signal; STOPPED only once
    the whole tree is gone."""
    job = harness.add("job", startsecs=0, stopwaitsecs=10)
    job.start()
    tree = harness.trees["job"]
    tree.members = [5001, 5002]
    tree.stubborn = {5002}
    job.stop()
    assert tree.remembered == [5001, 5002]
    assert tree.signals == [(5001, signal.SIGTERM), (5002, signal.SIGTERM)]
    assert harness.states("job")[-1] is S.STOPPING
    harness.clock.advance(10)
    assert tree.signals[-1] == (5002, signal.SIGKILL)
    assert harness.states("job") == [S.STARTING, S.RUNNING, S.STOPPING, S.STOPPED]
    assert tree.released == 1


def test_a_tree_that_goes_with_its_main_process_stops_at_once(harness):
    """Descendants that exit on the stop signal need no deadline: STOPPED at once."""
    job = harness.add("job", startsecs=0)
    job.start()
    harness.trees["job"].members = [6001]
    job.stop()
    assert harness.states("job")[-1] is S.STOPPED
    assert harness.clock.getDelayedCalls() == []


def test_leftovers_of_a_crash_are_killed_before_the_restart(harness):
    """A main process dying on its own: what is left of its tree is killed before the
    exit counts (no duplicate beside the restarted program)."""
    job = harness.add("job", startsecs=0)
    job.start()
    tree = harness.trees["job"]
    tree.members = [7001]
    harness.spawner.last.exit(1)
    assert tree.signals == [(7001, signal.SIGKILL)]
    assert harness.states("job")[-3:] == [S.EXITED, S.STARTING, S.RUNNING]


def test_killmode_selects_the_tree_killer(tmp_path):
    """killmode = process keeps supervisord's behaviour; the default is the whole tree."""
    from supervise.events.bus import EventBus
    from supervise.process.linux.host import real_host
    from supervise.process.spec import SpawnContext
    from supervise.testing import FakeSpawner

    context = SpawnContext({}, None, str(tmp_path), "test")
    host = real_host(None, lambda: 0.0, FakeSpawner(), EventBus(lambda: 0.0), context)
    plain = ProcessConfig(name="a", group="a", program="a", command="true")
    old = ProcessConfig(
        name="b", group="b", program="b", command="true", extras=ProcessExtras(killmode="process")
    )
    assert isinstance(host.trees(plain), SubreaperTree)
    assert isinstance(host.trees(old), MainProcessOnly)
