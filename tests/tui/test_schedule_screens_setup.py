"""Schedule set-up by keyboard: shift types, coverage, roster rules, holidays; bad input refused
with the field named and nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from textual.widgets import Select

from db.models import CoverageRequirement, Holiday, RosterRule, ShiftType
from scheduling import shifts
from screens.supervisor.schedule_setup import (
    CoverageForm,
    HolidayForm,
    RuleForm,
    ScheduleSetupScreen,
    ShiftTypeForm,
    parse_max_shifts,
    parse_sequences,
    parse_weekdays,
)
from tests.conftest import Office
from tests.pilot import fill, screen_text, settle
from tests.tui.conftest import make_app
from tests.tui.test_schedule_screens import setup_office
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.forms import ParseError


def count(office: Office, model: Any) -> int:
    return office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)))


async def open_setup(pilot: Any) -> ScheduleSetupScreen:
    await settle(pilot)
    await pilot.press("g", "u")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ScheduleSetupScreen)
    return pilot.app.screen


def choose(pilot: Any, field: str, value: Any) -> None:
    pilot.app.screen.query_one(f"#input-{field}", Select).value = value


async def save(pilot: Any) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_shift_types_listed_added_refused_and_retired(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(pilot)
        text = screen_text(app)
        assert "E | Early | 07:00–15:00 | 8:00 | 0 min | yes" in text
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ShiftTypeForm)
        await fill(pilot, "code", "e!")
        await fill(pilot, "name", "[bold]Night[/]")
        await fill(pilot, "start_time", "25:00")
        await save(pilot)
        assert "Starts at (HH:MM) '25:00' is not a time (HH:MM)" in screen_text(app)
        await fill(pilot, "start_time", "22:00")
        await save(pilot)
        assert "Code (typed in the grid) 1 to 4 capital letters or digits" in screen_text(app)
        assert count(office, ShiftType) == 2
        await fill(pilot, "code", "N")
        await save(pilot)
        assert isinstance(app.screen, ScheduleSetupScreen)
        night = office.db.read(lambda s: s.scalars(sa.select(ShiftType).where(ShiftType.code == "N")).one())
        assert (night.name, night.start_time, night.minutes) == ("[bold]Night[/]", dt.time(22), 480)
        assert "[bold]Night[/]" in screen_text(app)  # literally
        # d retires the selected type after a confirmation (its shifts keep it).
        await pilot.press("down", "down", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Retire shift type N?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert office.db.read(lambda s: s.get(ShiftType, night.id).active) is False


async def test_coverage_added_on_a_date_and_bad_input_refused(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(pilot)
        await pilot.press("2")
        before = count(office, CoverageRequirement)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, CoverageForm)
        choose(pilot, "shift_code", "E")
        await fill(pilot, "required", "abc")
        await save(pilot)
        assert "Minimum people 'abc' is not a whole number" in screen_text(app)
        await fill(pilot, "required", "3")
        await save(pilot)  # neither a weekday nor a date: the service says which field
        assert "give either a weekday (0=Mon … 6=Sun) or a date, not both" in screen_text(app)
        await fill(pilot, "on_date", "2026-12-24")
        await fill(pilot, "preferred", "2")
        await save(pilot)
        assert "must be at least the minimum" in screen_text(app)
        assert count(office, CoverageRequirement) == before
        await fill(pilot, "preferred", "4")
        await save(pilot)
        assert isinstance(app.screen, ScheduleSetupScreen)
        row = office.db.read(
            lambda s: s.scalars(
                sa.select(CoverageRequirement).where(CoverageRequirement.on_date.is_not(None))
            ).one()
        )
        assert (row.on_date, row.required, row.preferred, row.under_weight, row.over_weight) == (
            dt.date(2026, 12, 24),
            3,
            4,
            100,
            10,
        )
        assert "on 2026-12-24" in screen_text(app)


async def test_rules_added_with_readable_fields_and_hostile_text_refused(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_setup(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert "team Public" in screen_text(app)
        before = office.db.read(
            lambda s: [(r.user_id, r.team_id, r.max_minutes) for r in s.scalars(sa.select(RosterRule))]
        )
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, RuleForm)
        choose(pilot, "scope", "clerk:cora")
        await fill(pilot, "max_shifts", "[bold]x[/]")
        await fill(pilot, "fixed_days_off", "Funday")
        await save(pilot)
        text = screen_text(app)
        assert "'[bold]x[/]': write CODE=number" in text
        assert "'Funday' is not a weekday (Mon … Sun)" in text
        await fill(pilot, "max_shifts", "L=0")
        await fill(pilot, "fixed_days_off", "sat, Sun")
        await fill(pilot, "min_minutes", "30")
        await fill(pilot, "max_minutes", "24")
        await save(pilot)  # the service: the maximum is below the minimum
        assert "Max hours a week is below the minimum" in screen_text(app)
        assert (
            office.db.read(
                lambda s: [(r.user_id, r.team_id, r.max_minutes) for r in s.scalars(sa.select(RosterRule))]
            )
            == before
        )
        await fill(pilot, "max_minutes", "37:30")
        await fill(pilot, "forbidden_sequences", "l>e")
        await save(pilot)
        assert isinstance(app.screen, ScheduleSetupScreen)
        rule = office.db.read(lambda s: shifts.effective_rule(office.sup, s, "cora"))
        assert (rule.min_minutes, rule.max_minutes) == (1800, 2250)
        assert dict(rule.max_shifts) == {"L": 0}
        assert rule.fixed_days_off == frozenset({5, 6})
        assert rule.forbidden_sequences == frozenset({("L", "E")})
        assert "clerk cora" in screen_text(app)


async def test_holidays_added_and_removed(office: Office) -> None:
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_setup(pilot)
        await pilot.press("4", "a")
        await settle(pilot)
        assert isinstance(app.screen, HolidayForm)
        await fill(pilot, "day", "2026-12-25")
        await save(pilot)
        assert "Name is required" in screen_text(app)
        await fill(pilot, "name", "Christmas Day")
        await save(pilot)
        assert count(office, Holiday) == 1
        assert "Fri 2026-12-25 | Christmas Day" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert "2026-12-25 (Christmas Day) becomes an ordinary day" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert count(office, Holiday) == 0


def test_field_parsers() -> None:
    assert parse_max_shifts("e=5, L2 = 0") == {"E": 5, "L2": 0}
    assert parse_sequences("l>e,N > M") == [("L", "E"), ("N", "M")]
    assert parse_weekdays("sunday, Sat, sat") == [5, 6]
    for bad, fn in (("E5", parse_max_shifts), ("L-E", parse_sequences), ("Noday", parse_weekdays)):
        try:
            fn(bad)
        except ParseError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
