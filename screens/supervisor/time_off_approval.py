"""Time-off approval (supervisor): pending requests, approve or decline with a reason (docs/schedule.md).

Each request shows whether the clerk already has shifts on those days: approving makes the days
fixed days off, so those shifts become rule breaks on the grid until someone moves them.
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

from db.enums import RequestStatus
from db.timeutil import office_today
from scheduling import timeoff
from scheduling.timeoff import TimeOffView
from tui.widgets.base import DbScreen
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field
from tui.widgets.header import OfficeHeader

WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HISTORY_DAYS = 60  # how far back "all requests" reaches


def short_day(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b}"


def span(r: TimeOffView) -> str:
    if r.start_date == r.end_date:
        return f"{short_day(r.start_date)} {r.start_date.year}"
    return f"{short_day(r.start_date)} – {short_day(r.end_date)} {r.end_date.year}"


def clash_text(r: TimeOffView) -> Text:
    if not r.clashes:
        return Text("not scheduled on those days")
    days = ", ".join(short_day(d) for d in r.clashes)
    return Text(f"already scheduled on {days}", style="bold")


class DecisionDialog(FormDialog[TimeOffView]):
    """Approve (an optional note) or decline (a reason the clerk will read) one request."""

    FORM_ID = "timeoff_decision"
    WIDE = False
    SUBMIT_ON_ENTER = True

    def __init__(self, request: TimeOffView, approve: bool) -> None:
        super().__init__()
        self.request = request
        self.approve = approve

    def save_label(self) -> str:
        return "Approve" if self.approve else "Decline"

    def heading(self) -> str:
        return f"{self.save_label()} {self.request.name}'s time off"

    def intro(self) -> Iterable[Widget]:
        r = self.request
        yield Static(Text(f"{span(r)} ({r.days} day{'s' if r.days != 1 else ''})"))
        yield Static(Text.assemble("Reason given: ", (r.reason or "(none)", "italic")))
        yield Static(clash_text(r))
        if self.approve and r.clashes:
            yield Static(
                Text(
                    "Approving makes those days fixed days off: the shifts stay on the grid, "
                    "marked as rule breaks, until you move them."
                )
            )

    def fields(self) -> ComposeResult:
        if self.approve:
            yield Field("note", "Note to the clerk", max_length=500, placeholder="optional")
        else:
            yield Field(
                "reason",
                "Why it is declined",
                required=True,
                max_length=500,
                placeholder="the clerk reads this",
            )

    def save(self, s: Any, values: dict[str, Any]) -> TimeOffView:
        if self.approve:
            return timeoff.approve_time_off(self.actor, s, self.request.id, values["note"])
        return timeoff.decline_time_off(self.actor, s, self.request.id, values["reason"])

    def saved_message(self, result: TimeOffView) -> str:
        return ""  # the list behind shows the decision


class TimeOffApprovalScreen(DbScreen):
    HELP_TITLE = "Time-off requests"
    HELP = (
        "Requests waiting for a decision, oldest first. a approves (the days become fixed days off "
        "for the roster), d declines with a reason the clerk reads. The last column says whether "
        "the clerk is already scheduled on those days. h also shows decided requests of the last "
        f"{HISTORY_DAYS} days."
    )
    DEFAULT_CSS = """
    TimeOffApprovalScreen #timeoff { height: 1fr; }
    TimeOffApprovalScreen #timeoff-detail { height: auto; max-height: 8; padding: 0 1; border-top: solid $primary 40%; }
    """
    BINDINGS = [
        Binding(
            "a", "approve", "Approve", id="timeoff_approval.approve", tooltip="Approve the selected request"
        ),
        Binding(
            "d",
            "decline",
            "Decline",
            id="timeoff_approval.decline",
            tooltip="Decline the selected request (a reason is required)",
        ),
        Binding(
            "h",
            "toggle_history",
            "Pending/all",
            id="timeoff_approval.history",
            tooltip="Show decided requests too, or only pending ones",
        ),
        Binding("escape", "back", "Back", id="timeoff_approval.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TimeOffView] = []
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Time-off requests", style="bold"), classes="title", id="timeoff-title")
        table: DataTable[str | Text] = DataTable(id="timeoff", cursor_type="row", zebra_stripes=True)
        table.tooltip = "a approves, d declines with a reason"
        yield table
        yield Static("", id="timeoff-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#timeoff", DataTable)
        t.add_columns("#", "Clerk", "Days off", "Days", "Status", "Scheduled then?")
        t.focus()
        self.reload()

    def reload(self) -> None:
        show_all = self.show_all
        since = office_today(self.cd_app.tz) - dt.timedelta(days=HISTORY_DAYS)

        def fetch(s: Any) -> list[TimeOffView]:
            if show_all:
                return timeoff.list_time_off(self.actor, s, start=dt.date(since.year, since.month, since.day))
            return timeoff.list_time_off(self.actor, s, status=RequestStatus.REQUESTED)

        self.db_call(fetch, self.show)

    def show(self, rows: list[TimeOffView]) -> None:
        self.rows = rows
        t = self.query_one("#timeoff", DataTable)
        keep = t.cursor_row
        t.clear()
        for r in rows:
            pending = r.status == RequestStatus.REQUESTED
            if r.status in (RequestStatus.REQUESTED, RequestStatus.APPROVED) and r.clashes:
                clash = Text(f"yes: {len(r.clashes)} day{'s' if len(r.clashes) != 1 else ''}", style="bold")
            else:
                clash = Text("no")
            t.add_row(
                str(r.id),
                Text(r.name),
                span(r),
                str(r.days),
                Text(r.status.value, style="bold" if pending else "dim"),
                clash,
                key=str(r.id),
            )
        if rows:
            t.move_cursor(row=min(keep, len(rows) - 1))
        waiting = sum(1 for r in rows if r.status == RequestStatus.REQUESTED)
        what = f"all requests of the last {HISTORY_DAYS} days" if self.show_all else "waiting for a decision"
        self.query_one("#timeoff-title", Static).update(
            Text.assemble(("Time-off requests", "bold"), f" · {what} · {waiting} pending")
        )
        self.show_detail()

    def selected(self) -> TimeOffView | None:
        t = self.query_one("#timeoff", DataTable)
        if t.row_count == 0:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((r for r in self.rows if str(r.id) == key), None)

    @on(DataTable.RowHighlighted, "#timeoff")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        r = self.selected()
        box = self.query_one("#timeoff-detail", Static)
        if r is None:
            box.update(
                Text("No requests are waiting for a decision." if not self.show_all else "No requests.")
            )
            return
        out = Text()
        out.append(f"#{r.id} {r.name} ({r.login}) · {span(r)} · {r.status.value}\n", style="bold")
        out.append("Reason: ")
        out.append(r.reason or "(none given)", style="italic")
        out.append(f" · asked {r.created_at.in_timezone(self.cd_app.tz).format('ddd D MMM HH:mm')}\n")
        if r.status in (RequestStatus.REQUESTED, RequestStatus.APPROVED):
            out.append(clash_text(r))
            out.append("\n")
        if r.decided_by:
            out.append(f"Decided by {r.decided_by}")
            if r.decision_reason:
                out.append(": ")
                out.append(r.decision_reason, style="italic")
            out.append("\n")
        box.update(out)

    def _decide(self, approve: bool) -> None:
        r = self.selected()
        if r is None:
            self.notify("Nothing selected", severity="warning")
            return
        if r.status != RequestStatus.REQUESTED:
            self.notify(f"Request #{r.id} is already {r.status.value}", severity="warning")
            return

        def done(view: TimeOffView | None) -> None:
            if view is None:
                return
            if view.status == RequestStatus.APPROVED:
                msg = f"Approved #{view.id} for {view.name}"
                if view.clashes:
                    days = ", ".join(short_day(d) for d in view.clashes)
                    msg += f"; already scheduled on {days}: move those shifts on the schedule grid"
                self.notify(
                    Text(msg).plain, markup=False, severity="warning" if view.clashes else "information"
                )
            else:
                self.notify(Text(f"Declined #{view.id} for {view.name}").plain, markup=False)
            self.reload()

        self.app.push_screen(DecisionDialog(r, approve), done)

    def action_approve(self) -> None:
        self._decide(True)

    def action_decline(self) -> None:
        self._decide(False)

    def action_toggle_history(self) -> None:
        self.show_all = not self.show_all
        self.reload()
