"""My timecard: the current (or an earlier) pay period, day by day, and submitting it.

Per day: the published shift, my clock events, worked time, breaks, lateness, early leave,
absence and overtime; then the totals (regular and overtime) and where the card stands.
Submitting asks for an optional note and shows the totals first. The figures come from
``scheduling.timecards`` (the same ones the supervisor signs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from db.enums import TimecardStatus
from scheduling import clock, timecards
from scheduling.clock import ClockState
from scheduling.periods import Period, current_period
from scheduling.timecards import CardSummary, TimecardDetail, hours_text
from screens.common.time_view import DayTable, card_head, day_detail, header_status, period_text
from tui.widgets.base import DbScreen
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field
from tui.widgets.header import OfficeHeader


class SubmitDialog(FormDialog[CardSummary]):
    """Submit my card: the totals that go to the supervisor, an optional note, then submit."""

    FORM_ID = "submit_timecard"
    SAVE_LABEL = "Submit"
    WIDE = False
    SUBMIT_ON_ENTER = True

    def __init__(self, card: CardSummary) -> None:
        super().__init__()
        self.card = card

    def heading(self) -> str:
        c = self.card
        return f"Submit my timecard for {period_text(c.period_start, c.period_end)}?"

    def intro(self) -> Iterable[Widget]:
        c = self.card
        yield Static(
            Text.assemble(
                "Regular ",
                (hours_text(c.regular_minutes), "bold"),
                " · overtime ",
                (hours_text(c.overtime_minutes), "bold"),
                f" · worked {hours_text(c.worked_minutes)} of {hours_text(c.scheduled_minutes)} scheduled",
            )
        )
        if c.variance:
            yield Static(Text("Your supervisor will see: " + ", ".join(c.variance), style="bold"))
        yield Static(
            Text(
                "A supervisor signs it next; after that only a supervisor can change its clock events.",
                style="dim",
            )
        )

    def fields(self) -> ComposeResult:
        yield Field("note", "Note to the supervisor", max_length=1000, placeholder="optional")

    def save(self, s: Any, values: dict[str, Any]) -> CardSummary:
        return timecards.submit_timecard(self.actor, s, self.card.period_start, values["note"])

    def saved_message(self, result: CardSummary) -> str:
        return ""  # the card behind says SUBMITTED


class MyTimecardScreen(DbScreen):
    HELP_TITLE = "My timecard"
    HELP = (
        "Your timecard for a pay period, day by day: the scheduled shift, your clock events, worked "
        "time, breaks, minutes late or left early, absence and overtime. [ and ] move to the "
        "previous or next period. s submits the card (on or after the period's last day); a "
        "supervisor then signs it. Events marked * were set by a supervisor."
    )
    BINDINGS = [
        Binding("s", "submit", "Submit", id="my_timecard.submit", tooltip="Submit this timecard with a note"),
        Binding(
            "left_square_bracket",
            "previous",
            "Prev period",
            id="my_timecard.previous",
            tooltip="The previous pay period",
        ),
        Binding(
            "right_square_bracket",
            "next",
            "Next period",
            id="my_timecard.next",
            tooltip="The next pay period (up to the current one)",
        ),
        Binding("escape", "back", "Back", id="my_timecard.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, period_start: dt.date | None = None) -> None:
        super().__init__()
        self.period_start = period_start
        self.current: Period | None = None
        self.detail: TimecardDetail | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("My timecard", style="bold"), classes="title", id="mytc-title")
        yield Static("Loading…", id="mytc-head", classes="time-head")
        table = DayTable(id="mytc-days")
        table.tooltip = "Your days in this pay period; the line below explains the highlighted day"
        yield table
        yield Static("", id="mytc-day", classes="time-day")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#mytc-days", DayTable).focus()
        self.reload()

    def reload(self) -> None:
        start = self.period_start

        def fetch(s: Any) -> tuple[TimecardDetail, Period, ClockState]:
            return (
                timecards.my_timecard(self.actor, s, start),
                current_period(s),
                clock.clock_state(self.actor, s),
            )

        self.db_call(fetch, self.show)

    def show(self, result: tuple[TimecardDetail, Period, ClockState]) -> None:
        self.detail, self.current, state = result
        self.query_one(OfficeHeader).status = header_status(state, self.cd_app.tz)
        c = self.detail.summary
        self.period_start = c.period_start
        which = "this pay period" if self.current.start == c.period_start else "an earlier pay period"
        self.query_one("#mytc-title", Static).update(Text.assemble(("My timecard", "bold"), f" · {which}"))
        self.query_one("#mytc-head", Static).update(card_head(c, self.detail.tz, who=False))
        self.query_one("#mytc-days", DayTable).show(self.detail)
        self.show_day()

    @on(DataTable.RowHighlighted, "#mytc-days")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_day()

    def show_day(self) -> None:
        table = self.query_one("#mytc-days", DayTable)
        day = table.current_day
        self.query_one("#mytc-day", Static).update(day_detail(day, table.tz) if day else "")

    def _go(self, delta: int) -> None:
        if self.detail is None or self.current is None:
            return
        c = self.detail.summary
        period = Period(c.period_start, c.period_end)
        target = period.previous() if delta < 0 else period.next()
        if target.start > self.current.start:
            self.notify("This is the current pay period; there is no later card yet", severity="warning")
            return
        self.period_start = target.start
        self.reload()

    def action_previous(self) -> None:
        self._go(-1)

    def action_next(self) -> None:
        self._go(1)

    def action_submit(self) -> None:
        if self.detail is None:
            return
        c = self.detail.summary
        if c.status != TimecardStatus.OPEN:
            self.notify(f"This timecard is already {c.status.value}", severity="warning")
            return

        def done(card: CardSummary | None) -> None:
            if card is not None:
                self.notify(f"Submitted your timecard for {period_text(card.period_start, card.period_end)}")
                self.reload()

        self.app.push_screen(SubmitDialog(c), done)
