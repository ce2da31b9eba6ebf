"""The clerk's home: today's shift, my list and its progress, my clock state and timecard."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from reports.dashboard import MyDay, my_day
from tui.base import DbScreen
from tui.widgets.header import OfficeHeader


class MyDayScreen(DbScreen):
    HELP_TITLE = "My day"
    HELP = "Your shift, your list for today and your time. g opens other screens; ctrl+p lists every action."

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        with VerticalScroll():
            yield Static(Text(f"Good day, {self.actor.name}", style="bold"), classes="title")
            with Vertical(classes="panel", id="shift-panel"):
                yield Static(Text("Today's shift", style="bold"), classes="panel-title")
                yield Static("…", id="shift")
                yield Static("", id="next-shift", classes="muted")
            with Vertical(classes="panel", id="time-panel"):
                yield Static(Text("My time", style="bold"), classes="panel-title")
                yield Static("…", id="clock")
                yield Static("", id="timecard", classes="muted")
            with Vertical(classes="panel", id="list-panel"):
                yield Static(Text("My list", style="bold"), classes="panel-title")
                yield Static("…", id="list")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(30, self.reload)

    def reload(self) -> None:
        self.db_call(lambda s: my_day(self.actor, s), self.show)

    def show(self, d: MyDay) -> None:
        self.query_one("#shift", Static).update(
            Text(d.shift) if d.shift else Text("No published shift today", style="italic")
        )
        self.query_one("#next-shift", Static).update(Text(f"Next: {d.next_shift}") if d.next_shift else "")
        self.query_one("#clock", Static).update(Text(d.clock_state.capitalize()))
        self.query_one("#timecard", Static).update(
            Text(f"Timecard for this period: {d.timecard_status}")
            if d.timecard_status
            else "No timecard yet this period"
        )
        if d.items_total:
            self.query_one("#list", Static).update(
                Text(f"{d.items_done} of {d.items_total} items done · you own {d.owned_clients} accounts")
            )
        else:
            self.query_one("#list", Static).update(
                Text(
                    f"Your supervisor has not published today's list yet. You own {d.owned_clients} accounts."
                )
            )
