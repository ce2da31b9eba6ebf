"""The clerk's home: today's shift, my list and its progress, my clock state and timecard."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from db.enums import ClockKind
from db.errors import ClerkDeskError
from reports.dashboard import MyDay, my_day
from scheduling import clock
from scheduling.clock import ClockEventView, ClockState
from screens.common.collections_bits import n_of
from screens.common.time_view import header_status, refusal_text
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

# One key per clock event; the instant is always the server's clock (scheduling.clock.punch).
PUNCH_DONE = {
    ClockKind.IN: "Clocked in",
    ClockKind.OUT: "Clocked out",
    ClockKind.BREAK_START: "Break started",
    ClockKind.BREAK_END: "Back from break",
}


class MyDayScreen(DbScreen):
    HELP_TITLE = "My day"
    HELP = (
        "Your shift, your list for today and your time. i clocks in, o clocks out, b starts a break, "
        "r ends it (the time is the office clock, never typed); t opens your timecard, w your work list. "
        "g opens other screens; ctrl+p lists every action."
    )
    BINDINGS = [
        Binding("i", "clock_in", "In", id="my_day.clock_in", tooltip="Clock in now (office clock)"),
        Binding("o", "clock_out", "Out", id="my_day.clock_out", tooltip="Clock out now (office clock)"),
        Binding("b", "start_break", "Break", id="my_day.start_break", tooltip="Start an unpaid break now"),
        Binding("r", "end_break", "Back", id="my_day.end_break", tooltip="End your break now"),
        Binding(
            "t", "timecard", "Timecard", id="my_day.timecard", tooltip="Open my timecard for this period"
        ),
        Binding("w", "work_list", "Work list", id="my_day.work_list", tooltip="Open today's work list"),
        # A supervisor opens my day from the dashboard; for a clerk it is home and Esc stays.
        Binding("escape", "back", "Back", show=False, id="my_day.back", tooltip="Back to the dashboard"),
    ]

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
                yield Static("", id="clock-result")
                yield Static("", id="timecard", classes="muted")
                yield Static(
                    Text(
                        "i clock in · o clock out · b break · r back from break · t my timecard", style="dim"
                    ),
                    id="clock-keys",
                )
            with Vertical(classes="panel", id="list-panel"):
                yield Static(Text("My list", style="bold"), classes="panel-title")
                yield Static("…", id="list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#clock-result", Static).display = False  # until a key is pressed
        self.reload()
        self.set_interval(30, self.reload)

    def reload(self) -> None:
        self.db_call(lambda s: (my_day(self.actor, s), clock.clock_state(self.actor, s)), self.show_all)

    def show_all(self, result: tuple[MyDay, ClockState]) -> None:
        d, state = result
        self.query_one(OfficeHeader).status = header_status(state, self.cd_app.tz)
        self.show(d)

    def _punch(self, kind: ClockKind) -> None:
        result = self.query_one("#clock-result", Static)

        def done(ev: ClockEventView) -> None:
            # The clock line above says the new state ("Clocked in since 07:02") once the reload
            # is in: a second line "Clocked in at 07:02" said it twice. The result line is for
            # refusals; the toast confirms the punch.
            result.display = False
            self.query_one("#clock", Static).update(Text(f"{PUNCH_DONE[kind]} at {ev.local.format('HH:mm')}"))
            self.notify(f"{PUNCH_DONE[kind]} at {ev.local.format('HH:mm')}")
            self.reload()

        def refused(exc: BaseException) -> None:
            if not isinstance(exc, ClerkDeskError):
                self.cd_app.show_error(exc)
                return
            msg = refusal_text(exc)
            result.update(Text.assemble(("NOT RECORDED", "bold reverse"), " ", msg))
            result.display = True
            self.notify(escape(msg), title="Not recorded", severity="error", timeout=8)
            self.reload()

        self.db_call(
            lambda s: clock.punch(self.actor, s, kind), done, write=True, on_error=refused, group="punch"
        )

    def action_clock_in(self) -> None:
        self._punch(ClockKind.IN)

    def action_clock_out(self) -> None:
        self._punch(ClockKind.OUT)

    def action_start_break(self) -> None:
        self._punch(ClockKind.BREAK_START)

    def action_end_break(self) -> None:
        self._punch(ClockKind.BREAK_END)

    def action_work_list(self) -> None:
        from screens.clerk.my_list import MyListScreen

        self.app.push_screen(MyListScreen())

    def action_timecard(self) -> None:
        from screens.clerk.my_timecard import MyTimecardScreen

        self.app.push_screen(MyTimecardScreen())

    def show(self, d: MyDay) -> None:
        self.query_one("#shift", Static).update(
            Text(d.shift) if d.shift else Text("No published shift today", style="italic")
        )
        self.query_one("#next-shift", Static).update(Text(f"Next: {d.next_shift}") if d.next_shift else "")
        # Capitalise the first letter only ("Clocked out at Fri 20 Nov", not "fri 20 nov").
        self.query_one("#clock", Static).update(Text(d.clock_state[:1].upper() + d.clock_state[1:]))
        self.query_one("#timecard", Static).update(
            Text(f"Timecard for this period: {d.timecard_status}")
            if d.timecard_status
            else "No timecard yet this period"
        )
        if d.items_total:
            self.query_one("#list", Static).update(
                Text(
                    f"{d.items_done} of {d.items_total} items done · you own {n_of(d.owned_clients, 'account')}"
                    " · w opens your list"
                )
            )
        else:
            self.query_one("#list", Static).update(
                Text(
                    f"Your supervisor has not published today's list yet. You own {n_of(d.owned_clients, 'account')}."
                )
            )
