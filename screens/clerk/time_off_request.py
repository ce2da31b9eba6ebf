"""My time off (clerk): ask for days off, see my requests and their status, cancel one (docs/schedule.md)."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Static

from db.enums import RequestStatus
from db.errors import ConflictError
from db.timeutil import office_today
from scheduling import timeoff
from scheduling.timeoff import TimeOffView
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import collect_or_mark, show_refusal
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form, parse_date
from tui.widgets.header import OfficeHeader

WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LIST_LIMIT = 200  # one clerk's requests: a few a year


def short_day(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b} {d.year}"


class TimeOffRequestScreen(DbScreen):
    HELP_TITLE = "My time off"
    HELP = (
        "Ask for days off: first and last day (YYYY-MM-DD) and a reason, then ctrl+s. A supervisor "
        "approves or declines (with a reason you can read below). Tab moves between the form and "
        "your requests; c cancels the selected request while it is pending (or approved and not "
        "yet begun)."
    )
    DEFAULT_CSS = """
    TimeOffRequestScreen #to-form { height: auto; padding: 0 1; }
    TimeOffRequestScreen #to-form .buttons { height: auto; align-horizontal: right; }
    TimeOffRequestScreen #to-list { height: 1fr; }
    TimeOffRequestScreen #to-detail { height: auto; max-height: 5; padding: 0 1; border-top: solid $primary 40%; }
    """
    BINDINGS = [
        Binding(
            "ctrl+s",
            "submit",
            "Ask",
            id="time_off_request.submit",
            tooltip="Send the request to a supervisor",
        ),
        Binding(
            "c",
            "cancel_request",
            "Cancel request",
            id="time_off_request.cancel",
            tooltip="Withdraw the selected request (from the list)",
        ),
        Binding("escape", "back", "Back", id="time_off_request.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TimeOffView] = []

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("My time off", style="bold"), classes="title")
        with Vertical(id="to-form"), Form():
            yield Static("", id="form-problem", classes="form-problem")
            tomorrow = self.today() + dt.timedelta(days=1)
            yield Field(
                "start_date",
                "First day off",
                parse=parse_date,
                required=True,
                placeholder=f"YYYY-MM-DD, e.g. {tomorrow}",
            )
            yield Field(
                "end_date",
                "Last day off",
                parse=parse_date,
                required=True,
                placeholder=f"YYYY-MM-DD, e.g. {tomorrow}",
            )
            yield Field("reason", "Reason", max_length=500, placeholder="optional; your supervisor sees it")
            with Horizontal(classes="buttons"):
                yield Button("Ask (ctrl+s)", variant="primary", id="ask", compact=True)
        yield Static(Text("My requests", style="bold"), classes="title")
        table: DataTable[str | Text] = DataTable(id="to-list", cursor_type="row", zebra_stripes=True)
        table.tooltip = "c cancels the selected request"
        yield table
        yield Static("", id="to-detail")
        yield KeyFooter()

    def today(self) -> dt.date:
        t = office_today(self.cd_app.tz)
        return dt.date(t.year, t.month, t.day)

    def on_mount(self) -> None:
        t = self.query_one("#to-list", DataTable)
        t.add_columns("#", "Days off", "Days", "Status", "Decision")
        self.query_one("#field-start_date Input", Input).focus()
        self.reload()

    def reload(self) -> None:
        self.db_call(
            lambda s: timeoff.list_time_off(self.actor, s, login=self.actor.login, limit=LIST_LIMIT),
            self.show,
        )

    def show(self, rows: list[TimeOffView]) -> None:
        # Newest first: what a clerk looks for is the request they just made.
        self.rows = sorted(rows, key=lambda r: (r.start_date, r.id), reverse=True)
        t = self.query_one("#to-list", DataTable)
        keep = t.cursor_row
        t.clear()
        for r in self.rows:
            when = (
                short_day(r.start_date)
                if r.days == 1
                else f"{short_day(r.start_date)} – {short_day(r.end_date)}"
            )
            status = Text(r.status.value, style="bold" if r.status == RequestStatus.REQUESTED else "")
            decision = Text(r.decision_reason or "", style="italic")
            t.add_row(str(r.id), Text(when), str(r.days), status, decision, key=str(r.id))
        if self.rows:
            t.move_cursor(row=min(keep, len(self.rows) - 1))
        self.show_detail()

    def selected(self) -> TimeOffView | None:
        t = self.query_one("#to-list", DataTable)
        if t.row_count == 0:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((r for r in self.rows if str(r.id) == key), None)

    @on(DataTable.RowHighlighted, "#to-list")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        r = self.selected()
        box = self.query_one("#to-detail", Static)
        if r is None:
            box.update(Text("You have not asked for time off yet.", style="dim"))
            return
        out = Text()
        out.append(f"#{r.id} · {r.status.value}", style="bold")
        out.append(" · reason: ")
        out.append(r.reason or "(none)", style="italic")
        if r.decided_by:
            out.append(f"\nDecided by {r.decided_by}")
            if r.decision_reason:
                out.append(": ")
                out.append(r.decision_reason, style="italic")
        box.update(out)

    def problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or ""))
        box.display = bool(message)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ask")
    def action_submit(self) -> None:
        # The form sits on the screen (the list of requests below it), so it uses the form base's
        # two halves rather than the dialog.
        form = self.query_one(Form)
        values = collect_or_mark(form, self.problem)
        if values is None:
            return

        def failed(exc: BaseException) -> None:
            if not show_refusal(form, exc, self.problem):
                self.cd_app.show_error(exc)

        def done(r: TimeOffView) -> None:
            for f in form.fields():
                f.input.value = ""  # type: ignore[attr-defined]  # every field of this form wraps an Input
            self.notify(Text(f"Asked for {r.days} day{'s' if r.days != 1 else ''} off (#{r.id})").plain)
            self.reload()

        self.db_call(
            lambda s: timeoff.request_time_off(
                self.actor, s, values["start_date"], values["end_date"], values["reason"]
            ),
            done,
            write=True,
            on_error=failed,
        )

    def action_cancel_request(self) -> None:
        r = self.selected()
        if r is None:
            self.notify("You have no request to cancel", severity="warning")
            return
        if r.status not in (RequestStatus.REQUESTED, RequestStatus.APPROVED):
            self.notify(f"Request #{r.id} is already {r.status.value}", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def failed(exc: BaseException) -> None:
                self.cd_app.show_error(exc)
                if isinstance(exc, ConflictError):
                    self.reload()

            def cancelled(v: TimeOffView) -> None:
                self.notify(f"Cancelled request #{v.id}")
                self.reload()

            self.db_call(
                lambda s: timeoff.cancel_time_off(self.actor, s, r.id),
                cancelled,
                write=True,
                on_error=failed,
            )

        when = (
            short_day(r.start_date) if r.days == 1 else f"{short_day(r.start_date)} – {short_day(r.end_date)}"
        )
        state = "pending" if r.status == RequestStatus.REQUESTED else "approved"
        self.app.push_screen(
            ConfirmDialog(
                "Withdraw this time-off request?",
                f"Your {state} request #{r.id} for {when} ({r.days} day{'s' if r.days != 1 else ''}) "
                "will be cancelled; to have those days off you would have to ask again.",
                "Withdraw",
            ),
            confirmed,
        )
