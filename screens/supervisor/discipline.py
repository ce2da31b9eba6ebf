"""Attendance and discipline (supervisor): incidents, discipline records, rule suggestions.

Incidents (late beyond grace, left early, absent) come from clock events against the published
schedule (``scheduling.attendance.record_incidents``, normally the nightly job; ``i`` runs it
for a day). The supervisor records a verbal note, a written or final warning, or coaching,
with a reason and the incidents it answers. The office's rules ("3 lates in 30 days → written
warning") only SUGGEST: a suggestion fills the form, and nothing is recorded until the
supervisor saves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, SelectionList, Static

from db.enums import DisciplineKind, Role
from db.timeutil import office_today
from scheduling import attendance, staff
from scheduling.attendance import (
    DISCIPLINE_WORDS,
    KIND_WORDS,
    DisciplineView,
    IncidentRun,
    IncidentView,
    Suggestion,
)
from scheduling.staff import StaffRow
from screens.common.time_view import InfoDialog
from tui.widgets.base import DbScreen
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, parse_date
from tui.widgets.header import OfficeHeader

HISTORY_DAYS = 90  # how far back a person's incidents are listed
KIND_CHOICES = [(DISCIPLINE_WORDS[k], k.value) for k in DisciplineKind]


def incident_words(i: IncidentView) -> str:
    if i.minutes and i.kind.value != "absent":
        return f"{KIND_WORDS[i.kind]} {i.minutes} min"
    return KIND_WORDS[i.kind]


@dataclass(frozen=True)
class Person:
    id: int
    login: str
    name: str


class DisciplineForm(FormDialog[DisciplineView]):
    """Record discipline for one person, linked to incidents picked from theirs."""

    FORM_ID = "discipline_form"
    SAVE_LABEL = "Record"
    SUBMIT_ON_ENTER = True

    def __init__(
        self,
        person: Person,
        incidents: list[IncidentView],
        linked: dict[int, int],
        today: dt.date,
        suggestion: Suggestion | None = None,
    ) -> None:
        super().__init__()
        self.person = person
        self.incidents = incidents
        self.linked = linked  # incident id → the discipline record it is already on
        self.today = today
        self.suggestion = suggestion
        self.picked: list[int] = []  # the incidents marked when save was asked for

    def heading(self) -> str:
        return f"Record discipline for {self.person.name} ({self.person.login})"

    def intro(self) -> Iterable[Widget]:
        sug = self.suggestion
        if sug is not None:
            yield Static(
                Text.assemble(
                    ("Suggested by the rule ", "bold"), sug.rule.text, ". Nothing is recorded until you save."
                )
            )

    def fields(self) -> ComposeResult:
        sug = self.suggestion
        picked = {i.id for i in sug.incidents} if sug else set()
        yield ChoiceField(
            "kind", "Kind", KIND_CHOICES, value=(sug.rule.suggests.value if sug else None), required=True
        )
        yield Field("day", "Date (YYYY-MM-DD)", value=self.today.isoformat(), parse=parse_date, required=True)
        yield Field("reason", "Reason", required=True, max_length=2000, placeholder="the clerk reads this")
        yield Static(
            Text(f"Linked incidents (space marks; last {HISTORY_DAYS} days)", style="bold"),
            classes="section-title",
        )
        choices: list[tuple[Text, int, bool]] = []
        for i in self.incidents:
            label = Text(f"{i.day.isoformat()}  {incident_words(i)}")
            if i.id in self.linked:
                label.append(f"  (on record #{self.linked[i.id]})", style="dim")
            choices.append((label, i.id, i.id in picked))
        sel: SelectionList[int] = SelectionList(*choices, id="disc-incidents-pick")
        sel.display = bool(choices)
        yield sel
        if not choices:
            yield Static(Text(f"No incidents in the last {HISTORY_DAYS} days.", style="dim"))

    def start_focus(self) -> Widget:
        return self.query_one("#input-reason", Input)

    def action_save(self) -> None:
        # Read the marks here, in the UI thread; the save runs in a worker.
        self.picked = list(self.query_one("#disc-incidents-pick", SelectionList).selected)
        super().action_save()

    def save(self, s: Any, values: dict[str, Any]) -> DisciplineView:
        return attendance.record_discipline(
            self.actor,
            s,
            self.person.id,
            values["kind"],
            values["reason"],
            day=values["day"],
            incident_ids=self.picked,
        )

    def saved_message(self, result: DisciplineView) -> str:
        return ""  # the screen behind says what was recorded


class IncidentRunDialog(FormDialog[IncidentRun]):
    """Record a day's incidents now (the nightly job does the same; running it twice is harmless)."""

    FORM_ID = "incident_run"
    SAVE_LABEL = "Record"
    WIDE = False
    SUBMIT_ON_ENTER = True
    FIELD_ALIASES = {"date": "day"}

    def __init__(self, day: dt.date) -> None:
        super().__init__()
        self.day = day

    def heading(self) -> str:
        return "Record attendance incidents"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                "Compares the day's clock events with the published schedule: late beyond the "
                "grace, left early, absent. Incidents already recorded are not added twice."
            )
        )

    def fields(self) -> ComposeResult:
        yield Field("day", "Day (YYYY-MM-DD)", value=self.day.isoformat(), parse=parse_date, required=True)

    def save(self, s: Any, values: dict[str, Any]) -> IncidentRun:
        return attendance.record_incidents(self.actor, s, values["day"])

    def saved_message(self, result: IncidentRun) -> str:
        return ""  # the screen behind shows the run's result


class DisciplineScreen(DbScreen):
    HELP_TITLE = "Attendance & discipline"
    HELP = (
        "Suggestions from the office's rules come first (e.g. 3 lates in 30 days → written "
        "warning); they are never applied by themselves: u (or enter in that list) opens the form filled in, "
        "and nothing is recorded until you save. Below: the people, and for the highlighted one "
        f"their incidents of the last {HISTORY_DAYS} days and their discipline records. r records "
        "discipline for the highlighted person with a reason and the incidents it answers; i records "
        "a day's incidents from the clock events; tab moves between the lists."
    )
    BINDINGS = [
        Binding(
            "r",
            "record",
            "Record",
            id="discipline.record",
            tooltip="Record discipline for the highlighted person",
        ),
        Binding(
            "u",
            "use_suggestion",
            "Use suggestion",
            id="discipline.suggestion",
            tooltip="Open the form filled in from the highlighted suggestion (enter in the list too)",
        ),
        Binding(
            "i",
            "incidents",
            "Incidents",
            id="discipline.incidents",
            tooltip="Record a day's attendance incidents now",
        ),
        Binding("escape", "back", "Back", id="discipline.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.people: list[Person] = []
        self.suggestions: list[Suggestion] = []
        self.incidents: list[IncidentView] = []
        self.records: list[DisciplineView] = []
        self.counts: dict[int, int] = {}
        self.shown_for: int | None = None
        self.focus_user: int | None = None  # after recording, show that person
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Attendance & discipline", style="bold"), classes="title", id="disc-title")
        sug: DataTable[str | Text] = DataTable(id="disc-suggestions", cursor_type="row")
        sug.tooltip = "Suggestions from the rules: enter opens the form filled in (never automatic)"
        yield sug
        with Horizontal(id="disc-body"):
            people: DataTable[str | Text] = DataTable(id="disc-people", cursor_type="row", zebra_stripes=True)
            people.tooltip = "r records discipline for the highlighted person"
            yield people
            with Vertical(id="disc-side"):
                yield Static("", id="disc-person", classes="time-head")
                yield Static(
                    Text(f"Incidents, last {HISTORY_DAYS} days", style="bold"), classes="time-section"
                )
                inc: DataTable[str | Text] = DataTable(id="disc-incidents", cursor_type="row")
                inc.tooltip = f"Incidents of the last {HISTORY_DAYS} days"
                yield inc
                yield Static(Text("Discipline records", style="bold"), classes="time-section")
                rec: DataTable[str | Text] = DataTable(id="disc-records", cursor_type="row")
                rec.tooltip = "Discipline records, newest first"
                yield rec
        yield KeyFooter()

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#disc-suggestions", (("Clerk", 18), ("Suggestion (not applied)", 54))),
            ("#disc-people", (("Name", 16), ("30 d", 4))),
            ("#disc-incidents", (("Day", 10), ("Incident", 16), ("On record", 9))),
            ("#disc-records", (("Date", 10), ("Kind", 15), ("By", 8), ("Ack", 10), ("Reason", 40))),
        ):
            t = self.query_one(table_id, DataTable)
            for label, width in columns:
                t.add_column(label, width=width)
        self.query_one("#disc-people", DataTable).focus()
        self.reload()

    @property
    def today(self) -> dt.date:
        t = office_today(self.cd_app.tz)
        return dt.date(t.year, t.month, t.day)

    def reload(self) -> None:
        today = self.today

        def fetch(s: Any) -> tuple[list[StaffRow], list[Suggestion], list[IncidentView]]:
            people = staff.list_users(self.actor, s)
            sugs = attendance.discipline_suggestions(self.actor, s)
            recent = attendance.list_incidents(self.actor, s, first=today - dt.timedelta(days=29))
            return people, sugs, recent

        self.db_call(fetch, self.show)

    def show(self, result: tuple[list[StaffRow], list[Suggestion], list[IncidentView]]) -> None:
        rows, self.suggestions, recent = result
        people = [r for r in rows if r.id != self.actor.user_id]
        people.sort(key=lambda r: (r.role != Role.CLERK, r.name))
        self.people = [Person(r.id, r.login, r.name) for r in people]
        self.counts = {}
        for i in recent:
            self.counts[i.user_id] = self.counts.get(i.user_id, 0) + 1
        sug = self.query_one("#disc-suggestions", DataTable)
        sug.clear()
        for n, s in enumerate(self.suggestions):
            sug.add_row(
                Text(s.name),
                Text(
                    f"{len(s.incidents)} × {KIND_WORDS[s.rule.incident_kind]} in {s.rule.window_days} days "
                    f"→ {DISCIPLINE_WORDS[s.rule.suggests]} suggested",
                    style="bold",
                ),
                key=str(n),
            )
        sug.display = bool(self.suggestions)
        t = self.query_one("#disc-people", DataTable)
        keep = t.cursor_row
        t.clear()
        for p in self.people:
            n = self.counts.get(p.id, 0)
            t.add_row(Text(p.name), Text(str(n), style="bold") if n else "", key=str(p.id))
        if self.focus_user is not None:
            keep = next((n for n, p in enumerate(self.people) if p.id == self.focus_user), keep)
            self.focus_user = None
        if self.people:
            t.move_cursor(row=min(max(keep, 0), len(self.people) - 1))
        count = len(self.suggestions)
        self.query_one("#disc-title", Static).update(
            Text.assemble(
                ("Attendance & discipline", "bold"),
                " · ",
                (f"{count} suggestion{'s' if count != 1 else ''}", "bold" if count else ""),
                " from the rules (never automatic)",
            )
        )
        self.load_person()

    def selected_person(self) -> Person | None:
        t = self.query_one("#disc-people", DataTable)
        row = t.cursor_row
        return self.people[row] if 0 <= row < len(self.people) and t.row_count else None

    @on(DataTable.RowHighlighted, "#disc-people")
    def _person_moved(self, event: DataTable.RowHighlighted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.15, self.load_person)

    def load_person(self) -> None:
        p = self.selected_person()
        if p is None:
            self.query_one("#disc-person", Static).update(Text("Nobody to show.", style="dim"))
            return
        first = self.today - dt.timedelta(days=HISTORY_DAYS)

        def fetch(s: Any) -> tuple[Person, list[IncidentView], list[DisciplineView]]:
            return (
                p,
                attendance.list_incidents(self.actor, s, user_id=p.id, first=first),
                attendance.discipline_records(self.actor, s, p.id),
            )

        self.db_call(fetch, self.show_person, group="person")

    def linked(self) -> dict[int, int]:
        return {i.id: r.id for r in self.records for i in r.incidents}

    def show_person(self, result: tuple[Person, list[IncidentView], list[DisciplineView]]) -> None:
        p, incidents, records = result
        current = self.selected_person()
        if current is not None and current.id != p.id:
            return  # a slower answer for someone the cursor has already left
        self.incidents, self.records = incidents, records
        self.shown_for = p.id
        linked = self.linked()
        open_count = sum(1 for i in self.incidents if i.id not in linked)
        self.query_one("#disc-person", Static).update(
            Text.assemble(
                (f"{p.name} ({p.login})", "bold"),
                f" · {len(self.incidents)} incidents in {HISTORY_DAYS} days, {open_count} not on any record"
                f" · {len(self.records)} records",
            )
        )
        inc = self.query_one("#disc-incidents", DataTable)
        inc.clear()
        for i in self.incidents:
            inc.add_row(
                i.day.isoformat(),
                Text(incident_words(i), style="" if i.id in linked else "bold"),
                f"#{linked[i.id]}" if i.id in linked else "",
                key=str(i.id),
            )
        rec = self.query_one("#disc-records", DataTable)
        rec.clear()
        for r in self.records:
            ack = (
                Text(r.acknowledged_at.in_timezone(self.cd_app.tz).format("YYYY-MM-DD"))
                if r.acknowledged_at
                else Text("not yet", style="bold")
            )
            rec.add_row(
                r.day.isoformat(), Text(r.kind_text), Text(r.recorded_by), ack, Text(r.reason), key=str(r.id)
            )

    # ------------------------------------------------------------------ actions

    def _recorded(self, view: DisciplineView | None) -> None:
        if view is None:
            return
        self.notify(Text(f"Recorded a {view.kind_text} for {view.login} (#{view.id})").plain, markup=False)
        self.focus_user = view.user_id
        self.reload()

    def _open_form(self, person: Person, suggestion: Suggestion | None) -> None:
        first = self.today - dt.timedelta(days=HISTORY_DAYS)

        def fetch(s: Any) -> tuple[list[IncidentView], list[DisciplineView]]:
            return (
                attendance.list_incidents(self.actor, s, user_id=person.id, first=first),
                attendance.discipline_records(self.actor, s, person.id),
            )

        def ready(result: tuple[list[IncidentView], list[DisciplineView]]) -> None:
            incidents, records = result
            linked = {i.id: r.id for r in records for i in r.incidents}
            # A suggestion's incidents may be older than the list reaches: keep them pickable.
            have = {i.id for i in incidents}
            extra = [i for i in (suggestion.incidents if suggestion else ()) if i.id not in have]
            self.app.push_screen(
                DisciplineForm(person, incidents + extra, linked, self.today, suggestion), self._recorded
            )

        self.db_call(fetch, ready, group="form")

    def action_record(self) -> None:
        p = self.selected_person()
        if p is None:
            self.notify("Nobody selected", severity="warning")
            return
        self._open_form(p, None)

    def action_use_suggestion(self) -> None:
        t = self.query_one("#disc-suggestions", DataTable)
        if not self.suggestions:
            self.notify("No suggestions from the rules right now", severity="warning")
            return
        row = t.cursor_row if 0 <= t.cursor_row < len(self.suggestions) else 0
        s = self.suggestions[row]
        self._open_form(Person(s.user_id, s.login, s.name), s)

    @on(DataTable.RowSelected, "#disc-suggestions")
    def _suggestion_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_use_suggestion()

    def action_incidents(self) -> None:
        def done(run: IncidentRun | None) -> None:
            if run is None:
                return
            body = Text(f"{len(run.created)} new, {run.already_recorded} already recorded\n")
            for i in run.created:
                body.append(f"\n  {i.login}: {i.text}")
            self.app.push_screen(InfoDialog(f"Incidents of {run.day.isoformat()}", body))
            self.reload()

        self.app.push_screen(IncidentRunDialog(self.today - dt.timedelta(days=1)), done)
