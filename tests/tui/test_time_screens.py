"""Time and attendance screens driven by keys (issue 5's "done when" path and the supervisor's
decisions): a clerk clocks in, takes a break and clocks out from "my day" with the program clock
frozen at each instant, submits the card; the supervisor sees the lateness, signs, is refused a
change of the signed card, unlocks, corrects, signs again and exports payroll to a CSV file.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from textual.widgets import DataTable, Input

from db import timeutil
from db.models import ClockEvent, ClockKind, Timecard, TimecardSignature, TimecardStatus
from screens.clerk.my_day import MyDayScreen
from screens.clerk.my_timecard import MyTimecardScreen, SubmitDialog
from screens.common.time_view import InfoDialog, ReasonDialog
from screens.supervisor.clock_correction import ClockEventForm
from screens.supervisor.payroll_export import PayrollExportScreen
from screens.supervisor.timecards import CardScreen, TimecardsScreen
from tests.conftest import FROZEN_NOW, Office
from tests.pilot import replace, screen_text, settle, type_text
from tests.scheduling.factories_time import add_shift, local, work
from tests.tui.conftest import make_app
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.header import OfficeHeader

LAST_WEEK = dt.date(2026, 11, 9)  # the pay period before the frozen Monday 16 Nov 2026


async def press(pilot: Any, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def notes(app: Any) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def header(app: Any) -> str:
    return str(app.screen.query_one(OfficeHeader).render())


def events(office: Office, login_actor: Any) -> list[tuple[str, str, str, bool, str]]:
    """(kind, local time, source, voided, reason) of a person's events, oldest first."""

    def go(s: Any) -> list[tuple[str, str, str, bool, str]]:
        rows = s.scalars(
            sa.select(ClockEvent).where(ClockEvent.user_id == login_actor.user_id).order_by(ClockEvent.id)
        )
        return [
            (
                e.kind.value,
                e.at.in_timezone("America/New_York").format("MM-DD HH:mm"),
                e.source.value,
                e.voided,
                e.reason,
            )
            for e in rows
        ]

    return office.db.read(go)


def card(office: Office, who: Any) -> Timecard | None:
    return office.db.read(
        lambda s: s.scalars(
            sa.select(Timecard).where(Timecard.user_id == who.user_id, Timecard.period_start == LAST_WEEK)
        ).one_or_none()
    )


def signatures(office: Office) -> int:
    return office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(TimecardSignature)))


async def clerk_week(office: Office) -> None:
    """Cleo's Friday 13 Nov through her own keys: in 08:07 (7 minutes late), break 12:00–12:30,
    out 16:00; then back on Monday 16 Nov she submits the week with a note."""
    add_shift(
        office.db, office.clerk, "2026-11-13", by=office.sup, start="08:00", minutes=480, unpaid_break=30
    )
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        timeutil.freeze(local("2026-11-13 07:55"))
        await settle(pilot)
        assert isinstance(app.screen, MyDayScreen)
        assert "not clocked in" in header(app)

        timeutil.freeze(local("2026-11-13 08:07:40"))
        await press(pilot, "i")
        assert "Clocked in since 08:07" in screen_text(app)
        assert "clocked in 08:07" in header(app)

        timeutil.freeze(local("2026-11-13 12:00"))
        await press(pilot, "b")
        assert "on break since 12:00" in header(app)
        # A second clock-in during the break is refused with what to do instead; nothing recorded.
        await press(pilot, "i")
        assert "NOT RECORDED You are on a break since 12:00; end the break instead of clocking in again" in (
            screen_text(app)
        )
        assert len(events(office, office.clerk)) == 2

        timeutil.freeze(local("2026-11-13 12:30"))
        await press(pilot, "r")
        assert "clocked in 08:07" in header(app)
        timeutil.freeze(local("2026-11-13 16:00"))
        await press(pilot, "o")
        assert "not clocked in" in header(app)
        assert "Clocked out at 16:00" in screen_text(app)
        await press(pilot, "o")
        assert "You are not clocked in, so you cannot clock out" in screen_text(app)
        assert [e[:3] for e in events(office, office.clerk)] == [
            ("in", "11-13 08:07", "clock"),
            ("break_start", "11-13 12:00", "clock"),
            ("break_end", "11-13 12:30", "clock"),
            ("out", "11-13 16:00", "clock"),
        ]

        # Monday: the card of last week, day by day, then submitted with a note.
        timeutil.freeze(FROZEN_NOW)
        await press(pilot, "t")
        assert isinstance(app.screen, MyTimecardScreen)
        assert "this pay period" in screen_text(app)
        await press(pilot, "left_square_bracket")
        text = screen_text(app)
        assert "Mon 9 Nov – Sun 15 Nov 2026 · OPEN: not submitted" in text
        assert "Scheduled 7:30 · worked 7:23 · paid 7:23 · regular 7:23 · overtime 0:00" in text
        assert "Variance: late 1× (7 min)" in text
        friday = next(line for line in text.splitlines() if line.startswith("Fri 13 Nov"))
        assert friday.split(" | ")[1:8] == ["D 08:00–16:00", "7:23", "0:30", "7", "", "", "worked"]
        assert "in 08:07 · break 12:00 · back 12:30 · out 16:00" in friday

        await press(pilot, "s")
        assert isinstance(app.screen, SubmitDialog)
        assert "Regular 7:23 · overtime 0:00 · worked 7:23 of 7:30 scheduled" in screen_text(app)
        assert "Your supervisor will see: late 1× (7 min)" in screen_text(app)
        await type_text(pilot, "traffic on Friday")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, MyTimecardScreen)
        assert "SUBMITTED Mon 16 Nov 10:00" in screen_text(app)
        assert "Note from the clerk: traffic on Friday" in screen_text(app)
    c = card(office, office.clerk)
    assert c is not None and c.status == TimecardStatus.SUBMITTED and c.submit_note == "traffic on Friday"


async def test_done_when_clock_submit_sign_frozen_unlock_correct_resign_export(
    office: Office, tmp_path: Path
) -> None:
    await clerk_week(office)

    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "g", "t")
        assert isinstance(app.screen, TimecardsScreen)
        text = screen_text(app)
        assert "waiting for a signature · 1 card, 0 clean" in text
        row = next(line for line in text.splitlines() if "Cleo Clerk" in line)
        assert "! late 1× (7 min)" in row

        # Sign: the confirmation shows the totals that will be signed.
        await press(pilot, "s")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Totals that will be signed: regular 7:23, overtime 0:00 (worked 7:23, scheduled 7:30)" in (
            screen_text(app)
        )
        assert "Variance: late 1× (7 min)." in screen_text(app)
        await press(pilot, "y")
        assert card(office, office.clerk).status == TimecardStatus.SIGNED  # type: ignore[union-attr]
        assert signatures(office) == 1
        assert "No timecards are waiting for a signature" in screen_text(app)

        # The signed card, in the period view: open it, try to correct the clock-in.
        await press(pilot, "left_square_bracket")
        assert "Mon 9 Nov – Sun 15 Nov 2026 · 1 card, 0 waiting" in screen_text(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, CardScreen)
        assert "SIGNED by sam Mon 16 Nov 10:00" in screen_text(app)
        events_table = app.screen.query_one("#card-events", DataTable)
        events_table.focus()
        events_table.move_cursor(row=0)
        before = events(office, office.clerk)
        await press(pilot, "k")
        assert isinstance(app.screen, ClockEventForm)
        await replace(pilot, "#input-time", "08:00")
        await replace(pilot, "#input-reason", "bus strike, agreed")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ClockEventForm)  # still open, with the service's refusal
        assert (  # on the form's problem line, with the refusal's title
            "Locked: the timecard of cleo for 2026-11-09 – 2026-11-15 is signed (by sam on 2026-11-16 "
            "10:00); a supervisor must unlock it before its clock events can change" in screen_text(app)
        )
        assert events(office, office.clerk) == before
        await press(pilot, "escape")

        # Unlock needs a reason; then the correction goes through and the card is signed again.
        await press(pilot, "u")
        assert isinstance(app.screen, ReasonDialog)
        await press(pilot, "ctrl+s")
        assert "Reason is required" in screen_text(app)
        assert card(office, office.clerk).status == TimecardStatus.SIGNED  # type: ignore[union-attr]
        await type_text(pilot, "clock-in was wrong")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CardScreen)
        c = card(office, office.clerk)
        assert (
            c is not None and c.status == TimecardStatus.SUBMITTED and c.unlock_reason == "clock-in was wrong"
        )
        assert "Unlocked: clock-in was wrong" in screen_text(app)

        events_table = app.screen.query_one("#card-events", DataTable)
        events_table.focus()
        events_table.move_cursor(row=0)
        await press(pilot, "k")
        await replace(pilot, "#input-time", "08:00")
        await replace(pilot, "#input-reason", "bus strike, agreed")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CardScreen)
        after = events(office, office.clerk)
        assert after[0] == ("in", "11-13 08:07", "clock", True, "")  # the original, kept and voided
        assert after[-1] == ("in", "11-13 08:00", "supervisor", False, "bus strike, agreed")
        text = screen_text(app)
        assert "Scheduled 7:30 · worked 7:30 · paid 7:30 · regular 7:30 · overtime 0:00" in text
        assert "No variance against the schedule" in text
        rows = [line for line in text.splitlines() if "| Fri 13 Nov |" in line]
        assert rows[:2] == [
            "5 | Fri 13 Nov | in | 08:00 | supervisor | bus strike, agreed",
            "1 | Fri 13 Nov | in | 08:07 | clock | voided (kept in the history)",
        ]

        await press(pilot, "s")
        assert "Totals that will be signed: regular 7:30, overtime 0:00" in screen_text(app)
        await press(pilot, "y")
        assert card(office, office.clerk).status == TimecardStatus.SIGNED  # type: ignore[union-attr]
        assert signatures(office) == 2

        # Payroll: the period's signed cards to a new CSV file.
        await press(pilot, "escape")
        assert isinstance(app.screen, TimecardsScreen)
        await press(pilot, "e")
        assert isinstance(app.screen, PayrollExportScreen)
        assert app.screen.query_one("#input-period", Input).value == "2026-11-09"
        assert "cleo" in screen_text(app) and "7.50" in screen_text(app)
        out = app.exports / "payroll" / "2026-11-09.csv"  # a sub-folder of the exports folder is made
        await replace(pilot, "#input-path", "payroll/2026-11-09.csv")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmDialog)
        assert f"Write 1 row(s) to {out}:" in screen_text(app)
        assert "cleo: regular 7.50 h, overtime 0.00 h" in screen_text(app)
        await press(pilot, "y")
        assert f"Exported 1 timecard(s) of 2026-11-09 – 2026-11-15 to {out}" in screen_text(app)
        # Unlocking the exported card is refused before a reason is typed (issue 12).
        await press(pilot, "escape")
        assert isinstance(app.screen, TimecardsScreen)
        await press(pilot, "u")
        assert not isinstance(app.screen, ReasonDialog)
        assert "exported to payroll and cannot be unlocked" in notes(app)
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["login"], r["regular_hours"], r["overtime_hours"], r["signed_by"]) for r in rows] == [
        ("cleo", "7.50", "0.00", "sam")
    ]
    assert out.stat().st_mode & 0o077 == 0  # pay data: readable by the supervisor only
    assert card(office, office.clerk).status == TimecardStatus.EXPORTED  # type: ignore[union-attr]


def _submitted_week(office: Office, who: Any, *, late: bool = False, submit: bool = True) -> None:
    """A clean (or late) Monday for ``who`` in last week's period, submitted on the frozen Monday."""
    from scheduling import timecards

    add_shift(office.db, who, "2026-11-09", by=office.sup if who != office.sup else office.sup2)
    work(office.db, who, "2026-11-09 08:20" if late else "2026-11-09 08:00", "2026-11-09 16:00")
    if submit:
        office.db.write(lambda s: timecards.submit_timecard(who, s, LAST_WEEK, ""))


async def test_self_signing_is_refused_with_the_services_message(office: Office) -> None:
    _submitted_week(office, office.sup)  # the supervisor's own card
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TimecardsScreen())
        await settle(pilot)
        assert "Sam Super (you)" in screen_text(app)
        await press(pilot, "s")
        assert not isinstance(app.screen, ConfirmDialog)  # nothing to confirm: the service refuses
        assert "sam may not sign a timecard for their own work" in notes(app)
        # Signing all clean cards skips it too, and says why.
        await press(pilot, "c")
        assert isinstance(app.screen, InfoDialog)
        assert "sam: your own card" in screen_text(app)
    c = card(office, office.sup)
    assert c is not None and c.status == TimecardStatus.SUBMITTED and c.signed_by is None
    assert signatures(office) == 0


async def test_sign_marked_and_all_clean_skip_variance_with_the_reason(office: Office) -> None:
    _submitted_week(office, office.clerk)  # clean
    _submitted_week(office, office.clerk2, late=True)  # 20 minutes late
    _submitted_week(office, office.clerk3)  # clean
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TimecardsScreen())
        await settle(pilot)
        assert "3 cards, 2 clean" in screen_text(app)
        # Mark Carl (late) and Cleo: the late card is skipped with its variance.
        names = [
            str(r[1]) for r in (app.screen.query_one("#tc-cards", DataTable).get_row_at(i) for i in range(3))
        ]
        assert names == ["Carl Clerk", "Cleo Clerk", "Cora Clerk"]
        await press(pilot, "space", "space")
        assert "2 marked" in screen_text(app)
        await press(pilot, "m")
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert "Will be signed (1):" in text and "cleo  09 Nov  regular 8:00  overtime 0:00" in text
        assert "Will be skipped (1), to be opened one by one:" in text and "carl: late 1× (20 min)" in text
        await press(pilot, "y")
        assert isinstance(app.screen, InfoDialog)
        assert "Signed 1" in screen_text(app)
        assert "carl: differs from the schedule: late 1× (20 min)" in screen_text(app)
        await press(pilot, "enter")
        assert card(office, office.clerk).status == TimecardStatus.SIGNED  # type: ignore[union-attr]
        assert card(office, office.clerk2).status == TimecardStatus.SUBMITTED  # type: ignore[union-attr]
        assert card(office, office.clerk3).status == TimecardStatus.SUBMITTED  # type: ignore[union-attr]

        # "Sign clean" takes every clean card shown (Cora) and skips Carl again.
        await press(pilot, "c")
        assert "cora" in screen_text(app) and "carl: late 1× (20 min)" in screen_text(app)
        await press(pilot, "y")
        assert "Signed 1" in screen_text(app)
        await press(pilot, "enter")
        assert card(office, office.clerk3).status == TimecardStatus.SIGNED  # type: ignore[union-attr]
        assert card(office, office.clerk2).status == TimecardStatus.SUBMITTED  # type: ignore[union-attr]
        assert signatures(office) == 2


async def test_reject_sends_the_card_back_and_the_clerk_reads_the_reason_literally(office: Office) -> None:
    _submitted_week(office, office.clerk, late=True)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(TimecardsScreen())
        await settle(pilot)
        await press(pilot, "x")
        assert isinstance(app.screen, ReasonDialog)
        await press(pilot, "ctrl+s")
        assert "Reason for the clerk is required" in screen_text(app)
        assert card(office, office.clerk).status == TimecardStatus.SUBMITTED  # type: ignore[union-attr]
        await type_text(pilot, "[bold]x[/] see me")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, TimecardsScreen)
    c = card(office, office.clerk)
    assert c is not None and c.status == TimecardStatus.OPEN and c.rejected_reason == "[bold]x[/] see me"

    clerk = make_app(office, "clerk")
    async with clerk.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        clerk.push_screen(MyTimecardScreen(LAST_WEEK))
        await settle(pilot)
        text = screen_text(clerk)
        assert "OPEN: sent back by a supervisor" in text
        assert "Sent back: [bold]x[/] see me" in text


async def test_add_a_forgotten_clock_out_and_void_a_double_punch(office: Office) -> None:
    add_shift(office.db, office.clerk, "2026-11-10", by=office.sup)
    from tests.scheduling.factories_time import punch

    punch(office.db, office.clerk, ClockKind.IN, "2026-11-10 08:00")  # no clock-out
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(CardScreen(office.clerk.user_id, LAST_WEEK))
        await settle(pilot)
        assert "no clock-out on 1 day(s)" in screen_text(app)
        app.screen.query_one("#card-days", DataTable).move_cursor(row=1)  # Tue 10 Nov
        await settle(pilot)
        await press(pilot, "n")
        assert isinstance(app.screen, ClockEventForm)
        assert app.screen.query_one("#input-day", Input).value == "2026-11-10"
        await replace(pilot, "#input-time", "16:05")
        await replace(pilot, "#input-reason", "forgot to clock out")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CardScreen)
        assert "left early" not in screen_text(app) and "no clock-out" not in screen_text(app)
        assert events(office, office.clerk)[-1] == (
            "out",
            "11-10 16:05",
            "supervisor",
            False,
            "forgot to clock out",
        )

        # Void it again (as if it were a double punch): kept in the history, voided, with a reason.
        events_table = app.screen.query_one("#card-events", DataTable)
        events_table.focus()
        events_table.move_cursor(row=1)
        await press(pilot, "v")
        assert isinstance(app.screen, ReasonDialog)
        assert "Void Cleo Clerk's clock-out of Tue 10 Nov 16:05?" in screen_text(app)
        await type_text(pilot, "entered twice")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CardScreen)
        assert events(office, office.clerk)[-1][3] is True
        assert "no clock-out on 1 day(s)" in screen_text(app)


async def test_clerk_sees_and_acknowledges_own_discipline_record(office: Office) -> None:
    from scheduling import attendance

    rec = office.db.write(
        lambda s: attendance.record_discipline(
            office.sup, s, office.clerk.user_id, "verbal", "[red]late[/] twice"
        )
    )
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "g", "n")
        text = screen_text(app)
        assert "1 to acknowledge" in text
        assert "Verbal note of 2026-11-16 from sam: [red]late[/] twice" in text
        await press(pilot, "a")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        assert "You acknowledged it on 2026-11-16 10:00" in screen_text(app)
        await press(pilot, "a")
        assert "You acknowledged this record already" in notes(app)

    def ack(s: Any) -> Any:
        from db.models import DisciplineRecord

        return s.get(DisciplineRecord, rec.id).acknowledged_at

    assert office.db.read(ack) == timeutil.now()
