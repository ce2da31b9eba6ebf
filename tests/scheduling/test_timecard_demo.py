"""The demo's time step: real services, every timecard state, a valid chain, frozen clock restored."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from db import audit, timeutil
from db.engine import Database
from db.models import (
    AttendanceIncident,
    ClockEvent,
    DisciplineRecord,
    DisciplineRule,
    IncidentKind,
    Timecard,
    TimecardSignature,
    TimecardStatus,
)
from scheduling import attendance, timecards
from tui.demo.context import DemoContext
from tui.demo.schedule import build_schedule
from tui.demo.staff import build_staff
from tui.demo.time import build_time


@pytest.mark.slow
@pytest.mark.parametrize(
    ("now", "before", "last"),
    [
        # Monday: the week that ended last night is still open, the workflow is a week further back.
        ("2026-11-16T15:00:00+00:00", dt.date(2026, 10, 26), dt.date(2026, 11, 2)),
        ("2026-11-18T15:00:00+00:00", dt.date(2026, 11, 2), dt.date(2026, 11, 9)),
    ],
)
def test_demo_time_step(db: Database, now: str, before: dt.date, last: dt.date) -> None:
    timeutil.freeze(now)
    ctx = DemoContext.start(db, seed=1)
    build_staff(ctx)
    build_schedule(ctx)
    build_time(ctx)
    assert timeutil.now().isoformat() == now  # the frozen clock is back where it was

    p2, p1 = ctx.data["time.periods"]
    assert (p2.start, p1.start) == (before, last)
    midnight = timeutil.local_instant(ctx.today, dt.time(0), ctx.tz)

    def facts(s: sa.orm.Session) -> dict[str, object]:
        cards = list(s.scalars(sa.select(Timecard)))
        per_card = s.execute(
            sa.select(TimecardSignature.timecard_id, sa.func.count()).group_by(TimecardSignature.timecard_id)
        ).all()
        return {
            "p2": sorted({c.status.value for c in cards if c.period_start == p2.start}),
            "p1": sorted({c.status.value for c in cards if c.period_start == p1.start}),
            "other_cards": sorted({c.period_start for c in cards} - {p2.start, p1.start}),
            "resigned": sum(1 for _, n in per_card if n == 2),
            "events_from_today": s.scalar(
                sa.select(sa.func.count()).select_from(ClockEvent).where(ClockEvent.at >= midnight)
            ),
            "events_last_two_days": s.scalar(
                sa.select(sa.func.count())
                .select_from(ClockEvent)
                .where(ClockEvent.at >= midnight.subtract(days=2), ClockEvent.at < midnight)
            ),
            "corrections": s.scalar(
                sa.select(sa.func.count())
                .select_from(ClockEvent)
                .where(ClockEvent.supersedes_id.is_not(None))
            ),
            "incident_kinds": sorted({i.kind.value for i in s.scalars(sa.select(AttendanceIncident))}),
            "records": sorted(
                (r.kind.value, r.acknowledged_at is not None) for r in s.scalars(sa.select(DisciplineRecord))
            ),
            "rules": s.scalar(sa.select(sa.func.count()).select_from(DisciplineRule)),
        }

    f = db.read(facts)
    assert f["p2"] == ["exported", "signed"]
    assert f["p1"] == ["open", "signed", "submitted"]  # open: sent back to the clerk
    assert f["other_cards"] == []
    assert f["resigned"] == 1
    assert f["events_from_today"] == 0
    assert f["events_last_two_days"] > 0  # up to yesterday (the office is closed on Sundays)
    assert f["corrections"] == 1
    assert f["incident_kinds"] == [
        k.value for k in (IncidentKind.ABSENT, IncidentKind.LATE, IncidentKind.LEFT_EARLY)
    ]
    assert f["records"] == [("coaching", False), ("verbal", True)]
    assert f["rules"] == 2

    sup = ctx.supervisor
    assert db.read(audit.verify).ok
    assert db.read(timecards.verify_signatures).ok
    suggestions = db.read(lambda s: attendance.discipline_suggestions(sup, s))
    assert sorted(s.rule.suggests.value for s in suggestions) == ["verbal", "written"]
    queue = db.read(lambda s: timecards.cards_awaiting_signature(sup, s, p1.start))
    assert queue and all(c.has_variance for c in queue)
    assert db.read(lambda s: timecards.pending_signature_count(sup, s)) == len(queue)
    rows = db.read(lambda s: timecards.list_timecards(sup, s, p1.start))
    assert sum(1 for r in rows if r.timecard_id is None) == 2  # not submitted yet
    assert TimecardStatus.EXPORTED in {
        r.status for r in db.read(lambda s: timecards.list_timecards(sup, s, p2.start))
    }
