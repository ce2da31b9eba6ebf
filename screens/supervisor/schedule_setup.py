"""Schedule set-up (supervisor): shift types, coverage wanted, roster rules, holidays (docs/schedule.md).

Four tabs (1–4). Each lists what the roster builder works from; ``a`` adds, ``e``/Enter edits,
``d`` removes (a shift type is retired instead: its past shifts keep it). Forms keep what was
typed when the service refuses it and say which field is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from db.enums import Role
from db.timeutil import office_today
from scheduling import shifts, staff
from scheduling.shifts import CoverageView, HolidayView, RuleView, ShiftTypeView, fmt_hm
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, ParseError, parse_date, parse_int, parse_time
from tui.widgets.header import OfficeHeader

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TABS = ("types", "coverage", "rules", "holidays")


# --------------------------------------------------------------------------- parsing helpers


def parse_hours(text: str) -> int:
    """'40' or '37.5' or '37:30' hours a week → minutes."""
    t = text.strip()
    try:
        if ":" in t:
            h, m = t.split(":")
            minutes = int(h) * 60 + int(m)
        else:
            minutes = round(float(t.replace(",", ".")) * 60)
    except ValueError:
        raise ParseError(f"{text!r} is not a number of hours (e.g. 40 or 37:30)") from None
    if not 0 <= minutes <= 7 * 24 * 60:
        raise ParseError("must be between 0 and 168 hours a week")
    return minutes


def parse_max_shifts(text: str) -> dict[str, int]:
    """'E=5, L=0' → {'E': 5, 'L': 0}."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9]{0,3})\s*=\s*(\d{1,2})", part)
        if not m:
            raise ParseError(f"{part!r}: write CODE=number, e.g. E=5, L=0 (0 = not qualified)")
        out[m.group(1).upper()] = int(m.group(2))
    return out


def parse_sequences(text: str) -> list[tuple[str, str]]:
    """'L>E, L>M' → [('L', 'E'), ('L', 'M')]: no E (or M) the day after an L."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9]{0,3})\s*>\s*([A-Za-z][A-Za-z0-9]{0,3})", part)
        if not m:
            raise ParseError(f"{part!r}: write TODAY>TOMORROW, e.g. L>E (no E the day after an L)")
        out.append((m.group(1).upper(), m.group(2).upper()))
    return out


def parse_weekdays(text: str) -> list[int]:
    """'Sat, Sun' → [5, 6]."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        key = part[:3].capitalize()
        if key not in WEEKDAYS:
            raise ParseError(f"{part!r} is not a weekday (Mon … Sun)")
        out.append(WEEKDAYS.index(key))
    return sorted(set(out))


def _opt(v: int | None) -> str:
    return "" if v is None else str(v)


def _hours(v: int | None) -> str:
    return "" if v is None else fmt_hm(v)


def describe_rule(r: RuleView) -> list[str]:
    hours = "–".join([_hours(r.min_minutes) or "any", _hours(r.max_minutes) or "any"])
    run = "–".join([_opt(r.min_consecutive_work) or "1", _opt(r.max_consecutive_work) or "any"])
    return [
        f"team {r.team}" if r.team else f"clerk {r.login}",
        hours if (r.min_minutes is not None or r.max_minutes is not None) else "",
        ", ".join(f"{k}={v}" for k, v in sorted(r.max_shifts.items())),
        run if (r.min_consecutive_work or r.max_consecutive_work) else "",
        _opt(r.min_consecutive_off),
        _opt(r.max_weekends),
        ", ".join(f"{a}>{b}" for a, b in r.forbidden_sequences),
        ", ".join(WEEKDAYS[d] for d in r.fixed_days_off),
    ]


# --------------------------------------------------------------------------- forms


class SetupForm(FormDialog[bool]):
    """A set-up dialog: subclasses give the fields and the service call; True once saved."""

    FORM_ID = "schedule_setup_form"
    SUBMIT_ON_ENTER = True
    TITLE_TEXT = ""
    NOTE = ""

    def heading(self) -> str:
        return self.TITLE_TEXT

    def intro(self) -> Iterable[Widget]:
        if self.NOTE:
            yield Static(Text(self.NOTE, style="dim"))

    def call(self, s: Any, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def save(self, s: Any, values: dict[str, Any]) -> bool:
        self.call(s, values)
        return True

    def saved_message(self, result: bool) -> str:
        return ""  # the set-up screen says "Saved" and shows the new row


class ShiftTypeForm(SetupForm):
    NOTE = "Length from 15 minutes to 16 hours; a shift that passes midnight belongs to the day it starts."

    def __init__(self, t: ShiftTypeView | None) -> None:
        super().__init__()
        self.t = t
        self.TITLE_TEXT = f"Edit shift type {t.code}" if t else "Add a shift type"

    def fields(self) -> ComposeResult:
        t = self.t
        if t is None:
            yield Field("code", "Code (typed in the grid)", required=True, max_length=4, placeholder="e.g. E")
        yield Field("name", "Name", value=t.name if t else "", required=True, max_length=60)
        yield Field(
            "start_time",
            "Starts at (HH:MM)",
            value=f"{t.start_time:%H:%M}" if t else "",
            parse=parse_time,
            required=True,
        )
        yield Field(
            "minutes",
            "Length (minutes)",
            value=str(t.minutes) if t else "480",
            parse=lambda x: parse_int(x, 15, 16 * 60),
            required=True,
        )
        yield Field(
            "unpaid_break_minutes",
            "Unpaid break (minutes)",
            value=str(t.unpaid_break_minutes) if t else "0",
            parse=lambda x: parse_int(x, 0, 16 * 60),
            required=True,
        )

    def call(self, s: Any, v: dict[str, Any]) -> Any:
        if self.t is None:
            return shifts.add_shift_type(
                self.actor,
                s,
                code=v["code"],
                name=v["name"],
                start_time=v["start_time"],
                minutes=v["minutes"],
                unpaid_break_minutes=v["unpaid_break_minutes"],
            )
        return shifts.edit_shift_type(
            self.actor,
            s,
            self.t.code,
            name=v["name"],
            start_time=v["start_time"],
            minutes=v["minutes"],
            unpaid_break_minutes=v["unpaid_break_minutes"],
        )


class CoverageForm(SetupForm):
    NOTE = (
        "People wanted on a shift per weekday, or on one date (a date wins over its weekday). "
        "The builder aims at the preferred number; the grid marks a day below the minimum."
    )

    def __init__(self, c: CoverageView | None, codes: list[str]) -> None:
        super().__init__()
        self.c = c
        self.codes = codes
        self.TITLE_TEXT = "Edit coverage" if c else "Add coverage"

    def fields(self) -> ComposeResult:
        c = self.c
        yield ChoiceField(
            "shift_code",
            "Shift",
            [(x, x) for x in self.codes],
            value=c.shift_code if c else None,
            required=True,
        )
        yield ChoiceField(
            "weekday",
            "Every (weekday)",
            [(w, i) for i, w in enumerate(WEEKDAYS)],
            value=c.weekday if c else None,
        )
        yield Field(
            "on_date",
            "Or on the date",
            value=str(c.on_date) if c and c.on_date else "",
            parse=parse_date,
            placeholder="YYYY-MM-DD",
        )
        yield Field(
            "required",
            "Minimum people",
            value=str(c.required) if c else "1",
            parse=lambda x: parse_int(x, 0, 500),
            required=True,
        )
        yield Field(
            "preferred",
            "Preferred people",
            value=_opt(c.preferred) if c else "",
            parse=lambda x: parse_int(x, 0, 500),
        )
        yield Field(
            "under_weight",
            "Weight per person missing",
            value=str(c.under_weight) if c else "100",
            parse=lambda x: parse_int(x, 0, 10_000),
            required=True,
        )
        yield Field(
            "over_weight",
            "Weight per person too many",
            value=str(c.over_weight) if c else "10",
            parse=lambda x: parse_int(x, 0, 10_000),
            required=True,
        )

    def call(self, s: Any, v: dict[str, Any]) -> Any:
        return shifts.set_coverage(
            self.actor,
            s,
            v["shift_code"],
            weekday=v["weekday"],
            on_date=v["on_date"],
            required=v["required"],
            preferred=v["preferred"],
            under_weight=v["under_weight"],
            over_weight=v["over_weight"],
        )


class RuleForm(SetupForm):
    NOTE = (
        "Per week: hours and shifts; weekends per month. Empty = no limit (a clerk's own rule falls "
        "back to the team's field by field). Max shifts: E=5, L=0 (0 = not qualified). "
        "Forbidden: L>E = no E the day after an L. Days off: Sat, Sun."
    )

    def __init__(self, r: RuleView | None, scopes: list[tuple[str, str]]) -> None:
        super().__init__()
        self.r = r
        self.scopes = scopes
        self.TITLE_TEXT = "Edit roster rule" if r else "Add a roster rule"

    def fields(self) -> ComposeResult:
        r = self.r
        scope = None
        if r is not None:
            scope = f"team:{r.team}" if r.team else f"clerk:{r.login}"
        yield ChoiceField("scope", "For", self.scopes, value=scope, required=True)
        yield Field(
            "min_minutes", "Min hours a week", value=_hours(r.min_minutes) if r else "", parse=parse_hours
        )
        yield Field(
            "max_minutes", "Max hours a week", value=_hours(r.max_minutes) if r else "", parse=parse_hours
        )
        yield Field(
            "max_shifts",
            "Max shifts a week by type",
            value=", ".join(f"{k}={v}" for k, v in sorted(r.max_shifts.items())) if r else "",
            parse=parse_max_shifts,
            placeholder="e.g. E=5, L=0",
        )
        yield Field(
            "min_consecutive_work",
            "Min working days in a row",
            value=_opt(r.min_consecutive_work) if r else "",
            parse=lambda x: parse_int(x, 1, 31),
        )
        yield Field(
            "max_consecutive_work",
            "Max working days in a row",
            value=_opt(r.max_consecutive_work) if r else "",
            parse=lambda x: parse_int(x, 1, 31),
        )
        yield Field(
            "min_consecutive_off",
            "Min days off in a row",
            value=_opt(r.min_consecutive_off) if r else "",
            parse=lambda x: parse_int(x, 1, 31),
        )
        yield Field(
            "max_weekends",
            "Max working weekends a month",
            value=_opt(r.max_weekends) if r else "",
            parse=lambda x: parse_int(x, 0, 5),
        )
        yield Field(
            "forbidden_sequences",
            "Forbidden next-day sequences",
            value=", ".join(f"{a}>{b}" for a, b in r.forbidden_sequences) if r else "",
            parse=parse_sequences,
            placeholder="e.g. L>E",
        )
        yield Field(
            "fixed_days_off",
            "Fixed weekdays off",
            value=", ".join(WEEKDAYS[d] for d in r.fixed_days_off) if r else "",
            parse=parse_weekdays,
            placeholder="e.g. Sun",
        )

    def call(self, s: Any, v: dict[str, Any]) -> Any:
        kind, _, who = str(v["scope"]).partition(":")
        return shifts.set_rule(
            self.actor,
            s,
            login=who if kind == "clerk" else None,
            team=who if kind == "team" else None,
            min_minutes=v["min_minutes"],
            max_minutes=v["max_minutes"],
            max_shifts=v["max_shifts"] or {},
            min_consecutive_work=v["min_consecutive_work"],
            max_consecutive_work=v["max_consecutive_work"],
            min_consecutive_off=v["min_consecutive_off"],
            max_weekends=v["max_weekends"],
            forbidden_sequences=v["forbidden_sequences"] or [],
            fixed_days_off=v["fixed_days_off"] or [],
        )


class HolidayForm(SetupForm):
    TITLE_TEXT = "Add a holiday"
    NOTE = "The office is closed: nobody is scheduled and no coverage is wanted that day."

    def fields(self) -> ComposeResult:
        yield Field("day", "Date", parse=parse_date, required=True, placeholder="YYYY-MM-DD")
        yield Field("name", "Name", required=True, max_length=80)

    def call(self, s: Any, v: dict[str, Any]) -> Any:
        return shifts.add_holiday(self.actor, s, v["day"], v["name"])


# --------------------------------------------------------------------------- the screen


@dataclass(frozen=True)
class SetupData:
    types: list[ShiftTypeView]
    coverage: list[CoverageView]
    rules: list[RuleView]
    holidays: list[HolidayView]
    teams: list[str]
    clerks: list[tuple[str, str]]  # (login, name)


class ScheduleSetupScreen(DbScreen):
    HELP_TITLE = "Schedule set-up"
    HELP = (
        "What the roster builder works from. 1 shift types, 2 coverage wanted, 3 roster rules, "
        "4 holidays. a adds, e or Enter edits, d removes (a shift type is retired or brought back)."
    )
    DEFAULT_CSS = """
    ScheduleSetupScreen #setup-tabs { height: 1fr; }
    ScheduleSetupScreen TabPane { padding: 0; }
    ScheduleSetupScreen TabPane DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("a", "add", "Add", id="schedule_setup.add", tooltip="Add to the list in front"),
        Binding("e", "edit", "Edit", id="schedule_setup.edit", tooltip="Edit the selected row"),
        Binding(
            "d", "remove", "Remove", id="schedule_setup.remove", tooltip="Remove (or retire) the selected row"
        ),
        Binding("1", "tab('types')", "Types", id="schedule_setup.types", tooltip="Shift types"),
        Binding("2", "tab('coverage')", "Coverage", id="schedule_setup.coverage", tooltip="Coverage wanted"),
        Binding("3", "tab('rules')", "Rules", id="schedule_setup.rules", tooltip="Roster rules"),
        Binding("4", "tab('holidays')", "Holidays", id="schedule_setup.holidays", tooltip="Holidays"),
        Binding("escape", "back", "Back", id="schedule_setup.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: SetupData | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        with TabbedContent(id="setup-tabs"):
            for key, title in zip(
                TABS, ("1 Shift types", "2 Coverage", "3 Rules", "4 Holidays"), strict=True
            ):
                with TabPane(title, id=f"tab-{key}"):
                    table: DataTable[str | Text] = DataTable(
                        id=f"t-{key}", cursor_type="row", zebra_stripes=True
                    )
                    yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#t-types", DataTable).add_columns(
            "Code", "Name", "Time", "Length", "Unpaid", "In use"
        )
        self.query_one("#t-coverage", DataTable).add_columns(
            "Shift", "When", "Min", "Preferred", "Weight short", "Weight extra"
        )
        self.query_one("#t-rules", DataTable).add_columns(
            "For",
            "Hours/wk",
            "Max shifts",
            "Days in a row",
            "Off in a row",
            "Weekends",
            "Forbidden",
            "Days off",
        )
        self.query_one("#t-holidays", DataTable).add_columns("Date", "Holiday")
        self.query_one("#t-types", DataTable).focus()
        self.reload()

    def reload(self) -> None:
        today = office_today(self.cd_app.tz)
        since = dt.date(today.year, today.month, today.day) - dt.timedelta(days=31)
        until = since + dt.timedelta(days=31 + 400)

        def fetch(s: Any) -> SetupData:
            return SetupData(
                shifts.list_shift_types(self.actor, s, include_inactive=True),
                shifts.list_coverage(self.actor, s, start=since),
                shifts.list_rules(self.actor, s),
                shifts.list_holidays(self.actor, s, start=since, end=until),
                staff.list_teams(self.actor, s),
                [(u.login, u.name) for u in staff.list_users(self.actor, s, role=Role.CLERK)],
            )

        self.db_call(fetch, self.show)

    def show(self, d: SetupData) -> None:
        self.data = d
        t = self.query_one("#t-types", DataTable)
        t.clear()
        for x in d.types:
            t.add_row(
                x.code,
                Text(x.name),
                f"{x.start_time:%H:%M}–{x.end_time:%H:%M}",
                fmt_hm(x.minutes),
                f"{x.unpaid_break_minutes} min",
                Text("yes") if x.active else Text("retired", style="dim"),
                key=x.code,
            )
        c = self.query_one("#t-coverage", DataTable)
        c.clear()
        for v in d.coverage:
            when = f"every {WEEKDAYS[v.weekday]}" if v.weekday is not None else f"on {v.on_date}"
            c.add_row(
                v.shift_code,
                when,
                str(v.required),
                _opt(v.preferred),
                str(v.under_weight),
                str(v.over_weight),
                key=str(v.id),
            )
        r = self.query_one("#t-rules", DataTable)
        r.clear()
        for rule in d.rules:
            r.add_row(*(Text(x) for x in describe_rule(rule)), key=str(rule.id))
        h = self.query_one("#t-holidays", DataTable)
        h.clear()
        for hol in d.holidays:
            h.add_row(f"{WEEKDAYS[hol.day.weekday()]} {hol.day}", Text(hol.name), key=str(hol.day))

    def current(self) -> str:
        active = self.query_one(TabbedContent).active or "tab-types"
        return active.removeprefix("tab-")

    def selected_key(self) -> str | None:
        t = self.query_one(f"#t-{self.current()}", DataTable)
        if t.row_count == 0:
            return None
        return str(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)

    def action_tab(self, key: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{key}"
        self.query_one(f"#t-{key}", DataTable).focus()

    def _after(self, saved: bool | None) -> None:
        if saved:
            self.notify("Saved")
            self.reload()

    def scopes(self) -> list[tuple[str, str]]:
        assert self.data is not None
        return [(f"Team {t}", f"team:{t}") for t in self.data.teams] + [
            (f"{name} ({login})", f"clerk:{login}") for login, name in self.data.clerks
        ]

    def action_add(self) -> None:
        d = self.data
        if d is None:
            return
        tab = self.current()
        codes = [t.code for t in d.types if t.active]
        if tab == "types":
            self.app.push_screen(ShiftTypeForm(None), self._after)
        elif tab == "coverage":
            if not codes:
                self.notify("Add a shift type first", severity="warning")
                return
            self.app.push_screen(CoverageForm(None, codes), self._after)
        elif tab == "rules":
            self.app.push_screen(RuleForm(None, self.scopes()), self._after)
        else:
            self.app.push_screen(HolidayForm(), self._after)

    def action_edit(self) -> None:
        d, key = self.data, self.selected_key()
        if d is None or key is None:
            return
        tab = self.current()
        if tab == "types":
            t = next(x for x in d.types if x.code == key)
            self.app.push_screen(ShiftTypeForm(t), self._after)
        elif tab == "coverage":
            c = next(x for x in d.coverage if str(x.id) == key)
            self.app.push_screen(CoverageForm(c, [t.code for t in d.types if t.active]), self._after)
        elif tab == "rules":
            r = next(x for x in d.rules if str(x.id) == key)
            self.app.push_screen(RuleForm(r, self.scopes()), self._after)
        else:
            self.notify("A holiday is removed (d) and added again", severity="information")

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def action_remove(self) -> None:
        d, key = self.data, self.selected_key()
        if d is None or key is None:
            return
        tab = self.current()
        if tab == "types":
            t = next(x for x in d.types if x.code == key)
            verb = "Retire" if t.active else "Bring back"
            what = (
                f"{t.label} will no longer be offered in the grid or to the builder; shifts that "
                "already use it keep it."
                if t.active
                else f"{t.label} will be offered again."
            )
            self._confirm(
                f"{verb} shift type {t.code}?",
                what,
                verb,
                lambda s: shifts.edit_shift_type(self.actor, s, t.code, active=not t.active),
            )
        elif tab == "coverage":
            c = next(x for x in d.coverage if str(x.id) == key)
            when = f"every {WEEKDAYS[c.weekday]}" if c.weekday is not None else f"on {c.on_date}"
            self._confirm(
                "Remove this coverage?",
                f"Nobody will be wanted on {c.shift_code} {when} (was {c.required} minimum).",
                "Remove",
                lambda s: shifts.remove_coverage(self.actor, s, c.id),
            )
        elif tab == "rules":
            r = next(x for x in d.rules if str(x.id) == key)
            who = f"team {r.team}" if r.team else f"clerk {r.login}"
            after = "its clerks keep only their own rules" if r.team else "the team's rule applies again"
            self._confirm(
                f"Remove the rule for {who}?",
                f"The rule is deleted; {after}.",
                "Remove",
                lambda s: shifts.clear_rule(
                    self.actor, s, login=r.login if r.login else None, team=r.team if r.team else None
                ),
            )
        else:
            day = dt.date.fromisoformat(key)
            name = next(h.name for h in d.holidays if h.day == day)
            self._confirm(
                "Remove this holiday?",
                f"{day} ({name}) becomes an ordinary day: coverage is wanted again.",
                "Remove",
                lambda s: shifts.remove_holiday(self.actor, s, day),
            )

    def _confirm(self, title: str, what: str, yes: str, fn: Any) -> None:
        def done(_result: object) -> None:
            self.notify("Done")
            self.reload()

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.db_call(fn, done, write=True)

        self.app.push_screen(ConfirmDialog(title, what, yes), confirmed)
