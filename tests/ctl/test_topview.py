"""What ``supervisectl top`` shows, from the console's event stream, without a terminal."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from supervise.ctl.feed import parse
from supervise.ctl.topview import TopView
from supervise.web.crashes import CRASH_LOOP_RULE


def row(name: str, state: str = "RUNNING", **fields: Any) -> dict[str, Any]:
    return {
        "namespec": name, "name": name, "group": name, "state": state, "pid": 42,
        "start": 1000.0, "stop": 0, "restarts": 0, "last_exit": "", "exits": [], **fields,
    }  # fmt: skip


def view(now: float = 1100.0) -> TopView:
    shown = TopView(clock=lambda: now)
    shown.receive(
        "snapshot",
        {
            "now": now,
            "daemon": {"identification": "box", "version": "1", "state": "RUNNING", "pid": 7},
            "crash_loop": CRASH_LOOP_RULE,
            "processes": [row("web"), row("worker", exits=[1040.0, 1060.0, 1090.0])],
            "usage": {"web": [{"cpu": 1.0, "rss": 100}, {"cpu": 12.5, "rss": 2048}]},
        },
    )
    return shown


def test_stream_lines_become_events() -> None:
    lines = ["retry: 1000", "", "event: update", 'data: {"a": 1}', "", ": comment", "data: 2", ""]
    assert list(parse(iter(lines))) == [("update", {"a": 1}), ("message", 2)]


def test_cells_read_as_words() -> None:
    cells = view().cells("web")
    assert cells == ("web", "RUNNING", "42", "00:01:40", "0", "12.5%", "2.0 MiB", "")


def test_a_crash_loop_is_not_shown_as_running_and_ages_out() -> None:
    assert view(1100.0).cells("worker")[1] == "CRASH LOOP"
    assert view(1100.0 + 300).cells("worker")[1] == "RUNNING"  # two exits left in the window


def test_updates_and_usage_change_only_what_they_name() -> None:
    shown = view()
    changed = shown.receive("update", {"now": 1100.0, "processes": [row("web", "STOPPED", pid=0)]})
    assert changed == {"web"}
    assert shown.cells("web")[1:3] == ("STOPPED", "")
    assert shown.cells("web")[5] == "", "no figures for a stopped process"
    changed = shown.receive("usage", {"now": 1101.0, "usage": {"worker": {"cpu": 3.0, "rss": 10}}})
    assert changed == {"web", "worker"}
    assert shown.cells("worker")[5:7] == ("3.0%", "10 KiB")


def test_filter_matches_every_word_against_name_group_and_state() -> None:
    shown = view()
    shown.filter_text = "crash"
    assert shown.visible() == ["worker"]
    shown.filter_text = "web running"
    assert shown.visible() == ["web"]
    shown.filter_text = ""
    assert shown.visible() == ["web", "worker"]


def test_only_top_loads_the_terminal_library() -> None:
    """supervisectl's other commands, and the daemon's modules, never import Textual."""
    code = (
        "import sys, supervise.ctl.main, supervise.service\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
