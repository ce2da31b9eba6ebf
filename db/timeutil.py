"""Time: instants are pendulum DateTimes in UTC in the database; the office has one zone.

``now()`` is the only clock the program reads, so tests and demos can freeze it
(``freeze(...)`` or the ``CLERKDESK_NOW`` environment variable, an ISO instant). The variable is
read only after ``allow_env_clock()``: the command line allows it on a recorded demo database
(tui/demos.py), never in server mode, so nobody backdates a clock-in by setting it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import TYPE_CHECKING

import pendulum

_frozen: pendulum.DateTime | None = None
_env_clock_allowed = False


def allow_env_clock(allowed: bool = True) -> None:
    """Let ``CLERKDESK_NOW`` set the clock (tests and demos only)."""
    global _env_clock_allowed
    _env_clock_allowed = allowed


def freeze(instant: pendulum.DateTime | str | None) -> None:
    """Freeze the program clock (tests, demo screenshots); ``None`` unfreezes."""
    global _frozen
    if instant is None:
        _frozen = None
    else:
        parsed = pendulum.parse(instant) if isinstance(instant, str) else instant
        assert isinstance(parsed, pendulum.DateTime)
        _frozen = parsed.in_timezone("UTC")


def now() -> pendulum.DateTime:
    """The current instant in UTC."""
    if _frozen is not None:
        return _frozen
    env = os.environ.get("CLERKDESK_NOW") if _env_clock_allowed else None
    if env:
        parsed = pendulum.parse(env)
        assert isinstance(parsed, pendulum.DateTime)
        return parsed.in_timezone("UTC")
    return pendulum.now("UTC")


@functools.lru_cache(maxsize=16)
def zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    """A cached zone object: converting with a zone name loads it each time (~600 µs vs ~22 µs)."""
    return pendulum.timezone(name)


def office_now(tz: str) -> pendulum.DateTime:
    return now().in_timezone(zone(tz))


def office_today(tz: str) -> pendulum.Date:
    return office_now(tz).date()


def local_instant(day: dt.date, at: dt.time, tz: str) -> pendulum.DateTime:
    """The instant of wall-clock ``at`` on ``day`` in the office zone.

    On a DST gap the wall time does not exist and pendulum moves it forward (02:30 → 03:30);
    on a fold the first occurrence is used.
    """
    # pendulum defaults to fold=1 (the second occurrence); fold=0 gives the first occurrence but
    # moves a gap time backwards, so use it only when the wall time really exists.
    first = pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, at.second, tz=tz, fold=0)
    if (first.hour, first.minute, first.second) == (at.hour, at.minute, at.second):
        return first
    return pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, at.second, tz=tz, fold=1)


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes between two instants: real elapsed time, so DST days are 23 or 25 hours."""
    return int((end - start).total_seconds() // 60)


# The column type lives in db.coltypes so that importing this module (screens format amounts with
# it) does not load SQLAlchemy. Migrations written before the move name ``db.timeutil.UTCDateTime``, so
# the name still resolves here, loaded on first use.
if TYPE_CHECKING:
    from db.coltypes import UTCDateTime as UTCDateTime
else:

    def __getattr__(attr: str) -> object:
        if attr == "UTCDateTime":
            from db.coltypes import UTCDateTime

            return UTCDateTime
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
