"""``supervisectl top``: a live full-screen view of every program, on Textual.

Fed by the daemon's event stream (``/api/events``, the console's; no polling): a snapshot,
then changed rows and a resource sample per ``usage_interval``. Actions go through
XML-RPC like every other command; ``t`` follows the selected program's stdout
(``/logtail``). Only this module imports Textual, and only the ``top`` command imports it.
"""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Log, Static

from supervise.ctl.client import Connection
from supervise.ctl.feed import events
from supervise.ctl.topview import COLUMNS, TopView

STYLES = {
    "RUNNING": "bold green",
    "CRASH LOOP": "bold white on red",
    "BACKOFF": "bold red",
    "FATAL": "bold red",
    "UNKNOWN": "bold red",
    "EXITED": "dim",
    "STOPPED": "dim",
    "STARTING": "yellow",
    "STOPPING": "yellow",
}
RETRY_SECONDS = 1.0


class TopApp(App[None]):
    """The screen: a title, the filter, the table, an optional log, the keys."""

    TITLE = "supervise top"
    CSS = """
    #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    #filter { height: 3; }
    #table { height: 1fr; }
    #tail { height: 40%; border-top: solid $primary; }
    #message { height: 1; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "act('start')", "Start"),
        Binding("x", "act('stop')", "Stop"),
        Binding("r", "act('restart')", "Restart"),
        Binding("t", "tail", "Tail"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "leave", "Back", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        self.view = TopView()
        self.shown: list[str] = []
        self.dirty: set[str] = set()
        self.link = "connecting…"
        self.stopping = threading.Event()
        self.tailing = ""
        self.tail_generation = 0

    def compose(self) -> ComposeResult:
        yield Static(self.view.title(self.link), id="title")
        yield Input(placeholder="Filter (/): name, group or state", id="filter")
        table: DataTable[Any] = DataTable(id="table", cursor_type="row", zebra_stripes=True)
        for column in COLUMNS:
            table.add_column(column, key=column)
        yield table
        log = Log(id="tail", max_lines=2000)
        log.display = False
        yield log
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        threading.Thread(target=self.follow, name="top-feed", daemon=True).start()
        self.set_interval(0.2, self.refresh_table)
        self.set_interval(1.0, self.tick)

    def on_unmount(self) -> None:
        self.stopping.set()

    # -- the stream, read in a thread -------------------------------------------------------

    def follow(self) -> None:
        """Read the stream; after a drop, reconnect every second until quit."""
        while not self.stopping.is_set():
            try:
                for name, data in events(self.connection):
                    self.from_thread(self.receive, name, data)
            except (OSError, xmlrpc.client.ProtocolError, ValueError) as problem:
                why = getattr(problem, "errmsg", None) or getattr(problem, "strerror", None)
                self.from_thread(self.lost, str(why or problem))
            else:
                self.from_thread(self.lost, "the daemon closed the stream")
            self.stopping.wait(RETRY_SECONDS)

    def from_thread(self, call: Callable[..., Any], *args: Any) -> None:
        """Run ``call`` on the app's loop; nothing once the app has gone."""
        try:
            self.call_from_thread(call, *args)
        except RuntimeError:
            self.stopping.set()

    def receive(self, name: str, data: dict[str, Any]) -> None:
        self.dirty |= self.view.receive(name, data)
        if name == "snapshot":
            self.link = "live"
            self.shown = []  # rebuilt whole
            self.show_title()

    def lost(self, why: str) -> None:
        self.link = f"disconnected ({why}); reconnecting…"
        self.show_title()

    def show_title(self) -> None:
        self.query_one("#title", Static).update(self.view.title(self.link))

    # -- the table -------------------------------------------------------------------------

    def styled(self, namespec: str) -> list[str | Text]:
        cells: list[str | Text] = list(self.view.cells(namespec))
        cells[1] = Text(str(cells[1]), style=STYLES.get(str(cells[1]), ""))
        return cells

    def refresh_table(self) -> None:
        """Apply what changed: the rows shown, or the cells of changed rows."""
        table: DataTable[Any] = self.query_one(DataTable)
        visible = self.view.visible()
        if visible != self.shown:
            selected = self.selected()
            table.clear()
            for namespec in visible:
                table.add_row(*self.styled(namespec), key=namespec)
            self.shown = visible
            if selected in visible:
                table.move_cursor(row=visible.index(selected))
        else:
            for namespec in self.dirty & set(visible):
                for column, value in zip(COLUMNS, self.styled(namespec), strict=True):
                    table.update_cell(namespec, column, value, update_width=True)
        self.dirty = set()

    def tick(self) -> None:
        """Uptimes move, and crash loops age out, with no message from the daemon."""
        self.dirty |= {n for n in self.shown if self.view.rows[n]["state"] == "RUNNING"}

    def selected(self) -> str:
        table: DataTable[Any] = self.query_one(DataTable)
        if not self.shown or table.cursor_row >= len(self.shown):
            return ""
        return self.shown[table.cursor_row]

    def say(self, text: str) -> None:
        self.query_one("#message", Static).update(text)

    # -- keys --------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(Input).focus()
        self.say("Filter: type words (name, group or state); Enter or Escape returns to the table")

    def action_leave(self) -> None:
        if self.query_one(Input).has_focus:
            self.query_one(DataTable).focus()
            self.say("")
        elif self.tailing:
            self.action_tail()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.view.filter_text = event.value
        self.refresh_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()
        self.say("")

    def action_act(self, action: str) -> None:
        namespec = self.selected()
        if not namespec:
            return
        self.say(f"{action} {namespec}…")
        threading.Thread(target=self.act, args=(action, namespec), daemon=True).start()

    def act(self, action: str, namespec: str) -> None:
        """Start, stop or restart over XML-RPC (in a thread); say how it went."""
        try:
            if action in ("stop", "restart") and self.view.rows[namespec]["pid"]:
                self.connection.call("supervisor.stopProcess", namespec, True)
            if action in ("start", "restart"):
                self.connection.call("supervisor.startProcess", namespec, True)
            done = {"start": "started", "stop": "stopped", "restart": "restarted"}[action]
            self.from_thread(self.say, f"{namespec} {done}")
        except xmlrpc.client.Fault as fault:
            self.from_thread(self.say, f"{namespec}: ERROR ({fault.faultString})")
        except (OSError, xmlrpc.client.ProtocolError) as problem:
            self.from_thread(self.say, f"{namespec}: {action} failed ({problem})")

    def action_tail(self) -> None:
        """Follow the selected program's stdout in the bottom pane; again to close."""
        log = self.query_one(Log)
        self.tail_generation += 1
        namespec = self.selected()
        if self.tailing or not namespec:
            self.tailing = ""
            log.display = False
            return
        self.tailing = namespec
        log.clear()
        log.display = True
        log.write_line(f"--- {namespec} stdout (t or Escape closes) ---")
        generation = self.tail_generation
        threading.Thread(target=self.tail, args=(namespec, generation, log), daemon=True).start()

    def tail(self, namespec: str, generation: int, log: Log) -> None:
        """Stream the log (in a thread) while this tail is the current one."""
        try:
            for chunk in self.connection.stream(f"/logtail/{namespec}/stdout"):
                if generation != self.tail_generation or self.stopping.is_set():
                    return
                self.from_thread(log.write, chunk.decode("utf-8", "replace"))
        except (OSError, xmlrpc.client.ProtocolError) as problem:
            self.from_thread(log.write_line, f"(the log stream failed: {problem})")


def run(connection: Connection) -> int:
    """Show the view until ``q``; 0."""
    TopApp(connection).run()
    return 0
