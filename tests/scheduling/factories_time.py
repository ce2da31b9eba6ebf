"""Small factories for the time tests: published shifts and punches at chosen local instants.

Shifts are written straight through the ORM (the schedule's own services are tested
elsewhere); their instants come from ``scheduling.shifts.shift_instants`` in the office zone.
A punch is made through the real clock service with the program clock frozen at that instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import timeutil
from db.engine import Database
from db.models import ClockKind, RequestStatus, Shift, ShiftStatus, ShiftType, TimeOffRequest
from db.rights import Actor
from scheduling import clock
from scheduling.clock import ClockEventView
from scheduling.shifts import shift_instants

NY = "America/New_York"
T = TypeVar("T")


def local(text: str) -> pendulum.DateTime:
    """'2026-11-09 08:07' in the office zone → the UTC instant."""
    parsed = pendulum.parse(text, tz=NY)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed.in_timezone("UTC")


def shift_type(
    db: Database, code: str = "D", start: str = "08:00", minutes: int = 480, unpaid_break: int = 0
) -> int:
    def go(s: Session) -> int:
        found = s.scalars(sa.select(ShiftType).where(ShiftType.code == code)).one_or_none()
        if found is not None:
            return found.id
        st = ShiftType(
            code=code,
            name=f"shift {code}",
            start_time=dt.time.fromisoformat(start),
            minutes=minutes,
            unpaid_break_minutes=unpaid_break,
        )
        s.add(st)
        s.flush()
        return st.id

    return db.write(go)


def add_shift(
    db: Database,
    user: Actor,
    day: dt.date | str,
    *,
    by: Actor,
    code: str = "D",
    start: str = "08:00",
    minutes: int = 480,
    unpaid_break: int = 0,
    status: ShiftStatus = ShiftStatus.PUBLISHED,
) -> int:
    """A shift of type ``code`` (created on first use) for ``user`` on ``day``."""
    type_id = shift_type(db, code, start, minutes, unpaid_break)
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day

    def go(s: Session) -> int:
        st = s.get(ShiftType, type_id)
        assert st is not None
        starts, ends = shift_instants(d, st, NY)
        sh = Shift(
            user_id=user.user_id,
            day=d,
            shift_type_id=type_id,
            status=status,
            starts_at=starts,
            ends_at=ends,
            created_by=by.user_id,
        )
        s.add(sh)
        s.flush()
        return sh.id

    return db.write(go)


def week_of_shifts(db: Database, user: Actor, monday: str, *, by: Actor, days: int = 5, **kw: object) -> None:
    first = dt.date.fromisoformat(monday)
    for i in range(days):
        add_shift(db, user, first + dt.timedelta(days=i), by=by, **kw)  # type: ignore[arg-type]


def at(instant: str | pendulum.DateTime, fn: Callable[[], T]) -> T:
    """Run ``fn`` with the program clock frozen at a local instant, then restore the test clock."""
    before = timeutil.now()
    timeutil.freeze(local(instant) if isinstance(instant, str) else instant)
    try:
        return fn()
    finally:
        timeutil.freeze(before)


def punch(db: Database, actor: Actor, kind: ClockKind | str, when: str) -> ClockEventView:
    """``actor`` punches ``kind`` at local time ``when`` through the real service."""
    return at(when, lambda: db.write(lambda s: clock.punch(actor, s, ClockKind(kind))))


def work(db: Database, actor: Actor, start: str, end: str, breaks: tuple[tuple[str, str], ...] = ()) -> None:
    """A whole segment through the real service: in at ``start``, optional breaks, out at
    ``end`` (local times). One transaction for the segment keeps the tests fast."""
    seq = [(ClockKind.IN, start)]
    for a, b in breaks:
        seq += [(ClockKind.BREAK_START, a), (ClockKind.BREAK_END, b)]
    seq.append((ClockKind.OUT, end))

    def go(s: Session) -> None:
        for kind, when in seq:
            timeutil.freeze(local(when))
            clock.punch(actor, s, kind)

    before = timeutil.now()
    try:
        db.write(go)
    finally:
        timeutil.freeze(before)


def time_off(
    db: Database,
    user: Actor,
    first: str,
    last: str,
    *,
    by: Actor,
    status: RequestStatus = RequestStatus.APPROVED,
) -> int:
    def go(s: Session) -> int:
        r = TimeOffRequest(
            user_id=user.user_id,
            start_date=dt.date.fromisoformat(first),
            end_date=dt.date.fromisoformat(last),
            reason="test",
            status=status,
            decided_by=by.user_id,
            decided_at=timeutil.now(),
        )
        s.add(r)
        s.flush()
        return r.id

    return db.write(go)
