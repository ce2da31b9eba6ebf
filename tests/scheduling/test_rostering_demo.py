"""The demo schedule step: rosters built by the engine, published and draft, rules kept."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from db.engine import Database
from db.models import RequestStatus, Shift, ShiftStatus, TimeOffRequest
from scheduling import rostering, shifts
from tui.demo.context import DemoContext
from tui.demo.schedule import SOLVE_SECONDS, build_schedule, office_holidays
from tui.demo.staff import build_staff


def test_office_holidays_use_observed_dates() -> None:
    assert office_holidays(2026)[5] == (dt.date(2026, 7, 3), "Independence Day")  # a Saturday
    assert office_holidays(2027)[8] == (dt.date(2027, 12, 24), "Christmas Day")
    assert office_holidays(2028)[0] == (dt.date(2027, 12, 31), "New Year's Day")
    assert dict((n, d) for d, n in office_holidays(2026))["Thanksgiving Day"] == dt.date(2026, 11, 26)
    assert dict((n, d) for d, n in office_holidays(2026))["Memorial Day"] == dt.date(2026, 5, 25)


@pytest.mark.slow
def test_demo_schedule(db: Database) -> None:
    ctx = DemoContext.start(db, 1)
    build_staff(ctx)
    build_schedule(ctx)
    weeks: list[dt.date] = ctx.data["schedule.weeks"]
    assert weeks[1] == dt.date(2026, 11, 16)  # the frozen today is that Monday
    builds: list[rostering.BuildResult] = ctx.data["schedule.builds"]
    assert [b.status.value for b in builds] == ["optimal"] * 4  # so the seed decides the roster
    sup = ctx.supervisor
    first, last = weeks[0], weeks[3] + dt.timedelta(days=6)
    ev = db.read(lambda s: rostering.evaluate_grid(sup, s, first, last))
    assert ev.violations == ()
    assert ev.penalty == sum(b.penalty or 0 for b in builds)

    status_by_week = db.read(
        lambda s: {
            (sh.day - dt.timedelta(days=sh.day.weekday()), sh.status) for sh in s.scalars(sa.select(Shift))
        }
    )
    assert status_by_week == {
        (weeks[0], ShiftStatus.PUBLISHED),
        (weeks[1], ShiftStatus.PUBLISHED),
        (weeks[2], ShiftStatus.PUBLISHED),
        (weeks[3], ShiftStatus.DRAFT),
    }
    # Thanksgiving (Thu 26 Nov) nobody works; the office is closed on Sundays.
    days = db.read(lambda s: {sh.day for sh in s.scalars(sa.select(Shift))})
    assert dt.date(2026, 11, 26) not in days and all(d.weekday() != 6 for d in days)
    requests = db.read(lambda s: sorted(r.status.value for r in s.scalars(sa.select(TimeOffRequest))))
    assert requests == ["approved", "approved", "declined", "requested"]
    # The approved time off (Thu–Fri next week) is honoured.
    aruiz = next(c for c in ctx.clerks if c.login == "aruiz")
    off = db.read(
        lambda s: s.scalars(
            sa.select(TimeOffRequest).where(
                TimeOffRequest.user_id == aruiz.user_id, TimeOffRequest.status == RequestStatus.APPROVED
            )
        ).one()
    )
    mine = db.read(lambda s: shifts.my_schedule(aruiz, s, first, last))
    assert mine and all(not (off.start_date <= m.day <= off.end_date) for m in mine)
    assert max(m.day for m in mine) < weeks[3]  # the draft week is not hers to see yet
    # Deterministic: rebuilding the draft week with the same seed changes nothing.
    again = db.write(
        lambda s: rostering.build_roster(
            sup, s, weeks[3], last, time_limit=SOLVE_SECONDS, workers=1, seed=ctx.seed, deterministic=True
        )
    )
    assert (again.created, again.changed, again.removed) == (0, 0, 0)
