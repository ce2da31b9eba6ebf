"""Pieces shared by the time screens (my timecard, the supervisor's timecards, corrections,
discipline): a timecard's days as a table, its head lines, and two small dialogs (a reason
that a service needs, a result to read).

Highlights never rely on colour alone: variance is written out in words and shown bold or
reversed, so the cards stay readable with ``NO_COLOR``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Static

from db.enums import ClockKind, ClockSource, TimecardStatus
from db.errors import ValidationError
from db.timeutil import office_today
from scheduling.clock import BREAK, IN, ClockState, Punch, hhmm
from scheduling.periods import zone
from scheduling.timecards import (
    NOT_IN,
    OPEN,
    CardSummary,
    DayFigures,
    TimecardDetail,
    hours_text,
)
from tui.widgets.dialogs import FormDialog, form_bindings
from tui.widgets.forms import Field

T = TypeVar("T")

WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVENT_WORD = {
    ClockKind.IN: "in",
    ClockKind.OUT: "out",
    ClockKind.BREAK_START: "break",
    ClockKind.BREAK_END: "back",
}
LOUD = "bold reverse"

# Fixed widths: auto-sized columns race with rows arriving from a worker (snapshots flicker).
DAY_COLUMNS = (
    ("Day", 10),
    ("Shift", 13),
    ("Worked", 6),
    ("Break", 5),
    ("Late", 5),
    ("Early", 5),
    ("OT", 5),
    ("Status", 12),  # "NO CLOCK-OUT"
    ("Events", 48),
)


def header_status(state: ClockState, tz: str) -> str:
    """Short clock text for the header: "clocked in 07:02", "on break since 12:01"."""
    today = office_today(tz)
    if state.status == BREAK and state.break_since is not None:
        return f"on break since {hhmm(state.break_since, tz, today)}"
    if state.status == IN and state.in_since is not None:
        return f"clocked in {hhmm(state.in_since, tz, today)}"
    return "not clocked in"


def short_day(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day:>2} {d:%b}"


def day_words(d: dt.date) -> str:
    """ "Mon 9 Nov" (no padding, for sentences)."""
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b}"


def period_text(start: dt.date, end: dt.date) -> str:
    return f"{day_words(start)} – {day_words(end)} {end.year}"


def hm(minutes: int) -> str:
    """Hours:minutes, blank for nothing (tables stay quiet where all is well)."""
    return hours_text(minutes) if minutes else ""


def local_time(at: Any, tz: str, day: dt.date | None = None) -> str:
    """HH:mm in the office zone; "+1" when it falls on the day after ``day`` (overnight)."""
    local = at.in_timezone(zone(tz))
    text = local.format("HH:mm")
    if day is not None and local.date() != day:
        diff = (local.date() - day).days
        text += f"{diff:+d}"
    return text


def local_when(at: Any, tz: str) -> str:
    return at.in_timezone(zone(tz)).format("ddd D MMM HH:mm")


def shift_text(day: DayFigures, tz: str) -> str:
    sh = day.shift
    if sh is None:
        return ""
    return f"{sh.code} {local_time(sh.starts_at, tz)}–{local_time(sh.ends_at, tz)}"


def punch_text(p: Punch, tz: str, day: dt.date) -> str:
    mark = "*" if p.source == ClockSource.SUPERVISOR else ""
    return f"{EVENT_WORD[p.kind]} {local_time(p.at, tz, day)}{mark}"


def events_text(day: DayFigures, tz: str) -> Text:
    if not day.punches:
        return Text("")
    return Text(" · ".join(punch_text(p, tz, day.day) for p in day.punches))


def day_status(day: DayFigures) -> Text:
    if day.absent:
        return Text("ABSENT", style=LOUD)
    if day.status == OPEN:
        return Text("NO CLOCK-OUT", style=LOUD)
    if day.status == NOT_IN:
        return Text("not in yet", style="bold")
    if day.unscheduled:
        return Text("unscheduled", style="bold")
    return Text(day.status, style="dim" if day.status in ("off", "scheduled") else "")


def day_cells(day: DayFigures, tz: str) -> list[str | Text]:
    return [
        short_day(day.day),
        shift_text(day, tz),
        hm(day.worked_minutes),
        hm(day.break_minutes),
        Text(str(day.late_minutes), style=LOUD) if day.late_minutes else Text(""),
        Text(str(day.early_minutes), style=LOUD) if day.early_minutes else Text(""),
        Text(hm(day.overtime_minutes), style="bold") if day.overtime_minutes else Text(""),
        day_status(day),
        events_text(day, tz),
    ]


def day_detail(day: DayFigures, tz: str) -> Text:
    """One day in words: its shift, every event (corrections with their reason), the notes."""
    out = Text()
    out.append(f"{short_day(day.day)}: ", style="bold")
    out.append(f"shift {shift_text(day, tz)}" if day.shift else "no shift")
    if day.scheduled_minutes:
        out.append(f" ({hours_text(day.scheduled_minutes)} scheduled)")
    if day.punches:
        out.append(" · ")
        out.append(events_text(day, tz))
    for p in day.punches:
        if p.reason:
            out.append(f"\n  * {EVENT_WORD[p.kind]} {local_time(p.at, tz, day.day)} set by a supervisor: ")
            out.append(p.reason, style="italic")
    if day.notes:
        out.append("\n  " + "; ".join(day.notes))
    return out


class DayTable(DataTable[str | Text]):
    """A timecard's days (one row a day)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.days: tuple[DayFigures, ...] = ()
        self.tz = "UTC"

    def on_mount(self) -> None:
        for label, width in DAY_COLUMNS:
            self.add_column(label, width=width)

    def show(self, detail: TimecardDetail) -> None:
        keep = self.cursor_row
        self.days = detail.days
        self.tz = detail.tz
        self.clear()
        for d in detail.days:
            self.add_row(*day_cells(d, detail.tz), key=d.day.isoformat())
        if self.days:
            self.move_cursor(row=min(max(keep, 0), len(self.days) - 1))

    @property
    def current_day(self) -> DayFigures | None:
        row = self.cursor_row
        if 0 <= row < len(self.days):
            return self.days[row]
        return None


# --------------------------------------------------------------------------- card head


def status_words(c: CardSummary, tz: str) -> Text:
    """Where the card stands, in capitals so it reads without colour."""
    if c.status == TimecardStatus.EXPORTED:
        when = local_when(c.exported_at, tz) if c.exported_at else "?"
        return Text(f"EXPORTED to payroll {when}", style="bold")
    if c.status == TimecardStatus.SIGNED:
        when = local_when(c.signed_at, tz) if c.signed_at else "?"
        return Text(f"SIGNED by {c.signed_by} {when}", style="bold")
    if c.status == TimecardStatus.SUBMITTED:
        when = local_when(c.submitted_at, tz) if c.submitted_at else "?"
        return Text(f"SUBMITTED {when}, waiting for a signature", style="bold")
    if c.rejected_reason:
        return Text("OPEN: sent back by a supervisor", style=LOUD)
    return Text("OPEN: not submitted", style="bold")


def totals_text(c: CardSummary) -> Text:
    return Text.assemble(
        f"Scheduled {hours_text(c.scheduled_minutes)} · worked {hours_text(c.worked_minutes)}"
        f" · paid {hours_text(c.paid_minutes)} · regular ",
        (hours_text(c.regular_minutes), "bold"),
        " · overtime ",
        (hours_text(c.overtime_minutes), "bold"),
    )


def variance_text(c: CardSummary) -> Text:
    if not c.variance:
        return Text("No variance against the schedule", style="dim")
    return Text.assemble(("Variance: ", "bold"), (", ".join(c.variance), LOUD))


def card_head(c: CardSummary, tz: str, *, who: bool = True) -> Text:
    out = Text()
    if who:
        out.append(f"{c.name} ({c.login})", style="bold")
        out.append(" · ")
    out.append(period_text(c.period_start, c.period_end))
    out.append(" · ")
    out.append(status_words(c, tz))
    out.append("\n")
    out.append(totals_text(c))
    out.append("\n")
    out.append(variance_text(c))
    for label, value in (
        ("Sent back", c.rejected_reason if c.status == TimecardStatus.OPEN else ""),
        ("Note from the clerk", c.submit_note),
        ("Unlocked", c.unlock_reason if c.status == TimecardStatus.SUBMITTED else ""),
    ):
        if value:
            out.append(f"\n{label}: ", style="bold")
            out.append(value, style="italic")
    return out


# --------------------------------------------------------------------------- dialogs


class ReasonDialog(FormDialog[T]):
    """Ask for the reason a service needs (reject, unlock, void), then call it.

    ``call(actor, session, reason)`` runs in a write transaction; its result dismisses the dialog. A
    refusal stays on screen with the service's message, and the typed reason is kept.
    """

    FORM_ID = "reason"
    WIDE = False
    SUBMIT_ON_ENTER = True
    BINDINGS = form_bindings("reason", "Save")

    def __init__(
        self,
        title: str,
        what_happens: Text | str,
        call: Callable[[Any, Any, str], T],
        *,
        label: str = "Reason",
        ok: str = "Save",
        placeholder: str = "required; kept with the record",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.what_happens = what_happens if isinstance(what_happens, Text) else Text(what_happens)
        self.call = call
        self.label = label
        self.ok = ok
        self.placeholder = placeholder

    def heading(self) -> str:
        return self.title_text

    def save_label(self) -> str:
        return self.ok

    def intro(self) -> Iterable[Widget]:
        return [Static(self.what_happens)]

    def fields(self) -> ComposeResult:
        yield Field("reason", self.label, required=True, max_length=1000, placeholder=self.placeholder)

    def save(self, session: Any, values: dict[str, Any]) -> T:
        return self.call(self.actor, session, values["reason"])

    def saved(self, result: T) -> None:
        self.close_with(result)

    def close_with(self, result: Any) -> None:
        """Close with the service's answer (the callback of a finished save)."""
        self.dismiss(result)


class InfoDialog(ModalScreen[None]):
    """A result to read (what was signed, what was skipped and why). Enter or esc closes."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="info.close", tooltip="Close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll():
                yield Static(self.body, id="info-body")
            with Horizontal(classes="buttons"):
                yield Button("OK (enter)", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()


def refusal_text(exc: BaseException) -> str:
    """A service's refusal for a person to read: field messages without the field names."""
    if isinstance(exc, ValidationError) and exc.fields:
        text = "; ".join(exc.fields.values())
    else:
        text = str(exc)
    return text[:1].upper() + text[1:]
