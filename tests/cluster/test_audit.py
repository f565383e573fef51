"""The audit trail's records, and which XML-RPC calls count as actions."""

from __future__ import annotations

import xmlrpc.client

from supervise.audit import AuditTrail, summary
from supervise.rpc.audit import audited_calls, outcome_of


def test_a_record_is_one_line_a_ring_entry_and_goes_to_every_sink() -> None:
    trail = AuditTrail("n1", clock=lambda: 100.0, kept=2)
    seen = []
    trail.sinks.append(seen.append)
    trail.record("otto", "10.0.0.5:4242", "console", "restart", ["api"], "ok")
    trail.record(
        "", "", "xml-rpc", "supervisor.stopProcess", ["web"], "failed: fault 70 NOT_RUNNING"
    )
    third = trail.record(
        "vera", "10.0.0.6:1", "cluster console", "stop", ["api"], "refused: read-only", node="n2"
    )
    assert len(seen) == 3 and seen[-1] is third
    assert [e["who"] for e in trail.entries(10)] == ["anonymous", "vera"]  # the ring keeps 2
    assert third.line() == (
        "audit: vera from 10.0.0.6:1 via cluster console: stop api on n2: refused: read-only"
    )
    assert trail.entries(1)[0] == {
        "time": 100.0, "node": "n2", "who": "vera", "where": "10.0.0.6:1",
        "door": "cluster console", "action": "stop", "targets": ["api"],
        "result": "refused: read-only",
    }  # fmt: skip


def test_a_failing_sink_costs_no_record() -> None:
    trail = AuditTrail("n1")
    trail.sinks.append(lambda record: 1 / 0)
    trail.record("otto", "here", "console", "start", ["x"], "ok")
    assert len(trail.entries()) == 1


def test_reads_are_not_actions_and_multicalls_are_audited_call_by_call() -> None:
    assert audited_calls("supervisor.getAllProcessInfo", []) == []
    assert audited_calls("supervisor.tailProcessStdoutLog", ["x", 0, 10]) == []
    assert audited_calls("supervise.waitForState", [["x"], "RUNNING", 5]) == []
    assert audited_calls("supervisor.stopProcess", ["web"]) == [
        (-1, "supervisor.stopProcess", ["web"])
    ]
    calls = [
        {"methodName": "supervisor.getState", "params": []},
        {"methodName": "supervisor.startProcess", "params": ["a"]},
        {"methodName": "supervisor.stopProcess", "params": ["b"]},
    ]
    found = audited_calls("system.multicall", [calls])
    assert [(i, m) for i, m, _ in found] == [
        (1, "supervisor.startProcess"),
        (2, "supervisor.stopProcess"),
    ]
    answers = [[{"statecode": 1}], [True], {"faultCode": 70, "faultString": "NOT_RUNNING: b"}]
    assert outcome_of(answers, 1) == "ok"
    assert outcome_of(answers, 2) == "failed: fault 70 NOT_RUNNING: b"
    fault = xmlrpc.client.Fault(10, "BAD_NAME: nosuch")
    assert outcome_of(fault, -1) == "failed: fault 10 BAD_NAME: nosuch"
    assert summary([{"name": "a", "ok": True}, {"name": "b", "ok": False, "error": "gone"}]) == (
        "failed: b: gone"
    )


def test_roles_over_xml_rpc() -> None:
    from supervise.rpc.audit import permitted

    assert permitted("admin", "supervisor.shutdown")
    assert permitted("operator", "supervisor.stopProcess")
    assert permitted("operator", "supervisor.sendProcessStdin")
    assert not permitted("operator", "supervisor.reloadConfig")
    assert not permitted("viewer", "supervisor.startProcess")
