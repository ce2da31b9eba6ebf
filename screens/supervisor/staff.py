"""Staff: hire (add), edit and terminate (deactivate) clerks. Nobody is ever deleted."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from scheduling import staff
from scheduling.staff import StaffRow
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, ParseError
from tui.widgets.header import OfficeHeader
from tui.widgets.tables import Row, fill_table


def _hours(text: str) -> int:
    try:
        h = float(text.strip().replace(",", "."))
    except ValueError:
        raise ParseError(f"{text!r} is not a number of hours") from None
    if not 0 <= h <= 80:
        raise ParseError("must be between 0 and 80 hours a week")
    return round(h * 60)


class StaffForm(FormDialog[StaffRow]):
    """Add a user, or edit one (login is fixed once created: it is the Unix account)."""

    FORM_ID = "staff_form"

    def __init__(self, row: StaffRow | None, teams: list[str]) -> None:
        super().__init__()
        self.row = row
        self.teams = teams

    def heading(self) -> str:
        return f"Edit {self.row.login}" if self.row else "Add a person"

    def fields(self) -> ComposeResult:
        r = self.row
        if r is None:
            yield Field(
                "login", "Login (Unix account)", required=True, max_length=32, placeholder="e.g. jdoe"
            )
        yield Field("name", "Name", value=r.name if r else "", required=True, max_length=120)
        yield ChoiceField(
            "role",
            "Role",
            [("Clerk", "clerk"), ("Supervisor", "supervisor")],
            value=r.role.value if r else "clerk",
            required=True,
        )
        yield ChoiceField(
            "team", "Team", [(t, t) for t in self.teams], value=r.team if r and r.team else None
        )
        yield Field(
            "skills",
            "Skills",
            placeholder="insurer, government, employer, other, lang:es",
            value=",".join(r.skills) if r else "",
            max_length=200,
        )
        yield Field(
            "hours",
            "Contracted hours per week",
            parse=_hours,
            required=True,
            value=f"{r.contracted_minutes / 60:g}" if r else "40",
        )
        yield Field("email", "E-mail", value=r.email if r else "", max_length=200)

    def save(self, s: Any, values: dict[str, Any]) -> StaffRow:
        r = self.row
        common = dict(
            name=values["name"],
            role=values["role"],
            team=values["team"],
            skills=values["skills"],
            contracted_minutes=values["hours"],
            email=values["email"],
        )
        if r is None:
            return staff.add_user(self.actor, s, login=values["login"], **common)
        return staff.edit_user(self.actor, s, r.login, expected_version=r.version, **common)

    def saved_message(self, result: StaffRow) -> str:
        return f"Saved {result.login}"


class StaffScreen(DbScreen):
    HELP_TITLE = "Staff"
    HELP = "Everyone who works here. Deactivating keeps the person's history; nobody is deleted."
    BINDINGS = [
        Binding("a", "add", "Add", id="staff.add", tooltip="Hire: add a clerk or supervisor"),
        Binding("e", "edit", "Edit", id="staff.edit", tooltip="Edit the selected person"),
        Binding(
            "d",
            "deactivate",
            "Deactivate",
            id="staff.deactivate",
            tooltip="Terminate the selected person (history is kept)",
        ),
        Binding(
            "i",
            "toggle_inactive",
            "Show inactive",
            id="staff.inactive",
            tooltip="Show or hide deactivated people",
        ),
        Binding("slash", "filter", "Filter", id="staff.filter", tooltip="Filter by name, login or team"),
        Binding("escape", "back", "Back", id="staff.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StaffRow] = []
        self.teams: list[str] = []
        self.include_inactive = False

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Staff", style="bold"), classes="title")
        yield Input(placeholder="Filter by name, login or team…", id="filter")
        table: DataTable[str | Text] = DataTable(id="staff", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="count", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#staff", DataTable)
        t.add_columns("Login", "Name", "Role", "Hours/wk", "Status", "Team", "Skills")
        t.focus()
        self.query_one("#filter", Input).display = False
        self.reload()

    def reload(self) -> None:
        inactive = self.include_inactive
        self.db_call(
            lambda s: (
                staff.list_users(self.actor, s, include_inactive=inactive),
                staff.list_teams(self.actor, s),
            ),
            self.show,
        )

    def show(self, result: tuple[list[StaffRow], list[str]]) -> None:
        self.rows, self.teams = result
        self.render_rows()

    def render_rows(self) -> None:
        t = self.query_one("#staff", DataTable)
        keep = t.cursor_row
        needle = self.query_one("#filter", Input).value.strip().lower()
        rows: list[Row] = []
        for r in self.rows:
            if needle and needle not in f"{r.login} {r.name} {r.team}".lower():
                continue
            status = Text("active") if r.active else Text(f"left {r.termination_date}", style="dim")
            rows.append(
                (
                    r.login,
                    [
                        r.login,
                        Text(r.name),
                        r.role.value,
                        r.contracted_hours,
                        status,
                        Text(r.team),
                        ", ".join(r.skills),
                    ],
                )
            )
        # Widths follow what is shown now: a long name, once shortened, no longer widens the column.
        fill_table(t, rows)
        shown = len(rows)
        if shown:
            t.move_cursor(row=min(keep, shown - 1))
        self.query_one("#count", Static).update(f"{shown} shown of {len(self.rows)}")

    def selected(self) -> StaffRow | None:
        t = self.query_one("#staff", DataTable)
        if t.row_count == 0:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.login == key), None)

    def _after_form(self, saved: StaffRow | None) -> None:
        if saved:
            self.reload()

    def action_add(self) -> None:
        self.app.push_screen(StaffForm(None, self.teams), self._after_form)

    def action_edit(self) -> None:
        row = self.selected()
        if row is not None:
            self.app.push_screen(StaffForm(row, self.teams), self._after_form)

    def action_deactivate(self) -> None:
        row = self.selected()
        if row is None:
            return
        if not row.active:
            self.notify(f"{row.login} is already deactivated", severity="warning")
            return

        def deactivated(r: StaffRow) -> None:
            self.notify(f"Deactivated {r.login}")
            self.reload()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.db_call(
                    lambda s: staff.deactivate_user(self.actor, s, row.login), deactivated, write=True
                )

        # Refusals (yourself, no right) come before the question, not after the answer.
        self.db_call(
            lambda s: staff.check_deactivate(self.actor, s, row.login),
            lambda _: self.app.push_screen(
                ConfirmDialog(
                    f"Deactivate {row.name}?",
                    f"{row.login} will no longer be able to log in to ClerkDesk from today. "
                    "Their clients, shifts, timecards and history stay as they are.",
                    "Deactivate",
                ),
                confirmed,
            ),
        )

    def action_toggle_inactive(self) -> None:
        self.include_inactive = not self.include_inactive
        self.reload()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self.render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one("#staff", DataTable).focus()

    @on(DataTable.RowSelected, "#staff")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or box.value:
            box.value = ""
            box.display = False
            self.query_one("#staff", DataTable).focus()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
