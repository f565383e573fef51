"""Layer 4: live scaling and enable/disable on the real daemon, across reload and re-exec."""

from __future__ import annotations

import json
import xmlrpc.client
from typing import Any

import pytest

from tests.e2e.conftest import Daemon
from tests.e2e.test_daemon import wait_until
from tests.e2e.test_handoff import answering
from tests.e2e.test_supervisectl import ctl

pytestmark = pytest.mark.e2e

PROGRAMS = """
[program:worker]
command = sleep 300
process_name = %(program_name)s_%(process_num)d
numprocs = 2
numprocs_start = 1
startsecs = 0

[program:other]
command = sleep 300
startsecs = 0
"""


def pids(rpc: Any) -> dict[str, int]:
    return {i["namespec"]: i["pid"] for i in rpc.supervise.getAllProcessInfo()}


def all_running(rpc: Any) -> bool:
    return all(i["statename"] == "RUNNING" for i in rpc.supervisor.getAllProcessInfo())


def reexec(daemon: Daemon) -> Any:
    """Re-execute the daemon; its proxy once it answers again."""
    rpc = daemon.rpc()
    assert rpc.supervise.reexec() is True
    wait_until(
        lambda: not answering(daemon) or "taking over" in (daemon.tmp / "main.log").read_text(), 30
    )
    wait_until(lambda: answering(daemon), 60)
    return daemon.rpc()


def test_scale_up_and_down_leaves_other_processes_and_survives_a_reexec(daemon: Daemon) -> None:
    """scale worker 4 adds worker_3/4; scale 1 removes 4, 3, 2; other pids never change;
    the count survives a re-exec; an edit of numprocs wins at the next update."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    wait_until(lambda: all_running(rpc), 30)
    before = pids(rpc)
    up = ctl(daemon, "scale", "worker", "4")
    assert (up.returncode, up.stdout) == (
        0,
        "worker: scaled from 2 to 4 processes (configured: 2)\n",
    )
    wait_until(lambda: all_running(rpc) and len(pids(rpc)) == 5, 30)
    grown = pids(rpc)
    assert sorted(grown) == ["other", *(f"worker:worker_{n}" for n in range(1, 5))]
    assert {n: grown[n] for n in before} == before
    status = ctl(daemon, "status", "worker:worker_4")
    assert "scaled to 4 from 2" in status.stdout

    assert rpc.supervise.scaleGroup("worker", 1) == {
        "group": "worker",
        "count": 1,
        "previous": 4,
        "declared": 2,
    }
    shrunk = pids(rpc)
    assert shrunk == {"other": before["other"], "worker:worker_1": before["worker:worker_1"]}
    assert "stopped: worker_4" in (daemon.tmp / "main.log").read_text()

    rpc.supervise.scaleGroup("worker", 3)
    wait_until(lambda: all_running(rpc) and len(pids(rpc)) == 4, 30)
    kept = pids(rpc)
    rpc = reexec(daemon)
    assert pids(rpc) == kept
    assert rpc.supervise.getProcessInfo("worker:worker_3")["numprocs"] == 3

    # The real supervisorctl still reads every process.
    listed = daemon.ctl("status")
    assert sorted(line.split()[0] for line in listed.stdout.splitlines()) == sorted(kept)

    daemon.write(PROGRAMS.replace("numprocs = 2", "numprocs = 5"))
    assert rpc.supervisor.reloadConfig() == [[[], ["worker"], []]]
    assert ctl(daemon, "update").returncode == 0
    wait_until(lambda: all_running(rpc) and len(pids(rpc)) == 6, 30)
    assert pids(rpc)["other"] == before["other"]


def test_scale_errors_are_clear_faults(daemon: Daemon) -> None:
    """An unknown name, a bad count and a program without %(process_num) are faults that
    say so; the daemon goes on."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    cases = [("nope", 2, 10, "BAD_NAME"), ("worker", -1, 3, "0 to 1000"), ("worker", 10**6, 3, "")]
    cases.append(("other", 2, 30, "%(process_num) must be present"))
    for name, count, code, words in cases:
        with pytest.raises(xmlrpc.client.Fault) as raised:
            rpc.supervise.scaleGroup(name, count)
        assert raised.value.faultCode == code and words in raised.value.faultString
    usage = ctl(daemon, "scale", "worker", "many")
    assert usage.returncode == 2
    assert rpc.supervisor.getState()["statename"] == "RUNNING"


def test_disable_survives_reload_and_reexec_until_enabled(daemon: Daemon) -> None:
    """disable stops other; start, start all and a reload do not start it, nor does a
    re-exec; supervisorctl shows it as STOPPED, "disabled"; enable lets it start."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    wait_until(lambda: all_running(rpc), 30)
    done = ctl(daemon, "disable", "other")
    assert (done.returncode, done.stdout) == (0, "other: disabled\n")
    info = rpc.supervise.getProcessInfo("other")
    assert (info["statename"], info["disabled"]) == ("STOPPED", True)
    refused = ctl(daemon, "start", "other")
    assert refused.returncode == 1 and "other is disabled" in refused.stdout
    with pytest.raises(xmlrpc.client.Fault) as raised:
        rpc.supervisor.startProcess("other")
    assert raised.value.faultCode == 30
    rpc.supervisor.startAllProcesses()
    plain = rpc.supervisor.getProcessInfo("other")
    assert (plain["statename"], plain["disabled"]) == ("STOPPED", True)
    assert len(rpc.supervisor.getProcessInfo("worker:worker_1")) == 14  # supervisord's keys

    rpc.supervisor.restart()
    wait_until(lambda: answering(daemon) and all_running_but(daemon.rpc(), "other"), 60)
    rpc = daemon.rpc()
    assert rpc.supervise.getProcessInfo("other")["disabled"] is True
    rpc = reexec(daemon)
    info = rpc.supervise.getProcessInfo("other")
    assert (info["statename"], info["disabled"]) == ("STOPPED", True)
    assert ctl(daemon, "status", "other").returncode == 0  # disabled: stopped as it should be
    line = next(x for x in daemon.ctl("status").stdout.splitlines() if x.startswith("other"))
    assert line.split()[1] == "STOPPED" and line.endswith("disabled")

    listed = json.loads(ctl(daemon, "--json", "enable", "other").stdout)
    assert listed == [{"name": "other", "ok": True, "error": None}]
    assert ctl(daemon, "start", "other").returncode == 0
    assert rpc.supervisor.getProcessInfo("other")["statename"] == "RUNNING"


def all_running_but(rpc: Any, name: str) -> bool:
    try:
        infos = rpc.supervisor.getAllProcessInfo()
    except (OSError, xmlrpc.client.Fault):
        return False
    return all((i["statename"] == "RUNNING") != (i["name"] == name) for i in infos)


def test_a_scheduled_program_shows_its_next_run_and_waits_for_it(daemon: Daemon) -> None:
    """A scheduled program is not autostarted; status and getProcessInfo say when it runs."""
    daemon.start(
        "[program:job]\ncommand = sleep 300\nschedule = 0 0 1 1 *\nschedule_timezone = UTC\n"
    )
    rpc = daemon.rpc()
    info = rpc.supervise.getProcessInfo("job")
    assert (info["statename"], info["schedule"], info["schedule_timezone"]) == (
        "STOPPED",
        "0 0 1 1 *",
        "UTC",
    )
    plain = rpc.supervisor.getProcessInfo("job")
    assert plain["next_run"] == info["next_run"]  # an extra key, only on a scheduled program
    now = plain["now"]
    assert now < info["next_run"] <= now + 366 * 86400
    shown = ctl(daemon, "status", "job")
    assert "next run " in shown.stdout
    assert shown.returncode == 0  # between runs, as it should be
    assert ctl(daemon, "start", "job").returncode == 0


def test_choices_survive_a_killed_daemon(daemon: Daemon) -> None:
    """After a SIGKILL the next daemon reads the state file: other stays disabled, worker
    keeps its three processes (adopted, same pids)."""
    daemon.start(PROGRAMS)
    rpc = daemon.rpc()
    wait_until(lambda: all_running(rpc), 30)
    rpc.supervise.disableProcess("other")
    rpc.supervise.scaleGroup("worker", 3)
    wait_until(lambda: all_running_but(rpc, "other") and len(pids(rpc)) == 4, 30)
    workers = {n: p for n, p in pids(rpc).items() if n.startswith("worker:")}
    state = daemon.tmp / "supervisord.pid.state"

    def saved() -> bool:
        try:
            extra = json.loads(state.read_text())["extra"]
        except (OSError, ValueError, KeyError):
            return False
        return extra.get("choices") == {"disabled": ["other"], "scaled": {"worker": [2, 3]}}

    wait_until(saved, 30)
    daemon.kill()
    daemon.start(None)
    rpc = daemon.rpc()
    assert {n: p for n, p in pids(rpc).items() if n.startswith("worker:")} == workers
    info = rpc.supervise.getProcessInfo("other")
    assert (info["statename"], info["disabled"]) == ("STOPPED", True)
