"""Timecards (supervisor): the cards waiting for a signature, or every card of a pay period,
with their variance against the schedule; one card's days and events; sign, reject, unlock,
sign several clean cards at once, correct clock events, export payroll (docs/timecards.md).

Every decision goes through ``scheduling.timecards``: nobody signs their own card, only
submitted cards are signed, a signed card is frozen until it is unlocked with a reason. The
screen shows the service's message when it refuses, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from db.enums import TimecardStatus
from scheduling import clock, timecards
from scheduling.clock import ClockEventView, Punch
from scheduling.periods import Period, current_period
from scheduling.timecards import CardSummary, SignManyResult, TimecardDetail, hours_text
from screens.common.collections_bits import n_of
from screens.common.time_view import (
    EVENT_WORD,
    DayTable,
    InfoDialog,
    ReasonDialog,
    card_head,
    day_detail,
    local_time,
    period_text,
    short_day,
)
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

QUEUE_COLUMNS = (
    ("", 3),
    ("Clerk", 16),
    ("Period", 6),
    ("Status", 9),
    ("Worked", 6),
    ("OT", 5),
    ("Variance", 60),
)
EVENT_COLUMNS = (("#", 6), ("Day", 10), ("Event", 5), ("Time", 7), ("By", 10), ("Reason / history", 50))


def _key(c: CardSummary) -> str:
    return f"{c.user_id}:{c.period_start.isoformat()}"


def variance_cell(c: CardSummary) -> Text:
    if c.variance:
        return Text("! " + ", ".join(c.variance), style="bold")
    return Text("clean", style="dim")


def sign_question(c: CardSummary) -> str:
    lines = [
        f"Totals that will be signed: regular {hours_text(c.regular_minutes)}, "
        f"overtime {hours_text(c.overtime_minutes)} "
        f"(worked {hours_text(c.worked_minutes)}, scheduled {hours_text(c.scheduled_minutes)}).",
        ("Variance: " + ", ".join(c.variance) + ".") if c.variance else "No variance against the schedule.",
    ]
    if c.submit_note:
        lines.append(f"Note from the clerk: {c.submit_note}")
    lines.append(
        "Once signed, the card and its clock events are frozen; only an unlock with a reason reopens it."
    )
    return "\n".join(lines)


def ask_sign(screen: DbScreen, card: CardSummary, done: Any) -> None:
    """Sign one card: fetch it fresh, show the totals that will be signed, then sign.

    A supervisor's own card goes straight to the service, which refuses it (nobody signs their
    own timecard), so the person reads the rule from the place that enforces it.
    """
    if card.timecard_id is None or card.status == TimecardStatus.OPEN:
        screen.notify(f"{card.login} has not submitted this timecard yet", severity="warning")
        return
    cid = card.timecard_id

    def sign(version: int) -> None:
        screen.db_call(
            lambda s: timecards.sign_timecard(screen.actor, s, cid, expected_version=version),
            done,
            write=True,
        )

    if card.user_id == screen.actor.user_id:
        sign(card.version)
        return

    def fresh(detail: TimecardDetail) -> None:
        c = detail.summary

        def confirmed(yes: bool | None) -> None:
            if yes:
                sign(c.version)

        screen.app.push_screen(
            ConfirmDialog(
                f"Sign {c.name}'s timecard for {period_text(c.period_start, c.period_end)}?",
                sign_question(c),
                "Sign",
            ),
            confirmed,
        )

    screen.db_call(lambda s: timecards.timecard_by_id(screen.actor, s, cid), fresh)


def ask_reject(screen: DbScreen, card: CardSummary, done: Any) -> None:
    if card.timecard_id is None:
        screen.notify(f"{card.login} has not submitted this timecard yet", severity="warning")
        return
    cid, version = card.timecard_id, card.version
    screen.app.push_screen(
        ReasonDialog(
            f"Send {card.name}'s timecard back?",
            f"{period_text(card.period_start, card.period_end)}: the card goes back to the clerk (open) "
            "with your reason; they correct it with you and submit again.",
            lambda actor, s, reason: timecards.reject_timecard(
                actor, s, cid, reason, expected_version=version
            ),
            label="Reason for the clerk",
            ok="Send back",
        ),
        done,
    )


def ask_unlock(screen: DbScreen, card: CardSummary, done: Any) -> None:
    if card.timecard_id is None or card.status not in (TimecardStatus.SIGNED, TimecardStatus.EXPORTED):
        screen.notify("Only a signed timecard can be unlocked", severity="warning")
        return
    cid, version = card.timecard_id, card.version
    # An exported card (or one's own) is refused before a reason is typed, not after.
    screen.db_call(
        lambda s: timecards.check_unlock(screen.actor, s, cid),
        lambda _: screen.app.push_screen(
            ReasonDialog(
                f"Unlock {card.name}'s signed timecard?",
                f"{period_text(card.period_start, card.period_end)}: the signature stays in the chain, the "
                "card goes back to the signing queue and its clock events can be corrected. It needs a "
                "new signature before payroll.",
                lambda actor, s, reason: timecards.unlock_timecard(
                    actor, s, cid, reason, expected_version=version
                ),
                ok="Unlock",
            ),
            done,
        ),
    )


def _capped(lines: list[str], most: int = 12) -> list[str]:
    """A dialog has no room for a whole office: the first lines and how many more."""
    if len(lines) <= most:
        return lines
    return [*lines[:most], f"  … and {len(lines) - most} more"]


def sign_many_report(result: SignManyResult) -> Text:
    out = Text()
    out.append(f"Signed {len(result.signed)}", style="bold")
    for c in result.signed:
        out.append(
            f"\n  {c.login}  {period_text(c.period_start, c.period_end)}  regular "
            f"{hours_text(c.regular_minutes)}  overtime {hours_text(c.overtime_minutes)}"
        )
    if result.skipped:
        out.append(f"\n\nSkipped {len(result.skipped)} (open them one by one)", style="bold")
        for sk in result.skipped:
            out.append(f"\n  {sk.login or sk.timecard_id}: ")
            out.append(sk.reason)
    return out


# --------------------------------------------------------------------------- the queue


@dataclass
class _View:
    waiting: bool = True  # the signing queue; else every card of ``period``
    period: Period | None = None


class TimecardsScreen(DbScreen):
    HELP_TITLE = "Timecards"
    HELP = (
        "The cards waiting for your signature (all periods); a switches to every card of one pay "
        "period ([ and ] move between periods). Variance against the schedule is spelled out (late, left "
        "early, absent, overtime, no clock-out). Enter opens a card to see its days and events and "
        "to correct clock events. s signs after showing the totals; x sends a card back with a "
        "reason; u unlocks a signed card with a reason. space marks cards, m signs the marked ones, "
        "c signs every clean card shown: cards with variance are skipped and the reason shown. "
        "e exports payroll for a period to a CSV file. Nobody signs their own card."
    )
    BINDINGS = [
        Binding(
            "enter", "open", "Open", id="timecards.open", tooltip="Open the card: days, events, corrections"
        ),
        Binding(
            "s",
            "sign",
            "Sign",
            id="timecards.sign",
            tooltip="Sign the selected card (shows the totals first)",
        ),
        Binding(
            "x",
            "reject",
            "Send back",
            id="timecards.reject",
            tooltip="Send the card back to the clerk with a reason",
        ),
        Binding("u", "unlock", "Unlock", id="timecards.unlock", tooltip="Unlock a signed card with a reason"),
        Binding(
            "space",
            "mark",
            "Mark",
            id="timecards.mark",
            tooltip="Mark or unmark the card for signing together",
        ),
        Binding(
            "m",
            "sign_marked",
            "Sign marked",
            id="timecards.sign_marked",
            tooltip="Sign the marked cards (those with variance are skipped)",
        ),
        Binding(
            "c",
            "sign_clean",
            "Sign clean",
            id="timecards.sign_clean",
            tooltip="Sign every clean submitted card shown",
        ),
        Binding(
            "a",
            "toggle_view",
            "Queue/period",
            id="timecards.view",
            tooltip="Switch between the signing queue and every card of a period",
        ),
        Binding(
            "left_square_bracket",
            "previous",
            "Prev period",
            id="timecards.previous",
            tooltip="The previous pay period",
        ),
        Binding(
            "right_square_bracket", "next", "Next period", id="timecards.next", tooltip="The next pay period"
        ),
        Binding(
            "e",
            "export",
            "Payroll",
            id="timecards.export",
            tooltip="Export signed cards of a period to a CSV file",
        ),
        Binding("escape", "back", "Back", id="timecards.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = _View()
        self.rows: list[CardSummary] = []
        self.marked: set[str] = set()
        self.current: Period | None = None

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Timecards", style="bold"), classes="title", id="tc-title")
        table: DataTable[str | Text] = DataTable(id="tc-cards", cursor_type="row", zebra_stripes=True)
        table.tooltip = "Enter opens a card; s signs; space marks; c signs every clean card"
        yield table
        yield Static("", id="tc-detail", classes="time-head")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#tc-cards", DataTable)
        for label, width in QUEUE_COLUMNS:
            t.add_column(label, width=width)
        t.focus()
        self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        view = _View(self.view.waiting, self.view.period)

        def fetch(s: Any) -> tuple[list[CardSummary], Period, Period | None]:
            cur = current_period(s)
            if view.waiting:
                return timecards.cards_awaiting_signature(self.actor, s), cur, None
            period = view.period or cur.previous()
            return timecards.list_timecards(self.actor, s, period.start), cur, period

        self.db_call(fetch, self.show)

    def show(self, result: tuple[list[CardSummary], Period, Period | None]) -> None:
        self.rows, self.current, period = result
        if period is not None:
            self.view.period = period
        keys = {_key(c) for c in self.rows}
        self.marked &= keys
        t = self.query_one("#tc-cards", DataTable)
        keep = t.cursor_row
        t.clear()
        for c in self.rows:
            you = " (you)" if c.user_id == self.actor.user_id else ""
            status = Text(c.status.value, style="bold" if c.status == TimecardStatus.SUBMITTED else "")
            t.add_row(
                Text("[x]" if _key(c) in self.marked else "[ ]"),
                Text(c.name + you),
                f"{c.period_start:%d %b}",
                status,
                hours_text(c.worked_minutes),
                Text(hours_text(c.overtime_minutes), style="bold") if c.overtime_minutes else "",
                variance_cell(c),
                key=_key(c),
            )
        if self.rows:
            t.move_cursor(row=min(max(keep, 0), len(self.rows) - 1))
        self.show_title()
        self.show_detail()

    def show_title(self) -> None:
        waiting = sum(1 for c in self.rows if c.status == TimecardStatus.SUBMITTED)
        clean = sum(1 for c in self.rows if c.status == TimecardStatus.SUBMITTED and not c.variance)
        if self.view.waiting:
            what = f"waiting for a signature · {waiting} card{'s' if waiting != 1 else ''}, {clean} clean"
        else:
            p = self.view.period
            what = (
                f"{period_text(p.start, p.end)} · {n_of(len(self.rows), 'card')}, {waiting} waiting"
                if p
                else ""
            )
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        self.query_one("#tc-title", Static).update(Text.assemble(("Timecards", "bold"), f" · {what}{marked}"))

    def selected(self) -> CardSummary | None:
        t = self.query_one("#tc-cards", DataTable)
        if t.row_count == 0:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return next((c for c in self.rows if _key(c) == key), None)

    @on(DataTable.RowHighlighted, "#tc-cards")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        c = self.selected()
        box = self.query_one("#tc-detail", Static)
        if c is None:
            box.update(
                Text("No timecards are waiting for a signature." if self.view.waiting else "No timecards.")
            )
            return
        box.update(card_head(c, self.cd_app.tz))

    # ------------------------------------------------------------------ actions

    def _after(self, result: Any) -> None:
        if result is None:
            return
        if isinstance(result, CardSummary):
            self.notify(Text(f"{result.login}: timecard {result.status.value}").plain, markup=False)
        self.reload()

    def action_open(self) -> None:
        c = self.selected()
        if c is not None:
            self.app.push_screen(CardScreen(c.user_id, c.period_start), lambda _: self.reload())

    @on(DataTable.RowSelected, "#tc-cards")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_sign(self) -> None:
        c = self.selected()
        if c is not None:
            ask_sign(self, c, self._after)

    def action_reject(self) -> None:
        c = self.selected()
        if c is not None:
            ask_reject(self, c, self._after)

    def action_unlock(self) -> None:
        c = self.selected()
        if c is not None:
            ask_unlock(self, c, self._after)

    def action_mark(self) -> None:
        c = self.selected()
        if c is None:
            return
        if c.timecard_id is None or c.status != TimecardStatus.SUBMITTED:
            self.notify(
                f"Only submitted cards can be signed; this one is {c.status.value}", severity="warning"
            )
            return
        key = _key(c)
        self.marked ^= {key}
        t = self.query_one("#tc-cards", DataTable)
        t.update_cell(key, t.ordered_columns[0].key, Text("[x]" if key in self.marked else "[ ]"))
        row = t.cursor_row
        if row < t.row_count - 1:
            t.move_cursor(row=row + 1)
        self.show_title()

    def _sign_several(self, cards: list[CardSummary], title: str) -> None:
        if not cards:
            self.notify("No submitted cards to sign here", severity="warning")
            return
        clean = [c for c in cards if not c.variance and c.user_id != self.actor.user_id]
        other = [c for c in cards if c not in clean]
        if not clean:
            # Nothing would be signed: say why instead of asking.
            body = Text("Every card here needs to be opened and signed on its own:\n")
            for c in other:
                why = "your own card" if c.user_id == self.actor.user_id else ", ".join(c.variance)
                body.append(f"\n  {c.login}: {why}")
            self.app.push_screen(InfoDialog("No clean cards to sign together", body))
            return
        lines = [f"Will be signed ({len(clean)}):"]
        lines += _capped(
            [
                f"  {c.login}  {c.period_start:%d %b}  regular {hours_text(c.regular_minutes)}  "
                f"overtime {hours_text(c.overtime_minutes)}"
                for c in clean
            ]
        )
        if other:
            lines.append(f"Will be skipped ({len(other)}), to be opened one by one:")
            lines += _capped(
                [
                    f"  {c.login}: "
                    + ("your own card" if c.user_id == self.actor.user_id else ", ".join(c.variance))
                    for c in other
                ]
            )
        ids = [c.timecard_id for c in cards if c.timecard_id is not None]

        def done(result: SignManyResult) -> None:
            self.marked.clear()
            self.app.push_screen(InfoDialog("Signing done", sign_many_report(result)))
            self.reload()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.db_call(lambda s: timecards.sign_many(self.actor, s, ids), done, write=True)

        self.app.push_screen(ConfirmDialog(title, "\n".join(lines), "Sign"), confirmed)

    def action_sign_marked(self) -> None:
        cards = [c for c in self.rows if _key(c) in self.marked]
        if not cards:
            self.notify("Mark cards with space first (or c signs every clean card)", severity="warning")
            return
        self._sign_several(cards, f"Sign the {len(cards)} marked timecards?")

    def action_sign_clean(self) -> None:
        cards = [c for c in self.rows if c.status == TimecardStatus.SUBMITTED and c.timecard_id is not None]
        self._sign_several(cards, "Sign every clean timecard shown?")

    def action_toggle_view(self) -> None:
        self.view.waiting = not self.view.waiting
        self.marked.clear()
        self.reload()

    def _go(self, delta: int) -> None:
        base = self.view.period or (self.current.previous() if self.current else None)
        if base is None:
            return
        if self.view.waiting:
            target = base  # the first step into period view shows the period already chosen
        else:
            target = base.previous() if delta < 0 else base.next()
        if self.current is not None and target.start > self.current.start:
            self.notify("That period has not started yet", severity="warning")
            return
        self.view = _View(False, target)
        self.marked.clear()
        self.reload()

    def action_previous(self) -> None:
        self._go(-1)

    def action_next(self) -> None:
        self._go(1)

    def action_export(self) -> None:
        from screens.supervisor.payroll_export import PayrollExportScreen

        period = self.view.period if not self.view.waiting else None
        if period is None and self.current is not None:
            period = self.current.previous()
        self.app.push_screen(PayrollExportScreen(period.start if period else None), lambda _: self.reload())


# --------------------------------------------------------------------------- one card


@dataclass(frozen=True)
class _EventRow:
    key: str
    punch: Punch | None  # None for a voided event (history only)
    day: dt.date
    at: Any  # the instant, for the order
    cells: tuple[str | Text, ...]


class CardScreen(DbScreen):
    """One person's card for one period: its days, every clock event, and the decisions."""

    HELP_TITLE = "Timecard"
    HELP = (
        "One card: the days (shift, worked, breaks, late, early, overtime, status) and below every "
        "clock event; tab moves between them. k corrects the highlighted event, n adds one (a "
        "forgotten clock-out), v voids one (a double punch); each needs a reason and keeps the "
        "original. A signed card refuses changes until it is unlocked (u). s signs, x sends back. "
        "Events marked * were set by a supervisor."
    )
    BINDINGS = [
        Binding("s", "sign", "Sign", id="timecard.sign", tooltip="Sign this card (shows the totals first)"),
        Binding(
            "x",
            "reject",
            "Send back",
            id="timecard.reject",
            tooltip="Send the card back to the clerk with a reason",
        ),
        Binding(
            "u", "unlock", "Unlock", id="timecard.unlock", tooltip="Unlock this signed card with a reason"
        ),
        Binding(
            "k",
            "correct",
            "Correct",
            id="timecard.correct",
            tooltip="Correct the highlighted clock event (reason)",
        ),
        Binding("n", "add", "Add event", id="timecard.add", tooltip="Add a missing clock event (reason)"),
        Binding(
            "v", "void", "Void event", id="timecard.void", tooltip="Void the highlighted clock event (reason)"
        ),
        Binding("escape", "back", "Back", id="timecard.back", tooltip="Back to the list of cards"),
    ]

    def __init__(self, user_id: int, period_start: dt.date) -> None:
        super().__init__()
        self.user_id = user_id
        self.period_start = period_start
        self.detail: TimecardDetail | None = None
        self.events: list[_EventRow] = []

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading…", id="card-head", classes="time-head")
        with Vertical(id="card-body"):
            days = DayTable(id="card-days")
            days.tooltip = "The card's days; tab goes to the events"
            yield days
            yield Static("", id="card-day", classes="time-day")
            yield Static(
                Text.assemble(("Clock events", "bold"), "  k correct · n add · v void (each with a reason)"),
                classes="time-section",
            )
            events: DataTable[str | Text] = DataTable(id="card-events", cursor_type="row", zebra_stripes=True)
            events.tooltip = "Every clock event of the card: k corrects, v voids, n adds"
            yield events
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#card-events", DataTable)
        for label, width in EVENT_COLUMNS:
            t.add_column(label, width=width)
        self.query_one("#card-days", DayTable).focus()
        self.reload()

    def reload(self) -> None:
        uid, start = self.user_id, self.period_start

        def fetch(s: Any) -> tuple[TimecardDetail, list[ClockEventView]]:
            detail = timecards.timecard_detail(self.actor, s, uid, start)
            end = detail.summary.period_end + dt.timedelta(days=1)
            history = clock.clock_events(self.actor, s, uid, start, end, include_voided=True)
            return detail, [e for e in history if e.voided]

        self.db_call(fetch, self.show)

    def show(self, result: tuple[TimecardDetail, list[ClockEventView]]) -> None:
        self.detail, voided = result
        tz = self.detail.tz
        c = self.detail.summary
        self.query_one("#card-head", Static).update(card_head(c, tz))
        self.query_one("#card-days", DayTable).show(self.detail)
        rows: list[_EventRow] = []
        for d in self.detail.days:
            for p in d.punches:
                by = "supervisor" if p.reason else "clock"
                rows.append(
                    _EventRow(
                        str(p.id),
                        p,
                        d.day,
                        p.at,
                        (
                            str(p.id),
                            short_day(d.day),
                            EVENT_WORD[p.kind],
                            local_time(p.at, tz, d.day),
                            by,
                            Text(p.reason),
                        ),
                    )
                )
        for e in voided:
            day = e.local.date()
            if not c.period_start <= day <= c.period_end:
                continue
            rows.append(
                _EventRow(
                    f"v{e.id}",
                    None,
                    day,
                    e.at,
                    (
                        Text(str(e.id), style="dim strike"),
                        Text(short_day(day), style="dim"),
                        Text(EVENT_WORD[e.kind], style="dim strike"),
                        Text(local_time(e.at, tz, day), style="dim strike"),
                        Text(e.source.value, style="dim"),
                        Text("voided (kept in the history)", style="dim italic"),
                    ),
                )
            )
        rows.sort(key=lambda r: (r.day, r.at, r.punch is not None))
        self.events = rows
        t = self.query_one("#card-events", DataTable)
        keep = t.cursor_row
        t.clear()
        for r in rows:
            t.add_row(*r.cells, key=r.key)
        if rows:
            t.move_cursor(row=min(max(keep, 0), len(rows) - 1))
        self.show_day()

    @on(DataTable.RowHighlighted, "#card-days")
    def _day_moved(self, event: DataTable.RowHighlighted) -> None:
        self.show_day()
        day = self.query_one("#card-days", DayTable).current_day
        if day is None:
            return
        # Follow the day in the events list, so k/v act on that day's events.
        idx = next((i for i, r in enumerate(self.events) if r.day == day.day and r.punch), None)
        if idx is not None:
            table = self.query_one("#card-events", DataTable)
            table.move_cursor(row=idx)
            # Once more after the refresh: the first scroll may run before the rows are laid out.
            self.call_after_refresh(lambda: table.move_cursor(row=table.cursor_row))

    def show_day(self) -> None:
        table = self.query_one("#card-days", DayTable)
        day = table.current_day
        self.query_one("#card-day", Static).update(day_detail(day, table.tz) if day else "")

    def current_event(self) -> _EventRow | None:
        t = self.query_one("#card-events", DataTable)
        if t.row_count == 0:
            return None
        row = t.cursor_row
        return self.events[row] if 0 <= row < len(self.events) else None

    # ------------------------------------------------------------------ decisions

    def _done(self, result: Any) -> None:
        if result is None:
            return
        if isinstance(result, CardSummary):
            self.notify(Text(f"{result.login}: timecard {result.status.value}").plain, markup=False)
        elif isinstance(result, ClockEventView):
            self.notify(f"Saved: {result.label} at {result.local.format('ddd D MMM HH:mm')}")
        self.reload()

    def action_sign(self) -> None:
        if self.detail is not None:
            ask_sign(self, self.detail.summary, self._done)

    def action_reject(self) -> None:
        if self.detail is not None:
            ask_reject(self, self.detail.summary, self._done)

    def action_unlock(self) -> None:
        if self.detail is not None:
            ask_unlock(self, self.detail.summary, self._done)

    def _who(self) -> str:
        return self.detail.summary.name if self.detail else "?"

    def action_correct(self) -> None:
        from screens.supervisor.clock_correction import ClockEventForm

        row = self.current_event()
        if self.detail is None or row is None:
            self.notify("No clock event to correct here; n adds one", severity="warning")
            return
        if row.punch is None:
            self.notify("That event was voided; correct the one that counts", severity="warning")
            return
        self.app.push_screen(ClockEventForm(self._who(), self.detail.tz, event=row.punch), self._done)

    def action_add(self) -> None:
        from screens.supervisor.clock_correction import ClockEventForm

        if self.detail is None:
            return
        day = self.query_one("#card-days", DayTable).current_day
        self.app.push_screen(
            ClockEventForm(self._who(), self.detail.tz, user_id=self.user_id, day=day.day if day else None),
            self._done,
        )

    def action_void(self) -> None:
        from screens.supervisor.clock_correction import void_dialog

        row = self.current_event()
        if self.detail is None or row is None or row.punch is None:
            self.notify("Highlight a clock event that counts (in the events list)", severity="warning")
            return
        self.app.push_screen(void_dialog(self._who(), row.punch, self.detail.tz), self._done)

    def action_back(self) -> None:
        self.dismiss(None)
