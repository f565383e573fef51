"""supervisord's XML-RPC namespace in memory: structs and fault codes per method family."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from supervise.events.bus import CallbackListener
from supervise.events.types import RemoteCommunicationEvent
from supervise.states import ProcessState, SupervisorState
from tests.rpc.conftest import NOW, answer_of

PROGRAMS = """
[program:web]
command = /bin/sleep 100
autostart = false
startsecs = 1

[program:worker]
command = /bin/sleep 100
process_name = %(program_name)s_%(process_num)d
numprocs = 2
autostart = false
startsecs = 0
"""


def fault(value: Any) -> tuple[int, str]:
    """``(code, text)`` of a Fault; AssertionError for a value."""
    assert isinstance(value, xmlrpc.client.Fault), f"expected a fault, got {value!r}"
    return value.faultCode, value.faultString


def test_daemon_family(serve: Any) -> None:
    """getAPIVersion, getSupervisorVersion, getIdentification, getState and getPID answer
    supervisord's values and struct."""
    server = serve(PROGRAMS)
    assert server.call("supervisor.getAPIVersion") == "3.0"
    assert server.call("supervisor.getVersion") == "3.0"
    assert server.call("supervisor.getSupervisorVersion") == "4.3.0"
    assert server.call("supervisor.getIdentification") == "test"
    assert server.call("supervisor.getState") == {"statecode": 1, "statename": "RUNNING"}
    assert server.call("supervisor.getPID") == 4242


def test_shutdown_state_refuses_all_but_remote_comm_events(serve: Any) -> None:
    """While shutting down every supervisor.* call is SHUTDOWN_STATE except sendRemoteCommEvent."""
    server = serve(PROGRAMS)
    server.core.supervisor.state = SupervisorState.SHUTDOWN
    assert fault(server.call("supervisor.getState")) == (6, "SHUTDOWN_STATE")
    assert server.call("supervisor.sendRemoteCommEvent", "type", "data") is True


def test_main_log_family(serve: Any) -> None:
    """readLog slices the main log; bad offsets are BAD_ARGUMENTS, a missing file NO_FILE."""
    server = serve(PROGRAMS)
    log = server.daemon.main_log
    open(log, "w").write("0123456789")
    assert server.call("supervisor.readLog", 2, 3) == "234"
    assert server.call("supervisor.readLog", -4, 0) == "6789"
    assert fault(server.call("supervisor.readLog", -1, 5)) == (3, "BAD_ARGUMENTS")
    assert server.call("supervisor.clearLog") is True
    assert server.call("supervisor.readLog", 0, 0) == ""
    server.daemon.main_log = log + ".gone"
    assert fault(server.call("supervisor.readLog", 0, 0)) == (20, f"NO_FILE: {log}.gone")
    assert fault(server.call("supervisor.clearLog")) == (20, "NO_FILE")


def test_process_info_structs(serve: Any) -> None:
    """getProcessInfo answers supervisord's struct; getAllProcessInfo every process by
    group then name; a group form is BAD_NAME with the name as given."""
    server = serve(PROGRAMS)
    info = server.call("supervisor.getProcessInfo", "worker:worker_1")
    assert set(info) == {
        "name", "group", "description", "start", "stop", "now", "state", "statename",
        "spawnerr", "exitstatus", "logfile", "stdout_logfile", "stderr_logfile", "pid",
    }  # fmt: skip
    assert (info["name"], info["group"], info["statename"], info["state"]) == (
        "worker_1", "worker", "STOPPED", 0,
    )  # fmt: skip
    assert (info["description"], info["now"], info["pid"]) == ("Not started", int(NOW), 0)
    assert info["logfile"] == info["stdout_logfile"] != ""
    names = [(i["group"], i["name"]) for i in server.call("supervisor.getAllProcessInfo")]
    assert names == [("web", "web"), ("worker", "worker_0"), ("worker", "worker_1")]
    assert fault(server.call("supervisor.getProcessInfo", "worker:*")) == (10, "BAD_NAME: worker:*")
    assert fault(server.call("supervisor.getProcessInfo", "nosuch")) == (10, "BAD_NAME: nosuch")


def test_start_and_stop_family(serve: Any) -> None:
    """startProcess waits for RUNNING; a second start is ALREADY_STARTED; stopProcess of a
    stopped process is NOT_RUNNING; unknown names are BAD_NAME as given."""
    server = serve(PROGRAMS)
    pending = server.start_call("supervisor.startProcess", "web")
    server.core.harness.clock.advance(0.5)
    assert not pending.finished
    server.core.harness.clock.advance(0.5)
    assert answer_of(pending) is True
    assert fault(server.call("supervisor.startProcess", "web")) == (60, "ALREADY_STARTED: web")
    assert server.call("supervisor.stopProcess", "web") is True
    assert fault(server.call("supervisor.stopProcess", "web")) == (70, "NOT_RUNNING: web")
    assert fault(server.call("supervisor.startProcess", "nosuch:*")) == (10, "BAD_NAME: nosuch:*")
    assert fault(server.call("supervisor.startProcessGroup", "nosuch")) == (10, "BAD_NAME: nosuch")


def test_group_calls_answer_result_structs(serve: Any) -> None:
    """startProcess with group:* and the group calls answer one result struct per process."""
    server = serve(PROGRAMS)
    results = server.call("supervisor.startProcess", "worker:*")
    assert sorted(results, key=lambda r: r["name"]) == [
        {"name": "worker_0", "group": "worker", "status": 80, "description": "OK"},
        {"name": "worker_1", "group": "worker", "status": 80, "description": "OK"},
    ]
    stopped = server.call("supervisor.stopAllProcesses")
    assert {(r["name"], r["status"]) for r in stopped} == {("worker_0", 80), ("worker_1", 80)}


def test_spawn_error_fault(serve: Any) -> None:
    """A spawn that fails is SPAWN_ERROR with the name; a missing command NO_FILE."""
    server = serve(PROGRAMS + "\n[program:ghost]\ncommand = /nonexistent/bin\nautostart = false\n")
    server.core.harness.spawner.fail_next = OSError(12, "Cannot allocate memory")
    assert fault(server.call("supervisor.startProcess", "web")) == (50, "SPAWN_ERROR: web")
    code, text = fault(server.call("supervisor.startProcess", "ghost"))
    assert (code, text) == (20, "NO_FILE: can't find command '/nonexistent/bin'")


def test_signal_family(serve: Any) -> None:
    """A bad signal is BAD_SIGNAL as given; in a group call each signallable process's status."""
    server = serve(PROGRAMS)
    server.call("supervisor.startProcess", "worker:*")
    for child in server.core.harness.spawner.live():
        child.dies_on_signal = False
    assert fault(server.call("supervisor.signalProcess", "worker:worker_0", "NOPE")) == (
        11, "BAD_SIGNAL: NOPE",
    )  # fmt: skip
    assert fault(server.call("supervisor.signalProcess", "web", "HUP")) == (70, "NOT_RUNNING: web")
    assert server.call("supervisor.signalProcess", "worker:worker_0", "HUP") is True
    refused = server.call("supervisor.signalProcessGroup", "worker", "NOPE")
    assert [(r["name"], r["status"], r["description"]) for r in refused] == [
        ("worker_0", 11, "BAD_SIGNAL: NOPE"),
        ("worker_1", 11, "BAD_SIGNAL: NOPE"),
    ]
    sent = server.call("supervisor.signalAllProcesses", 1)
    assert [(r["name"], r["status"]) for r in sent] == [("worker_0", 80), ("worker_1", 80)]
    assert fault(server.call("supervisor.signalProcessGroup", "nosuch", "HUP")) == (
        10, "BAD_NAME: nosuch",
    )  # fmt: skip


def test_process_log_family(serve: Any) -> None:
    """Process logs are read, tailed and cleared; a channel without a file is NO_FILE."""
    server = serve(PROGRAMS + "\n[program:quiet]\ncommand = /bin/sleep 1\nstdout_logfile = NONE\n"
                   "autostart = false\n")  # fmt: skip
    server.call("supervisor.startProcess", "worker:worker_0")
    server.core.child("worker:worker_0").write("stdout", b"hello world\n")
    assert server.call("supervisor.readProcessStdoutLog", "worker:worker_0", 0, 5) == "hello"
    assert server.call("supervisor.readProcessLog", "worker:worker_0", -6, 0) == "world\n"
    assert server.call("supervisor.tailProcessStdoutLog", "worker:worker_0", 0, 6) == [
        "world\n", 12, True,
    ]  # fmt: skip
    assert fault(server.call("supervisor.readProcessStdoutLog", "worker:worker_0", -1, 1)) == (
        3, "BAD_ARGUMENTS",
    )  # fmt: skip
    assert fault(server.call("supervisor.readProcessStdoutLog", "quiet", 0, 0)) == (
        20, "NO_FILE",
    )  # fmt: skip
    assert server.call("supervisor.tailProcessStdoutLog", "quiet", 0, 10) == ["", 0, False]
    assert server.call("supervisor.clearProcessLogs", "worker:worker_0") is True
    assert server.call("supervisor.readProcessStdoutLog", "worker:worker_0", 0, 0) == ""
    cleared = server.call("supervisor.clearAllProcessLogs")
    assert {r["status"] for r in cleared} == {80} and len(cleared) == 4


def test_send_process_stdin(serve: Any) -> None:
    """sendProcessStdin writes UTF-8 to a running child; chars of another type are
    INCORRECT_PARAMETERS with the value, as supervisord answers; a stopped process
    is NOT_RUNNING."""
    server = serve(PROGRAMS)
    server.call("supervisor.startProcess", "worker:worker_0")
    assert server.call("supervisor.sendProcessStdin", "worker:worker_0", "héllo\n") is True
    raw = xmlrpc.client.Binary(b"\x00bin")
    assert server.call("supervisor.sendProcessStdin", "worker:worker_0", raw) is True
    assert bytes(server.core.child("worker:worker_0").stdin) == "héllo\n".encode() + b"\x00bin"
    assert fault(server.call("supervisor.sendProcessStdin", "worker:worker_0", 5)) == (
        2, "INCORRECT_PARAMETERS: 5",
    )  # fmt: skip
    assert fault(server.call("supervisor.sendProcessStdin", "worker:worker_1", "x")) == (
        70, "NOT_RUNNING: worker:worker_1",
    )  # fmt: skip
    assert fault(server.call("supervisor.sendProcessStdin", "worker:*", "x"))[0] == 10


def test_configuration_family(serve: Any, tmp_path: Any) -> None:
    """reloadConfig answers [[added, changed, removed]]; addProcessGroup and
    removeProcessGroup answer ALREADY_ADDED, STILL_RUNNING and BAD_NAME as supervisord."""
    server = serve(PROGRAMS)
    server.core.write(PROGRAMS + "\n[program:extra]\ncommand = /bin/sleep 1\nautostart = false\n")
    assert server.call("supervisor.reloadConfig") == [[["extra"], [], []]]
    infos = server.call("supervisor.getAllConfigInfo")
    assert [(i["name"], i["inuse"]) for i in infos] == [
        ("extra", False), ("web", True), ("worker_0", True), ("worker_1", True),
    ]  # fmt: skip
    assert server.call("supervisor.addProcessGroup", "extra") is True
    assert fault(server.call("supervisor.addProcessGroup", "extra")) == (90, "ALREADY_ADDED: extra")
    server.call("supervisor.startProcess", "worker:worker_0")
    assert fault(server.call("supervisor.removeProcessGroup", "worker")) == (
        91, "STILL_RUNNING: worker",
    )  # fmt: skip
    assert server.call("supervisor.removeProcessGroup", "web") is True
    assert fault(server.call("supervisor.removeProcessGroup", "web")) == (10, "BAD_NAME: web")


def test_wire_faults(serve: Any) -> None:
    """An unknown method is UNKNOWN_METHOD; a wrong number of arguments INCORRECT_PARAMETERS."""
    server = serve(PROGRAMS)
    assert fault(server.call("supervisor.nosuch")) == (1, "UNKNOWN_METHOD")
    assert fault(server.call("supervisor._update")) == (1, "UNKNOWN_METHOD")
    assert fault(server.call("supervisor.getProcessInfo")) == (2, "INCORRECT_PARAMETERS")


def test_multicall_runs_in_order(serve: Any) -> None:
    """system.multicall answers each call's value or fault struct, in order."""
    server = serve(PROGRAMS)
    answers = server.call(
        "system.multicall",
        [
            {"methodName": "supervisor.getAPIVersion", "params": []},
            {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
        ],
    )
    assert answers[0] == "3.0"
    assert answers[1] == {"faultCode": 10, "faultString": "BAD_NAME: nosuch"}


def test_wait_for_state(serve: Any) -> None:
    """supervise.waitForState answers [] once every named process is there, else the
    names still missing at the timeout."""
    server = serve(PROGRAMS)
    pending = server.start_call("supervise.waitForState", ["web"], "RUNNING", 10)
    server.call("supervisor.startProcess", "web", False)
    server.core.harness.clock.advance(1)
    assert answer_of(pending) == []
    late = server.start_call("supervise.waitForState", ["worker:*"], "running", 3)
    server.core.harness.clock.advance(3)
    assert answer_of(late) == ["worker:worker_0", "worker:worker_1"]
    assert fault(server.call("supervise.waitForState", ["web"], "NOPE", 1)) == (
        3, "BAD_ARGUMENTS: unknown state NOPE",
    )  # fmt: skip
    assert server.core.state("web") is ProcessState.RUNNING


def test_lenient_parameters_as_in_supervisord(serve: Any) -> None:
    """sendRemoteCommEvent takes values of any type as text, and methodHelp or
    methodSignature of a non-string is SIGNATURE_UNSUPPORTED, as supervisord answers."""
    server = serve(PROGRAMS)
    seen: list[Any] = []
    server.core.harness.bus.subscribe(
        CallbackListener("remote", (RemoteCommunicationEvent,), seen.append)
    )
    assert server.call("supervisor.sendRemoteCommEvent", 5, [1]) is True
    assert server.call("supervisor.sendRemoteCommEvent", xmlrpc.client.Binary(b"t"), True) is True
    assert [(e.kind, e.data) for e in seen] == [("5", "[1]"), ("t", "True")]
    for method in ("system.methodHelp", "system.methodSignature"):
        assert fault(server.call(method, [1])) == (4, "SIGNATURE_UNSUPPORTED")
        assert fault(server.call(method, True)) == (4, "SIGNATURE_UNSUPPORTED")


#: supervisord 4.3.0's ``supervisor.*`` methods, aliases included (its rpcinterface.py).
SUPERVISORD_METHODS = [
    "getAPIVersion",
    "getVersion",
    "getSupervisorVersion",
    "getIdentification",
    "getState",
    "getPID",
    "readLog",
    "readMainLog",
    "clearLog",
    "shutdown",
    "restart",
    "reloadConfig",
    "addProcessGroup",
    "removeProcessGroup",
    "startProcess",
    "startProcessGroup",
    "startAllProcesses",
    "stopProcess",
    "stopProcessGroup",
    "stopAllProcesses",
    "signalProcess",
    "signalProcessGroup",
    "signalAllProcesses",
    "getAllConfigInfo",
    "getProcessInfo",
    "getAllProcessInfo",
    "readProcessStdoutLog",
    "readProcessLog",
    "readProcessStderrLog",
    "tailProcessStdoutLog",
    "tailProcessLog",
    "tailProcessStderrLog",
    "clearProcessLogs",
    "clearProcessLog",
    "clearAllProcessLogs",
    "sendProcessStdin",
    "sendRemoteCommEvent",
]


def test_every_supervisord_method_is_listed(serve: Any) -> None:
    """system.listMethods lists exactly supervisord 4.3.0's supervisor.* methods, whichever
    family serves each, and methodHelp serves each one's documentation."""
    server = serve(PROGRAMS)
    listed = [m for m in server.call("system.listMethods") if m.startswith("supervisor.")]
    assert listed == sorted(f"supervisor.{name}" for name in SUPERVISORD_METHODS)
    assert server.call("system.methodHelp", "supervisor.getPID") == (
        "Return the PID of supervisord\n\n        @return int PID\n        "
    )
    assert server.call("system.methodSignature", "supervisor.tailProcessLog") == [
        "array", "string", "int", "int",
    ]  # fmt: skip
