"""Time: instants in UTC, pendulum back out, DST-correct durations, one clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
import pytest
import sqlalchemy as sa

from db import timeutil
from db.engine import Database
from db.timeutil import UTCDateTime, local_instant, minutes_between, now, office_now, office_today
from tests.db.helpers import scratch_table

NY = "America/New_York"
DIALECT = sa.engine.default.DefaultDialect()


# --------------------------------------------------------------------------- the column type


@pytest.mark.parametrize("value", [dt.datetime(2026, 11, 16, 10, 0), pendulum.naive(2026, 11, 16, 10)])
def test_utc_datetime_refuses_naive(value: dt.datetime) -> None:
    with pytest.raises(ValueError, match="naive datetime refused"):
        UTCDateTime().process_bind_param(value, DIALECT)


@pytest.mark.parametrize("value", ["2026-11-16T10:00:00+00:00", dt.date(2026, 11, 16), 1763287200])
def test_utc_datetime_refuses_non_datetimes(value: object) -> None:
    with pytest.raises(TypeError):
        UTCDateTime().process_bind_param(value, DIALECT)


def test_utc_datetime_refuses_naive_through_the_database(db: Database) -> None:
    with scratch_table(db) as t:
        with pytest.raises(sa.exc.StatementError) as info:
            db.write(lambda s: s.execute(t.insert().values(id=1, at=dt.datetime(2026, 11, 16, 10))))
        assert isinstance(info.value.orig, ValueError)
        assert db.read(lambda s: s.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()) == 0


@pytest.mark.parametrize(
    "value",
    [
        pendulum.datetime(2026, 11, 16, 10, 0, 0, tz=NY),  # EST, -5
        dt.datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo(NY)),
        dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 16, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ],
)
def test_utc_datetime_stores_utc_and_returns_pendulum_utc(db: Database, value: dt.datetime) -> None:
    with scratch_table(db) as t:
        db.write(lambda s: s.execute(t.insert().values(id=1, at=value)))
        raw = db.read(lambda s: s.execute(sa.text(f"SELECT at FROM {t.name}")).scalar_one())
        back = db.read(lambda s: s.execute(sa.select(t.c.at)).scalar_one())
    # Stored as the naive UTC wall time (SQLite: text; PostgreSQL: timestamp without time zone).
    raw_dt = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    assert raw_dt == dt.datetime(2026, 11, 16, 15, 0)
    assert raw_dt.tzinfo is None
    assert isinstance(back, pendulum.DateTime)
    assert back.timezone_name == "UTC"
    assert back == value
    assert back.isoformat() == "2026-11-16T15:00:00+00:00"


def test_utc_datetime_keeps_microseconds_and_summer_offset(db: Database) -> None:
    summer = pendulum.datetime(2026, 7, 4, 9, 30, 15, 123456, tz=NY)  # EDT, -4
    with scratch_table(db) as t:
        db.write(lambda s: s.execute(t.insert().values(id=1, at=summer)))
        back = db.read(lambda s: s.execute(sa.select(t.c.at)).scalar_one())
    assert back.isoformat() == "2026-07-04T13:30:15.123456+00:00"


# --------------------------------------------------------------------------- local_instant and DST


@pytest.mark.parametrize(
    ("day", "at", "utc"),
    [
        # Spring forward, Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT.
        (dt.date(2026, 3, 8), dt.time(1, 30), "2026-03-08T06:30:00+00:00"),
        (dt.date(2026, 3, 8), dt.time(2, 30), "2026-03-08T07:30:00+00:00"),  # the gap: moved to 03:30 EDT
        (dt.date(2026, 3, 8), dt.time(3, 0), "2026-03-08T07:00:00+00:00"),
        (dt.date(2026, 3, 8), dt.time(7, 0), "2026-03-08T11:00:00+00:00"),
        # Fall back, Sunday 1 November 2026: 02:00 EDT returns to 01:00 EST.
        (dt.date(2026, 11, 1), dt.time(0, 30), "2026-11-01T04:30:00+00:00"),
        (dt.date(2026, 11, 1), dt.time(1, 30), "2026-11-01T05:30:00+00:00"),  # the fold: first occurrence
        (dt.date(2026, 11, 1), dt.time(2, 30), "2026-11-01T07:30:00+00:00"),
        (dt.date(2026, 11, 1), dt.time(7, 0), "2026-11-01T12:00:00+00:00"),
        # An ordinary winter and summer day.
        (dt.date(2026, 11, 16), dt.time(7, 0), "2026-11-16T12:00:00+00:00"),
        (dt.date(2026, 7, 1), dt.time(7, 0), "2026-07-01T11:00:00+00:00"),
    ],
)
def test_local_instant_on_dst_days(day: dt.date, at: dt.time, utc: str) -> None:
    instant = local_instant(day, at, NY)
    assert instant.in_timezone("UTC").isoformat() == utc


def test_dst_days_have_23_and_25_hours() -> None:
    midnight = dt.time(0, 0)
    spring = minutes_between(
        local_instant(dt.date(2026, 3, 8), midnight, NY), local_instant(dt.date(2026, 3, 9), midnight, NY)
    )
    fall = minutes_between(
        local_instant(dt.date(2026, 11, 1), midnight, NY), local_instant(dt.date(2026, 11, 2), midnight, NY)
    )
    ordinary = minutes_between(
        local_instant(dt.date(2026, 11, 16), midnight, NY),
        local_instant(dt.date(2026, 11, 17), midnight, NY),
    )
    assert (spring, fall, ordinary) == (23 * 60, 25 * 60, 24 * 60)


@pytest.mark.parametrize(
    ("start_day", "minutes"),
    [
        (dt.date(2026, 10, 31), 540),  # 22:00 → 06:00 across fall back (1 Nov): 9 real hours
        (dt.date(2026, 3, 7), 420),  # 22:00 → 06:00 across spring forward (8 Mar): 7 real hours
        (dt.date(2026, 11, 16), 480),  # an ordinary night
    ],
)
def test_overnight_shift_minutes_across_dst(start_day: dt.date, minutes: int) -> None:
    start = local_instant(start_day, dt.time(22, 0), NY)
    end = local_instant(start_day + dt.timedelta(days=1), dt.time(6, 0), NY)
    assert minutes_between(start, end) == minutes


def test_minutes_between_counts_whole_minutes_and_sign() -> None:
    a = pendulum.datetime(2026, 11, 16, 15, 0, 0, tz="UTC")
    assert minutes_between(a, a.add(minutes=90, seconds=59)) == 90
    assert minutes_between(a, a) == 0
    assert minutes_between(a.add(minutes=30), a) == -30
    # Different zones, same instant: zero.
    assert minutes_between(a, a.in_timezone(NY)) == 0


# --------------------------------------------------------------------------- the one clock


def test_freeze_fixes_now_in_utc() -> None:
    timeutil.freeze("2026-01-01T12:00:00-05:00")
    got = now()
    assert got.isoformat() == "2026-01-01T17:00:00+00:00"
    assert got.timezone_name == "UTC"
    assert now() == got  # frozen: does not move
    timeutil.freeze(pendulum.datetime(2026, 6, 1, 8, 0, tz=NY))
    assert now().isoformat() == "2026-06-01T12:00:00+00:00"


def test_office_today_is_the_office_date_not_the_utc_date() -> None:
    timeutil.freeze("2026-11-17T03:00:00+00:00")  # 22:00 on the 16th in New York
    assert office_today(NY) == dt.date(2026, 11, 16)
    assert office_now(NY).hour == 22
    assert now().date() == dt.date(2026, 11, 17)


def test_clerkdesk_now_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    timeutil.freeze(None)
    monkeypatch.setenv("CLERKDESK_NOW", "2030-02-03T04:05:06+01:00")
    # Not allowed (the default): the variable is ignored, the real clock runs.
    assert now().year == pendulum.now("UTC").year
    monkeypatch.setattr(timeutil, "_env_clock_allowed", True)  # what allow_env_clock() does
    assert now().isoformat() == "2030-02-03T03:05:06+00:00"
    assert now().timezone_name == "UTC"
    # freeze() wins over the environment.
    timeutil.freeze("2026-11-16T15:00:00+00:00")
    assert now().isoformat() == "2026-11-16T15:00:00+00:00"


def test_unfrozen_clock_is_the_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    timeutil.freeze(None)
    monkeypatch.delenv("CLERKDESK_NOW", raising=False)
    before = pendulum.now("UTC")
    got = now()
    after = pendulum.now("UTC")
    assert before <= got <= after
    assert got.timezone_name == "UTC"
