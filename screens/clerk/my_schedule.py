"""My schedule (clerk): my published shifts this week and the next three (docs/schedule.md).

Only published shifts are shown (the service never returns drafts). Days off say why when the
clerk can know it: approved time off, a holiday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from db.enums import RequestStatus
from db.timeutil import office_today
from scheduling import shifts, timeoff
from scheduling.shifts import HolidayView, MyShift, fmt_hm, week_start
from scheduling.timeoff import TimeOffView
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

WEEKS = 4
WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class MyWeeks:
    start: dt.date
    end: dt.date
    shifts: list[MyShift]
    holidays: list[HolidayView]
    time_off: list[TimeOffView]


def load(actor: Any, s: Any, start: dt.date, end: dt.date) -> MyWeeks:
    mine = shifts.my_schedule(actor, s, start, end)
    holidays = shifts.list_holidays(actor, s, start=start, end=end)
    off = timeoff.list_time_off(
        actor, s, login=actor.login, status=RequestStatus.APPROVED, start=start, end=end
    )
    return MyWeeks(start, end, mine, holidays, off)


class MyScheduleScreen(DbScreen):
    HELP_TITLE = "My schedule"
    HELP = (
        "Your published shifts, this week and the next three. Shifts your supervisor has not yet "
        "published are not shown. [ and ] move by four weeks; t comes back to this week; "
        "o asks for time off."
    )
    DEFAULT_CSS = """
    MyScheduleScreen #my-shifts { height: 1fr; }
    MyScheduleScreen #my-summary { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding(
            "left_square_bracket", "prev", "Earlier", id="my_schedule.prev", tooltip="The four weeks before"
        ),
        Binding(
            "right_square_bracket", "next", "Later", id="my_schedule.next", tooltip="The four weeks after"
        ),
        Binding("t", "this_week", "This week", id="my_schedule.today", tooltip="Back to this week"),
        Binding("o", "time_off", "Time off", id="my_schedule.time_off", tooltip="Ask for days off"),
        Binding("escape", "back", "Back", id="my_schedule.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.start: dt.date | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("My schedule", style="bold"), classes="title", id="my-title")
        table: DataTable[str | Text] = DataTable(id="my-shifts", cursor_type="row", zebra_stripes=True)
        table.tooltip = "Your published shifts; drafts appear once your supervisor publishes them"
        yield table
        yield Static("", id="my-summary")
        yield KeyFooter()

    def today(self) -> dt.date:
        t = office_today(self.cd_app.tz)
        return dt.date(t.year, t.month, t.day)

    def on_mount(self) -> None:
        t = self.query_one("#my-shifts", DataTable)
        t.add_columns("Week", "Day", "Shift", "Time", "Paid")
        t.focus()
        self.start = week_start(self.today())
        self.reload()

    def reload(self) -> None:
        assert self.start is not None
        start, end = self.start, self.start + dt.timedelta(days=7 * WEEKS - 1)
        self.db_call(lambda s: load(self.actor, s, start, end), self.show)

    def show(self, w: MyWeeks) -> None:
        t = self.query_one("#my-shifts", DataTable)
        t.clear()
        by_day = {sh.day: sh for sh in w.shifts}
        holidays = {h.day: h.name for h in w.holidays}
        off: dict[dt.date, str] = {}
        for r in w.time_off:
            d = max(r.start_date, w.start)
            while d <= min(r.end_date, w.end):
                off[d] = r.reason
                d += dt.timedelta(days=1)
        today = self.today()
        week_minutes: dict[dt.date, int] = {}
        d = w.start
        while d <= w.end:
            ws = week_start(d)
            sh = by_day.get(d)
            week = Text(f"{ws.day} {ws:%b}" if d == ws else "", style="bold")
            day = Text(f"{WEEKDAY[d.weekday()]} {d.day} {d:%b}", style="bold reverse" if d == today else "")
            if sh is not None:
                week_minutes[ws] = week_minutes.get(ws, 0) + sh.paid_minutes
                row = [
                    Text(f"{sh.code} {sh.name}", style="bold"),
                    Text(f"{sh.starts_at:%H:%M}–{sh.ends_at:%H:%M}"),
                    Text(fmt_hm(sh.paid_minutes)),
                ]
            elif d in holidays:
                row = [Text(f"holiday: {holidays[d]}", style="italic"), Text(""), Text("")]
            elif d in off:
                row = [Text("time off (approved)", style="italic"), Text(""), Text("")]
            else:
                row = [Text("off", style="dim"), Text(""), Text("")]
            t.add_row(week, day, *row, key=d.isoformat())
            d += dt.timedelta(days=1)
        if w.start <= today <= w.end:
            t.move_cursor(row=(today - w.start).days)
        total = sum(sh.paid_minutes for sh in w.shifts)
        self.query_one("#my-title", Static).update(
            Text.assemble(
                ("My schedule", "bold"),
                f" · {w.start:%a} {w.start.day} {w.start:%b} – {w.end:%a} {w.end.day} {w.end:%b %Y}"
                f" · {len(w.shifts)} shifts, {fmt_hm(total)} paid",
            )
        )
        weeks = "  ".join(
            f"wk {ws.day} {ws:%b}: {fmt_hm(week_minutes.get(ws, 0))}"
            for ws in (w.start + dt.timedelta(days=7 * k) for k in range(WEEKS))
        )
        note = "" if w.shifts else "No published shifts in these weeks yet. "
        self.query_one("#my-summary", Static).update(
            Text(f"{note}{weeks}. Only published shifts are shown.", style="dim")
        )

    def action_prev(self) -> None:
        assert self.start is not None
        self.start -= dt.timedelta(days=7 * WEEKS)
        self.reload()

    def action_next(self) -> None:
        assert self.start is not None
        self.start += dt.timedelta(days=7 * WEEKS)
        self.reload()

    def action_this_week(self) -> None:
        self.start = week_start(self.today())
        self.reload()

    def action_time_off(self) -> None:
        from screens.clerk.time_off_request import TimeOffRequestScreen

        self.app.push_screen(TimeOffRequestScreen())
