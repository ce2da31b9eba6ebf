"""Pay periods (docs/timecards.md): weekly or biweekly, starting on a configured weekday.

Settings: ``time.pay_period`` (``weekly`` | ``biweekly``), ``time.period_start_weekday``
(0 = Monday) and ``time.period_anchor`` (a first day of some biweekly period; it tells which
of two weeks a biweekly period starts in). If the anchor is not on the start weekday it is
moved back to the nearest start weekday, so the two settings can never disagree.

A period is a run of office-calendar days; its instants run from local midnight of the first
day to local midnight after the last (so a DST week has 167 or 169 hours).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.errors import ValidationError
from db.models import Setting
from db.settings import DEFAULTS, office_timezone
from db.timeutil import local_instant, office_today

KINDS = {"weekly": 7, "biweekly": 14}
PERIOD_KEYS = ("time.pay_period", "time.period_start_weekday", "time.period_anchor")


@lru_cache(maxsize=16)
def zone(tz: str) -> pendulum.Timezone:
    """The zone object for a name. ``in_timezone("America/New_York")`` reloads the zone data on
    every call (about 0.6 ms); with the cached object it is some 20 µs."""
    return pendulum.timezone(tz)


def settings_many(session: Session, keys: Iterable[str]) -> dict[str, Any]:
    """Several settings in one query (defaults from db.settings for keys never stored)."""
    wanted = list(keys)
    stored = {r.key: r.value for r in session.scalars(sa.select(Setting).where(Setting.key.in_(wanted)))}
    return {k: stored[k] if k in stored else DEFAULTS[k] for k in wanted}


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PeriodRules:
    kind: str  # weekly | biweekly
    start_weekday: int  # 0 = Monday
    anchor: dt.date  # first day of some period (aligned to start_weekday)

    @property
    def length(self) -> int:
        return KINDS[self.kind]


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.length)]

    def weeks(self) -> list[list[dt.date]]:
        """Pay weeks (7 days from the period start); weekly overtime is counted per pay week."""
        days = self.days()
        return [days[i : i + 7] for i in range(0, len(days), 7)]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def start_instant(self, tz: str) -> pendulum.DateTime:
        return local_instant(self.start, dt.time(0, 0), tz).in_timezone("UTC")

    def end_instant(self, tz: str) -> pendulum.DateTime:
        """Local midnight after the last day (exclusive end)."""
        return local_instant(self.end + dt.timedelta(days=1), dt.time(0, 0), tz).in_timezone("UTC")

    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=self.length), self.start - dt.timedelta(days=1))

    def next(self) -> Period:
        return Period(self.end + dt.timedelta(days=1), self.end + dt.timedelta(days=self.length))

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _aligned_anchor(anchor: dt.date, start_weekday: int) -> dt.date:
    return anchor - dt.timedelta(days=(anchor.weekday() - start_weekday) % 7)


def make_rules(kind: str, start_weekday: int, anchor: dt.date | str) -> PeriodRules:
    """Validated rules from raw setting values; a bad setting is named in the error."""
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["time.pay_period"] = f"must be weekly or biweekly, not {kind!r}"
    if not isinstance(start_weekday, int) or isinstance(start_weekday, bool) or not 0 <= start_weekday <= 6:
        errors["time.period_start_weekday"] = f"must be 0 (Monday) to 6 (Sunday), not {start_weekday!r}"
    anchor_day: dt.date | None = None
    if isinstance(anchor, dt.date):
        anchor_day = anchor
    else:
        try:
            anchor_day = dt.date.fromisoformat(str(anchor))
        except ValueError:
            errors["time.period_anchor"] = f"must be a date YYYY-MM-DD, not {anchor!r}"
    if errors:
        raise ValidationError.from_fields(errors)
    assert anchor_day is not None
    return PeriodRules(
        kind=kind, start_weekday=start_weekday, anchor=_aligned_anchor(anchor_day, start_weekday)
    )


def period_rules(session: Session) -> PeriodRules:
    values = settings_many(session, PERIOD_KEYS)
    return make_rules(*(values[k] for k in PERIOD_KEYS))


def zone_and_rules(session: Session) -> tuple[str, PeriodRules]:
    """The office zone and the period rules in one query (the clock's hot path)."""
    values = settings_many(session, ("office.timezone", *PERIOD_KEYS))
    return str(values["office.timezone"]), make_rules(*(values[k] for k in PERIOD_KEYS))


def period_containing(day: dt.date, rules: PeriodRules) -> Period:
    """The pay period that contains ``day`` (pure)."""
    offset = (day - rules.anchor).days % rules.length
    start = day - dt.timedelta(days=offset)
    return Period(start, start + dt.timedelta(days=rules.length - 1))


def iter_periods(first: dt.date, last: dt.date, rules: PeriodRules) -> Iterator[Period]:
    """Every period that overlaps ``first`` … ``last``."""
    p = period_containing(first, rules)
    while p.start <= last:
        yield p
        p = p.next()


def period_for(session: Session, day: dt.date) -> Period:
    return period_containing(day, period_rules(session))


def current_period(session: Session) -> Period:
    return period_for(session, office_today(office_timezone(session)))


def period_starting(session: Session, start: dt.date, field: str = "period") -> Period:
    """The period that starts on ``start``; refuses a date that is not a period's first day."""
    p = period_for(session, start)
    if p.start != start:
        rules = period_rules(session)
        raise ValidationError.from_fields(
            {
                field: f"{start.isoformat()} is not the first day of a pay period "
                f"({rules.kind} periods start on {WEEKDAYS[rules.start_weekday]}s; "
                f"the period containing it starts {p.start.isoformat()})"
            }
        )
    return p
