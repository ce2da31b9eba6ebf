"""My records: the discipline records about me (verbal notes, warnings, coaching) and my
attendance incidents. I read each record and acknowledge it (once); the service lets nobody
acknowledge someone else's record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from db.timeutil import office_today
from scheduling import attendance
from scheduling.attendance import DisciplineView, IncidentView
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

HISTORY_DAYS = 90


def incident_text(i: IncidentView) -> str:
    if i.kind.value == "absent":
        return "absent"
    return f"{attendance.KIND_WORDS[i.kind]} {i.minutes} min"


class MyRecordsScreen(DbScreen):
    HELP_TITLE = "My records"
    HELP = (
        "Discipline records about you (verbal notes, written or final warnings, coaching), newest "
        "first, and your attendance incidents of the last "
        f"{HISTORY_DAYS} days. a acknowledges the highlighted record: you confirm you have read it "
        "(it does not mean you agree). Talk to your supervisor about anything that looks wrong."
    )
    BINDINGS = [
        Binding(
            "a",
            "acknowledge",
            "Acknowledge",
            id="my_records.acknowledge",
            tooltip="Confirm that you have read the record",
        ),
        Binding("escape", "back", "Back", id="my_records.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: list[DisciplineView] = []
        self.incidents: list[IncidentView] = []

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("My records", style="bold"), classes="title", id="myrec-title")
        records: DataTable[str | Text] = DataTable(id="myrec-records", cursor_type="row", zebra_stripes=True)
        records.tooltip = "a acknowledges the highlighted record"
        yield records
        yield Static("", id="myrec-detail", classes="time-head")
        yield Static(
            Text(f"My attendance incidents, last {HISTORY_DAYS} days", style="bold"), classes="title"
        )
        yield DataTable(id="myrec-incidents", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#myrec-records", DataTable)
        for label, width in (("Date", 10), ("Kind", 15), ("From", 8), ("Acknowledged", 12), ("Reason", 60)):
            t.add_column(label, width=width)
        inc = self.query_one("#myrec-incidents", DataTable)
        for label, width in (("Day", 10), ("Incident", 22)):
            inc.add_column(label, width=width)
        t.focus()
        self.reload()

    def reload(self) -> None:
        today = office_today(self.cd_app.tz)
        first = dt.date(today.year, today.month, today.day) - dt.timedelta(days=HISTORY_DAYS)

        def fetch(s: Any) -> tuple[list[DisciplineView], list[IncidentView]]:
            return (
                attendance.discipline_records(self.actor, s),
                attendance.list_incidents(self.actor, s, first=first),
            )

        self.db_call(fetch, self.show)

    def show(self, result: tuple[list[DisciplineView], list[IncidentView]]) -> None:
        self.records, self.incidents = result
        t = self.query_one("#myrec-records", DataTable)
        keep = t.cursor_row
        t.clear()
        for r in self.records:
            ack = (
                Text(r.acknowledged_at.in_timezone(self.cd_app.tz).format("YYYY-MM-DD"))
                if r.acknowledged_at
                else Text("NOT YET", style="bold reverse")
            )
            t.add_row(
                r.day.isoformat(), Text(r.kind_text), Text(r.recorded_by), ack, Text(r.reason), key=str(r.id)
            )
        if self.records:
            t.move_cursor(row=min(max(keep, 0), len(self.records) - 1))
        waiting = sum(1 for r in self.records if r.acknowledged_at is None)
        self.query_one("#myrec-title", Static).update(
            Text.assemble(
                ("My records", "bold"),
                f" · {len(self.records)} record{'s' if len(self.records) != 1 else ''}",
                (f" · {waiting} to acknowledge", "bold") if waiting else "",
            )
        )
        inc = self.query_one("#myrec-incidents", DataTable)
        inc.clear()
        for i in self.incidents:
            inc.add_row(i.day.isoformat(), incident_text(i), key=str(i.id))
        self.show_detail()

    def selected(self) -> DisciplineView | None:
        t = self.query_one("#myrec-records", DataTable)
        row = t.cursor_row
        return self.records[row] if t.row_count and 0 <= row < len(self.records) else None

    @on(DataTable.RowHighlighted, "#myrec-records")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        r = self.selected()
        box = self.query_one("#myrec-detail", Static)
        if r is None:
            box.update(Text("There are no discipline records about you.", style="dim"))
            return
        out = Text()
        out.append(f"{r.kind_text.capitalize()} of {r.day.isoformat()} from {r.recorded_by}: ", style="bold")
        out.append(r.reason)
        if r.incidents:
            out.append(
                "\nAbout: " + ", ".join(f"{i.day.isoformat()} {incident_text(i)}" for i in r.incidents)
            )
        if r.acknowledged_at:
            out.append(
                f"\nYou acknowledged it on {r.acknowledged_at.in_timezone(self.cd_app.tz).format('YYYY-MM-DD HH:mm')}."
            )
        else:
            out.append("\nNot acknowledged yet: a confirms you have read it.", style="bold")
        box.update(out)

    def action_acknowledge(self) -> None:
        r = self.selected()
        if r is None:
            self.notify("There is no record to acknowledge", severity="warning")
            return
        if r.acknowledged_at is not None:
            self.notify("You acknowledged this record already", severity="warning")
            return
        rid = r.id

        def done(view: DisciplineView) -> None:
            self.notify(f"Acknowledged the {view.kind_text} of {view.day.isoformat()}")
            self.reload()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.db_call(
                    lambda s: attendance.acknowledge_discipline(self.actor, s, rid), done, write=True
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Acknowledge the {r.kind_text} of {r.day.isoformat()}?",
                f"From {r.recorded_by}: {r.reason}\n\nYou confirm that you have read it; the date is "
                "recorded. It does not mean you agree; talk to your supervisor about that.",
                "Acknowledge",
            ),
            confirmed,
        )
