"""Bad input on the time screens: every form says which field is wrong and why, and nothing
changes in the database. Hostile text is stored and shown literally. Also: who sees which
screen, help and palette, the discipline screen's suggestions (never applied by themselves).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from textual.widgets import DataTable, Input, SelectionList

from db.models import DisciplineKind, DisciplineRecord, Timecard, TimecardStatus, discipline_incidents
from scheduling import attendance, timecards
from screens.clerk.my_timecard import MyTimecardScreen, SubmitDialog
from screens.common.goto import GotoDialog
from screens.common.help import HelpScreen
from screens.common.time_view import InfoDialog
from screens.supervisor.clock_correction import ClockEventForm
from screens.supervisor.discipline import DisciplineForm, DisciplineScreen, IncidentRunDialog
from screens.supervisor.payroll_export import PayrollExportScreen
from screens.supervisor.timecards import CardScreen, TimecardsScreen
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle, type_text
from tests.scheduling.factories_time import add_shift, work
from tests.tui.conftest import make_app
from tests.tui.test_time_screens import LAST_WEEK, events, notes, press


def _week(office: Office) -> None:
    """Cleo worked Mon 9 Nov 08:00–16:00 and submitted the week (not signed)."""
    add_shift(office.db, office.clerk, "2026-11-09", by=office.sup)
    work(office.db, office.clerk, "2026-11-09 08:00", "2026-11-09 16:00")
    office.db.write(lambda s: timecards.submit_timecard(office.clerk, s, LAST_WEEK, ""))


async def _correct_first_event(pilot: Any, office: Office) -> None:
    pilot.app.push_screen(CardScreen(office.clerk.user_id, LAST_WEEK))
    await settle(pilot)
    table = pilot.app.screen.query_one("#card-events", DataTable)
    table.focus()
    table.move_cursor(row=0)
    await press(pilot, "k")
    assert isinstance(pilot.app.screen, ClockEventForm)


async def test_correction_form_refuses_bad_times_and_reasons_and_changes_nothing(office: Office) -> None:
    _week(office)
    before = events(office, office.clerk)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await _correct_first_event(pilot, office)
        form = app.screen
        assert form.query_one("#input-time", Input).value == "08:00"
        cases = [
            ("", "2026-11-09", "Time (HH:MM) is required"),
            ("25:00", "2026-11-09", "Time (HH:MM) '25:00' is not a time of day (00:00 to 23:59)"),
            ("7h", "2026-11-09", "Time (HH:MM) '7h' is not a time (HH:MM, 24-hour clock)"),
            ("08:01", "2026-13-01", "Date (YYYY-MM-DD) '2026-13-01' is not a date (YYYY-MM-DD)"),
        ]
        await replace(pilot, "#input-reason", "a reason")
        for time_text, day_text, message in cases:
            await replace(pilot, "#input-time", time_text)
            await replace(pilot, "#input-day", day_text)
            await press(pilot, "ctrl+s")
            assert isinstance(app.screen, ClockEventForm)
            assert message in screen_text(app), message
        # The service's refusals: a time in the future; a clock-in after the clock-out.
        await replace(pilot, "#input-day", "2026-11-17")
        await replace(pilot, "#input-time", "08:00")
        await press(pilot, "ctrl+s")
        assert "Time (HH:MM) cannot be in the future" in screen_text(app)
        await replace(pilot, "#input-day", "2026-11-09")
        await replace(pilot, "#input-time", "17:00")
        await press(pilot, "ctrl+s")
        assert "clock events must stay in order (in, breaks, out)" in screen_text(app)
        # No reason: refused before the service is asked.
        await replace(pilot, "#input-time", "07:55")
        await replace(pilot, "#input-reason", "")
        await press(pilot, "ctrl+s")
        assert "Reason is required" in screen_text(app)
        assert events(office, office.clerk) == before
        assert app.screen.query_one("#input-time", Input).value == "07:55"  # what was typed stays

        # Hostile text is only text: saved and shown as typed.
        await replace(pilot, "#input-reason", "[bold]x[/] '; DROP TABLE clock_events; --")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, CardScreen)
        assert "[bold]x[/] '; DROP TABLE clock_events; --" in screen_text(app)
    after = events(office, office.clerk)
    assert after[-1] == (
        "in",
        "11-09 07:55",
        "supervisor",
        False,
        "[bold]x[/] '; DROP TABLE clock_events; --",
    )
    assert len(after) == len(before) + 1


async def test_submit_before_the_period_ends_is_refused_with_the_rule(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        assert isinstance(app.screen, MyTimecardScreen)
        await press(pilot, "s")
        assert isinstance(app.screen, SubmitDialog)
        await type_text(pilot, "done")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, SubmitDialog)
        assert "The period runs until 2026-11-22; submit it on or after its last day" in screen_text(app)
        # The next period does not exist yet; the previous one opens.
        await press(pilot, "escape", "right_square_bracket")
        assert "This is the current pay period" in notes(app)
    assert office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Timecard))) == 0


async def test_payroll_export_refusals_leave_no_file_and_no_change(office: Office, tmp_path: Path) -> None:
    _week(office)  # cleo: submitted, not signed
    app = make_app(office, "sup")
    folder = app.exports  # the supervisor's exports folder: every file goes in there
    folder.mkdir(parents=True)
    existing = folder / "old.csv"
    existing.write_text("keep me")
    (tmp_path / "outside").mkdir()
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await press(pilot, "g", "x")
        assert isinstance(app.screen, PayrollExportScreen)
        assert app.screen.query_one("#input-period", Input).value == "2026-11-09"
        assert "Not signed (1): cleo (submitted)" in screen_text(app)
        label = "CSV file (new)"
        assert f"Written in {folder}/" in screen_text(app)

        await replace(pilot, "#input-path", "old.csv")
        await press(pilot, "ctrl+s")
        assert f"{label} {existing} exists; choose a new file name" in screen_text(app)
        await replace(pilot, "#input-path", "../outside/pay.csv")
        await press(pilot, "ctrl+s")
        assert f"{label} may not contain '..'" in screen_text(app)
        await replace(pilot, "#input-path", str(tmp_path / "outside" / "pay.csv"))
        await press(pilot, "ctrl+s")
        assert f"{label} must be a file name inside your exports folder ({folder})" in screen_text(app)

        out = folder / "pay.csv"
        await replace(pilot, "#input-path", "pay.csv")
        await replace(pilot, "#input-period", "2026-11-10")
        await press(pilot, "ctrl+s")
        assert "is not the first day of a pay period" in screen_text(app)

        await replace(pilot, "#input-period", "2026-11-09")
        await replace(pilot, "#input-path", "pay.csv")
        await press(pilot, "ctrl+s")
        assert (
            "1 timecard(s) of 2026-11-09 – 2026-11-15 are not signed: cleo (submitted); "
            "sign them first or export the signed cards only" in screen_text(app)
        )
        assert not isinstance(app.screen, InfoDialog)
    assert not out.exists() and existing.read_text() == "keep me"
    assert [p.name for p in folder.iterdir()] == ["old.csv"]  # no temporary file left either
    assert list((tmp_path / "outside").iterdir()) == []
    status = office.db.read(lambda s: s.scalars(sa.select(Timecard.status)).all())
    assert status == [TimecardStatus.SUBMITTED]


async def test_clerks_see_only_their_time_screens(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test() as pilot:
        await settle(pilot)
        await press(pilot, "g")
        assert isinstance(app.screen, GotoDialog)
        titles = [e.title for e in app.screen.entries]
        assert "My timecard" in titles and "My records" in titles
        assert not {"Timecards", "Payroll export", "Attendance & discipline"} & set(titles)
    sup = make_app(office, "sup")
    async with sup.run_test() as pilot:
        await settle(pilot)
        titles = [c.title for c in sup.get_system_commands(sup.screen)]
        assert {"Go to Timecards", "Go to Payroll export", "Go to Attendance & discipline"} <= set(titles)


async def test_every_timecard_action_is_in_help_and_palette(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(TimecardsScreen())
        await settle(pilot)
        palette = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Sign (s)",
            "Send back (x)",
            "Unlock (u)",
            "Mark (space)",
            "Sign marked (m)",
            "Sign clean (c)",
            "Payroll (e)",
        ):
            assert title in palette, title
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for what in ("Sign marked", "Sign clean", "Queue/period", "Prev period", "Payroll"):
            assert what in text
    clerk = make_app(office, "clerk")
    async with clerk.run_test() as pilot:
        await settle(pilot)
        palette = [c.title for c in clerk.get_system_commands(clerk.screen)]
        for title in ("In (i)", "Out (o)", "Break (b)", "Back (r)", "Timecard (t)"):
            assert title in palette, title


def _three_lates(office: Office) -> None:
    for day in ("2026-11-10", "2026-11-11", "2026-11-12"):
        add_shift(office.db, office.clerk, day, by=office.sup)
        work(office.db, office.clerk, f"{day} 08:15", f"{day} 16:00")

    def go(s: Any) -> None:
        attendance.ensure_default_rules(office.sup, s)
        for d in (10, 11, 12):
            attendance.record_incidents(office.sup, s, dt.date(2026, 11, d))

    office.db.write(go)


async def test_discipline_suggestion_fills_the_form_and_nothing_happens_until_saved(office: Office) -> None:
    _three_lates(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await press(pilot, "g", "i")
        assert isinstance(app.screen, DisciplineScreen)
        text = screen_text(app)
        assert "Cleo Clerk | 3 × late in 30 days → written warning suggested" in text
        assert "1 suggestion from the rules (never automatic)" in text
        assert (
            office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(DisciplineRecord))) == 0
        )

        await press(pilot, "u")
        assert isinstance(app.screen, DisciplineForm)
        assert "Suggested by the rule 3 × late in 30 days → written warning" in screen_text(app)
        assert len(app.screen.query_one(SelectionList).selected) == 3
        await press(pilot, "ctrl+s")  # no reason yet
        assert "Reason is required" in screen_text(app)
        await press(pilot, "escape")
        assert (
            office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(DisciplineRecord))) == 0
        )

        await press(pilot, "u")
        await replace(pilot, "#input-day", "2026-11-30")
        await replace(pilot, "#input-reason", "[bold]x[/] three lates")
        await press(pilot, "ctrl+s")
        assert "Date (YYYY-MM-DD) cannot be in the future" in screen_text(app)
        await replace(pilot, "#input-day", "2026-11-16")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, DisciplineScreen)
        text = screen_text(app)
        assert "0 suggestions from the rules" in text
        assert "written warning | sam | not yet | [bold]x[/] three lates" in text

    def saved(s: Any) -> tuple[DisciplineKind, str, int]:
        rec = s.scalars(sa.select(DisciplineRecord)).one()
        links = s.scalar(sa.select(sa.func.count()).select_from(discipline_incidents))
        return rec.kind, rec.reason, links

    assert office.db.read(saved) == (DisciplineKind.WRITTEN, "[bold]x[/] three lates", 3)


async def test_record_incidents_for_a_day_from_the_screen(office: Office) -> None:
    add_shift(office.db, office.clerk, "2026-11-13", by=office.sup)
    work(office.db, office.clerk, "2026-11-13 08:30", "2026-11-13 16:00")
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.push_screen(DisciplineScreen())
        await settle(pilot)
        await press(pilot, "i")
        assert isinstance(app.screen, IncidentRunDialog)
        await replace(pilot, "#input-day", "2026-11-17")
        await press(pilot, "ctrl+s")
        assert "Day (YYYY-MM-DD) 2026-11-17 has not happened yet" in screen_text(app)
        await replace(pilot, "#input-day", "2026-11-13")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, InfoDialog)
        assert "1 new, 0 already recorded" in screen_text(app)
        assert "cleo: 2026-11-13 late 30 min" in screen_text(app)
        await press(pilot, "enter")
        assert "Cleo Clerk | 1" in screen_text(app)
