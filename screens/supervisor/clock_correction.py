"""A supervisor adds a missing clock event or corrects one, always with a reason (docs/timecards.md).

The time is typed as the office's wall clock (date and HH:MM) and turned into an instant in
the office zone. Nothing is overwritten: a correction is a new event and the original stays,
voided (``scheduling.clock.correct_clock_event``). The service refuses changes to a signed or
exported card, to one's own events, and anything that would leave the in/out sequence
broken; its message is shown in the form and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Static

from db.enums import ClockKind
from db.timeutil import local_instant
from scheduling import clock
from scheduling.clock import KIND_LABEL, ClockEventView, Punch
from screens.common.time_view import ReasonDialog, day_words, local_time
from tui.widgets.dialogs import FormDialog
from tui.widgets.forms import ChoiceField, Field, ParseError, parse_date

KIND_CHOICES = [
    ("clock-in", ClockKind.IN.value),
    ("clock-out", ClockKind.OUT.value),
    ("break start", ClockKind.BREAK_START.value),
    ("break end", ClockKind.BREAK_END.value),
]


def parse_clock_time(text: str) -> dt.time:
    """HH:MM on the office's 24-hour wall clock (7:05 and 07:05 both work)."""
    t = text.strip()
    if not t:
        raise ParseError("is required")
    parts = t.split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ParseError(f"{text!r} is not a time (HH:MM, 24-hour clock)")
    hh, mm = int(parts[0]), int(parts[1])
    if hh > 23 or mm > 59:
        raise ParseError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return dt.time(hh, mm)


class ClockEventForm(FormDialog[ClockEventView]):
    """Correct an event (``event`` given) or add one for ``user_id`` (a forgotten clock-out)."""

    FORM_ID = "clock_correction"
    WIDE = False
    SUBMIT_ON_ENTER = True
    FIELD_ALIASES = {"at": "time"}  # the service names the instant; here it is the date and time typed

    def __init__(
        self,
        who: str,
        tz: str,
        *,
        event: Punch | None = None,
        user_id: int | None = None,
        day: dt.date | None = None,
        kind: ClockKind | None = None,
    ) -> None:
        super().__init__()
        self.who = who
        self.tz = tz
        self.event = event
        self.user_id = user_id
        self.day = day
        self.kind = kind

    def heading(self) -> str:
        ev = self.event
        if ev is None:
            return f"Add a clock event for {self.who}"
        local = ev.at.in_timezone(self.tz)
        return f"Correct {self.who}'s {KIND_LABEL[ev.kind]} of {day_words(local.date())} {local_time(ev.at, self.tz)}"

    def intro(self) -> Iterable[Widget]:
        if self.event is not None:
            what = (
                "The original event is kept (voided) and the corrected one replaces it on the card. "
                "Times are the office clock."
            )
        else:
            what = "For a forgotten clock-in or clock-out. Times are the office clock."
        yield Static(Text(what, style="dim"))

    def fields(self) -> ComposeResult:
        ev = self.event
        if ev is not None:
            local = ev.at.in_timezone(self.tz)
            kind, day, at = ev.kind.value, local.date().isoformat(), local.format("HH:mm")
        else:
            kind = (self.kind or ClockKind.OUT).value
            day, at = (self.day.isoformat() if self.day else ""), ""
        yield ChoiceField("kind", "Event", KIND_CHOICES, value=kind, required=True)
        yield Field("day", "Date (YYYY-MM-DD)", value=day, parse=parse_date, required=True, max_length=10)
        yield Field("time", "Time (HH:MM)", value=at, parse=parse_clock_time, required=True, max_length=5)
        yield Field(
            "reason", "Reason", required=True, max_length=500, placeholder="required; kept with the event"
        )

    def start_focus(self) -> Widget:
        # The typical correction is the time; a new event starts at the time field too.
        return self.query_one("#input-time", Input)

    def save(self, s: Any, values: dict[str, Any]) -> ClockEventView:
        at = local_instant(values["day"], values["time"], self.tz)
        kind = ClockKind(values["kind"])
        if self.event is not None:
            return clock.correct_clock_event(
                self.actor, s, self.event.id, reason=values["reason"], at=at, kind=kind
            )
        assert self.user_id is not None
        return clock.add_clock_event(self.actor, s, self.user_id, kind, at, values["reason"])

    def saved_message(self, result: ClockEventView) -> str:
        return ""  # the card behind shows the new event


def void_dialog(who: str, ev: Punch, tz: str) -> ReasonDialog[ClockEventView]:
    """Remove a wrong event (a double punch): kept in the history, voided, with the reason."""
    local = ev.at.in_timezone(tz)
    return ReasonDialog(
        f"Void {who}'s {KIND_LABEL[ev.kind]} of {day_words(local.date())} {local.format('HH:mm')}?",
        "The event no longer counts on the card; it stays in the history, marked void, with your reason.",
        lambda actor, s, reason: clock.void_clock_event(actor, s, ev.id, reason=reason),
        ok="Void",
    )
