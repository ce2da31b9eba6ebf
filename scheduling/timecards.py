"""Timecards (docs/timecards.md): computation, workflow, signatures.

The figures are pure functions over plain data (``compute_day``, ``compute_card``), so every
rule has an exact test; ``load_inputs`` reads that data from the database. The rules, also
in docs/timecards.md:

* Every punch counts at the minute the clock shows (seconds dropped). Durations come from
  instants, so a 22:00–06:00 shift on the fall-back night is 9 hours.
* Breaks are unpaid. A day's work is the sum of its closed segments (clock-in → clock-out)
  minus their closed breaks; a segment still open (no clock-out) counts nothing yet.
* Lateness: the first clock-in of the day against the scheduled start. Within the grace
  (``time.grace_minutes``) it is not late; beyond it the FULL minutes late are recorded
  (7 minutes late with a 5-minute grace is 7 minutes). Early leave is the same against the
  scheduled end, with the same grace. Pay rounding never touches these figures.
* Pay rounding (``time.pay_rounding``: 0, 5, 6 or 15) moves each punch to the nearest mark
  of the office's wall clock, half up (15: 08:07 → 08:00, 08:08 → 08:15). It applies to the
  pay figures only (paid, regular, overtime minutes).
* Absent: a published shift that has ended with no clock-in for its day and no approved time
  off covering the day.
* Overtime, per pay week (7 days from the period start): with a daily threshold
  (``time.daily_overtime_minutes``) the paid minutes beyond it are daily overtime; the rest
  count toward the weekly threshold (``time.weekly_overtime_minutes``) and what goes beyond
  that is weekly overtime. A minute is overtime once, never twice.

Workflow: open → submitted (the clerk, own card) → signed (a supervisor, not the clerk) →
exported (payroll). Reject (reason) returns a submitted card to open. Unlock (reason) takes a
signed card back to submitted: it waits for a new signature. A signature stores the SHA-256
of the card's canonical content, chained to the previous signature of the office.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.audit import GENESIS, VerifyResult
from db.errors import ConflictError, FrozenError, NotFound, PermissionDenied, ValidationError
from db.models import (
    ClockEvent,
    ClockKind,
    RequestStatus,
    Shift,
    ShiftStatus,
    Timecard,
    TimecardSignature,
    TimecardStatus,
    TimeOffRequest,
    User,
)
from db.rights import Action, Actor, require, require_not_self
from db.settings import office_timezone
from db.timeutil import now
from scheduling.clock import (
    MARGIN,
    Punch,
    ShiftSlot,
    attribute_days,
    hhmm,
    published_shifts,
    shift_slot,
    sort_key,
)
from scheduling.periods import Period, current_period, period_starting, settings_many, zone

ROUNDINGS = (0, 5, 6, 15)
MAX_NOTE = 1000

# Day statuses.
WORKED = "worked"
OPEN = "clocked in"  # a segment without clock-out
ABSENT = "absent"
TIME_OFF = "time off"
SCHEDULED = "scheduled"  # shift still to come
NOT_IN = "not in yet"  # shift running, no clock-in yet
OFF = "off"

CARD_AUDIT = (
    "user_id",
    "period_start",
    "period_end",
    "status",
    "submitted_at",
    "submit_note",
    "signed_by",
    "signed_at",
    "exported_at",
    "rejected_reason",
    "unlock_reason",
    "regular_minutes",
    "overtime_minutes",
)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class TimeRules:
    tz: str = "America/New_York"
    grace_minutes: int = 5
    rounding: int = 0
    weekly_overtime_minutes: int = 2400
    daily_overtime_minutes: int | None = None


def make_time_rules(tz: str, grace: Any, rounding: Any, weekly: Any, daily: Any) -> TimeRules:
    errors: dict[str, str] = {}

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if not whole(grace) or not 0 <= grace <= 120:
        errors["time.grace_minutes"] = f"must be 0 to 120 minutes, not {grace!r}"
    if rounding not in ROUNDINGS or isinstance(rounding, bool):
        errors["time.pay_rounding"] = f"must be 0 (none), 5, 6 or 15 minutes, not {rounding!r}"
    if not whole(weekly) or not 0 < weekly <= 7 * 1440:
        errors["time.weekly_overtime_minutes"] = f"must be a positive number of minutes, not {weekly!r}"
    if daily is not None and (not whole(daily) or not 0 < daily <= 1440):
        errors["time.daily_overtime_minutes"] = f"must be empty or 1 to 1440 minutes, not {daily!r}"
    if errors:
        raise ValidationError.from_fields(errors)
    return TimeRules(
        tz=tz,
        grace_minutes=grace,
        rounding=rounding,
        weekly_overtime_minutes=weekly,
        daily_overtime_minutes=daily,
    )


def time_rules(session: Session) -> TimeRules:
    keys = (
        "office.timezone",
        "time.grace_minutes",
        "time.pay_rounding",
        "time.weekly_overtime_minutes",
        "time.daily_overtime_minutes",
    )
    values = settings_many(session, keys)
    return make_time_rules(*(values[k] for k in keys))


# --------------------------------------------------------------------------- pure: punches


def trunc_minute(at: pendulum.DateTime) -> pendulum.DateTime:
    """The minute the clock shows (seconds dropped)."""
    return at.in_timezone("UTC").replace(second=0, microsecond=0)


def round_punch(at: pendulum.DateTime, minutes: int, tz: str) -> pendulum.DateTime:
    """The punch for pay: its minute moved to the nearest ``minutes`` mark of the local wall
    clock, half up (15: :07 → :00, :08 → :15). 0 means no rounding."""
    t = trunc_minute(at)
    if not minutes:
        return t
    utc_offset = t.in_timezone(zone(tz)).utcoffset()
    assert utc_offset is not None  # an instant in a named zone always has one
    offset = int(utc_offset.total_seconds() // 60)
    local_minutes = int(t.timestamp() // 60) + offset
    q, rem = divmod(local_minutes, minutes)
    if rem * 2 >= minutes:
        q += 1
    return pendulum.from_timestamp((q * minutes - offset) * 60, tz="UTC")


def _minutes(a: pendulum.DateTime, b: pendulum.DateTime) -> int:
    return int((b - a).total_seconds() // 60)


def hours_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h}:{m:02d}"


# --------------------------------------------------------------------------- pure: a day


@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    shift: ShiftSlot | None
    punches: tuple[Punch, ...]
    time_off: bool
    status: str
    scheduled_minutes: int
    worked_minutes: int  # exact (to the minute), breaks taken off
    break_minutes: int
    paid_minutes: int  # after pay rounding
    late_minutes: int  # full minutes late when beyond grace, else 0
    early_minutes: int  # full minutes left early when beyond grace, else 0
    absent: bool
    open: bool  # a segment without clock-out
    unscheduled: bool  # worked without a published shift
    notes: tuple[str, ...]
    daily_overtime_minutes: int = 0
    overtime_minutes: int = 0  # daily plus this day's share of weekly overtime
    regular_minutes: int = 0


@dataclass
class _Segment:
    start: Punch
    end: Punch | None = None
    breaks: list[tuple[Punch, Punch | None]] = field(default_factory=list)


def _segments(punches: Sequence[Punch]) -> tuple[list[_Segment], list[str]]:
    segs: list[_Segment] = []
    notes: list[str] = []
    cur: _Segment | None = None
    for p in sorted(punches, key=sort_key):
        if p.kind == ClockKind.IN:
            if cur is None:
                cur = _Segment(p)
                segs.append(cur)
            else:
                notes.append("a second clock-in without clock-out was ignored")
        elif cur is None:
            notes.append(f"a {p.kind.value} without clock-in was ignored")
        elif p.kind == ClockKind.BREAK_START:
            if cur.breaks and cur.breaks[-1][1] is None:
                notes.append("a second break start was ignored")
            else:
                cur.breaks.append((p, None))
        elif p.kind == ClockKind.BREAK_END:
            if cur.breaks and cur.breaks[-1][1] is None:
                cur.breaks[-1] = (cur.breaks[-1][0], p)
            else:
                notes.append("a break end without break start was ignored")
        else:  # OUT
            if cur.breaks and cur.breaks[-1][1] is None:
                cur.breaks[-1] = (cur.breaks[-1][0], p)  # out during a break ends the break
                notes.append("clocked out during a break")
            cur.end = p
            cur = None
    return segs, notes


def _span(a: Punch, b: Punch, rounding: int, tz: str) -> int:
    if rounding:
        return _minutes(round_punch(a.at, rounding, tz), round_punch(b.at, rounding, tz))
    return _minutes(trunc_minute(a.at), trunc_minute(b.at))


def compute_day(
    day: dt.date,
    shift: ShiftSlot | None,
    punches: Sequence[Punch],
    time_off: bool,
    rules: TimeRules,
    as_of: pendulum.DateTime,
) -> DayFigures:
    """One day's figures (overtime is filled in by ``compute_card``, which sees the week)."""
    segs, notes = _segments(punches)
    closed = [s for s in segs if s.end is not None]
    worked = paid = breaks = 0
    for s in closed:
        assert s.end is not None
        seg_breaks = [(a, b) for a, b in s.breaks if b is not None]
        exact_break = sum(_span(a, b, 0, rules.tz) for a, b in seg_breaks)
        breaks += exact_break
        worked += _span(s.start, s.end, 0, rules.tz) - exact_break
        paid += _span(s.start, s.end, rules.rounding, rules.tz) - sum(
            _span(a, b, rules.rounding, rules.tz) for a, b in seg_breaks
        )
    is_open = any(s.end is None for s in segs)
    if is_open:
        opened = next(s for s in segs if s.end is None)
        notes.append(f"clocked in since {hhmm(opened.start.at, rules.tz)}, no clock-out yet")
    scheduled = late = early = 0
    absent = False
    if shift is not None:
        scheduled = max(0, _minutes(shift.starts_at, shift.ends_at) - shift.unpaid_break_minutes)
        if segs:
            first_in = trunc_minute(segs[0].start.at)
            by = _minutes(shift.starts_at, first_in)
            if by > rules.grace_minutes:
                late = by
                notes.append(f"late {by} min")
            elif by > 0:
                notes.append(f"{by} min after the start, within the {rules.grace_minutes}-minute grace")
            if closed and not is_open:
                last_end = closed[-1].end
                assert last_end is not None  # closed holds the segments that have an end
                last_out = trunc_minute(last_end.at)
                left = _minutes(last_out, shift.ends_at)
                if left > rules.grace_minutes:
                    early = left
                    notes.append(f"left {left} min early")
        elif time_off:
            notes.append("approved time off")
        elif shift.ends_at <= as_of:
            absent = True
            notes.append("absent: scheduled, no clock-in, no approved time off")
    if is_open:
        status = OPEN
    elif closed:
        status = WORKED
    elif shift is None:
        status = OFF
    elif time_off:
        status = TIME_OFF
    elif absent:
        status = ABSENT
    elif shift.starts_at <= as_of:
        status = NOT_IN
    else:
        status = SCHEDULED
    return DayFigures(
        day=day,
        shift=shift,
        punches=tuple(sorted(punches, key=sort_key)),
        time_off=time_off,
        status=status,
        scheduled_minutes=scheduled,
        worked_minutes=worked,
        break_minutes=breaks,
        paid_minutes=paid,
        late_minutes=late,
        early_minutes=early,
        absent=absent,
        open=is_open,
        unscheduled=shift is None and bool(segs),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- pure: a card


@dataclass(frozen=True)
class CardFigures:
    period: Period
    days: tuple[DayFigures, ...]

    def _sum(self, name: str) -> int:
        return sum(getattr(d, name) for d in self.days)

    @property
    def scheduled_minutes(self) -> int:
        return self._sum("scheduled_minutes")

    @property
    def worked_minutes(self) -> int:
        return self._sum("worked_minutes")

    @property
    def break_minutes(self) -> int:
        return self._sum("break_minutes")

    @property
    def paid_minutes(self) -> int:
        return self._sum("paid_minutes")

    @property
    def regular_minutes(self) -> int:
        return self._sum("regular_minutes")

    @property
    def overtime_minutes(self) -> int:
        return self._sum("overtime_minutes")

    @property
    def late_minutes(self) -> int:
        return self._sum("late_minutes")

    @property
    def late_count(self) -> int:
        return sum(1 for d in self.days if d.late_minutes)

    @property
    def early_minutes(self) -> int:
        return self._sum("early_minutes")

    @property
    def early_count(self) -> int:
        return sum(1 for d in self.days if d.early_minutes)

    @property
    def absent_count(self) -> int:
        return sum(1 for d in self.days if d.absent)

    @property
    def open_days(self) -> int:
        return sum(1 for d in self.days if d.open)

    @property
    def unscheduled_days(self) -> int:
        return sum(1 for d in self.days if d.unscheduled)

    def variance(self) -> tuple[str, ...]:
        """What differs from the schedule, as short flags for the supervisor's list."""
        out: list[str] = []
        if self.late_count:
            out.append(f"late {self.late_count}× ({self.late_minutes} min)")
        if self.early_count:
            out.append(f"left early {self.early_count}× ({self.early_minutes} min)")
        if self.absent_count:
            out.append(f"absent {self.absent_count}×")
        if self.overtime_minutes:
            out.append(f"overtime {hours_text(self.overtime_minutes)}")
        if self.open_days:
            out.append(f"no clock-out on {self.open_days} day(s)")
        if self.unscheduled_days:
            out.append(f"worked unscheduled on {self.unscheduled_days} day(s)")
        return tuple(out)


def _apply_overtime(period: Period, days: dict[dt.date, DayFigures], rules: TimeRules) -> None:
    daily = rules.daily_overtime_minutes
    for week in period.weeks():
        running = 0  # regular minutes so far this week
        for d in week:
            f = days[d]
            dot = max(0, f.paid_minutes - daily) if daily else 0
            candidate = f.paid_minutes - dot
            regular = min(candidate, max(0, rules.weekly_overtime_minutes - running))
            running += regular
            days[d] = replace(
                f,
                daily_overtime_minutes=dot,
                overtime_minutes=dot + candidate - regular,
                regular_minutes=regular,
            )


def compute_card(
    period: Period,
    shifts: Sequence[ShiftSlot],
    punches: Sequence[Punch],
    time_off: Iterable[dt.date],
    rules: TimeRules,
    as_of: pendulum.DateTime,
) -> CardFigures:
    """A card's figures from plain data. ``shifts`` and ``punches`` may reach beyond the period
    (they are needed to attribute a punch to its workday); only the period's days are kept."""
    off = set(time_off)
    by_day: dict[dt.date, list[Punch]] = defaultdict(list)
    for p, day in attribute_days(punches, shifts, rules.tz):
        by_day[day].append(p)
    shift_of = {s.day: s for s in shifts}
    days = {
        d: compute_day(d, shift_of.get(d), by_day.get(d, []), d in off, rules, as_of) for d in period.days()
    }
    _apply_overtime(period, days, rules)
    return CardFigures(period=period, days=tuple(days[d] for d in period.days()))


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class CardInputs:
    user_id: int
    period: Period
    shifts: tuple[ShiftSlot, ...]
    punches: tuple[Punch, ...]
    time_off: frozenset[dt.date]


def load_inputs(session: Session, user_ids: Sequence[int], period: Period, tz: str) -> dict[int, CardInputs]:
    """Everything the figures need for several people at once (three queries)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    lo = period.start_instant(tz) - MARGIN
    hi = period.end_instant(tz) + MARGIN
    shifts: dict[int, list[ShiftSlot]] = defaultdict(list)
    for sh in published_shifts(
        session, ids, period.start - dt.timedelta(days=3), period.end + dt.timedelta(days=3)
    ):
        shifts[sh.user_id].append(shift_slot(sh))
    punches: dict[int, list[Punch]] = defaultdict(list)
    for e in session.scalars(
        sa.select(ClockEvent)
        .where(
            ClockEvent.user_id.in_(ids),
            ClockEvent.voided.is_(False),
            ClockEvent.at >= lo,
            ClockEvent.at < hi,
        )
        .order_by(ClockEvent.at, ClockEvent.id)
    ):
        punches[e.user_id].append(Punch(id=e.id, kind=e.kind, at=e.at, source=e.source, reason=e.reason))
    off: dict[int, set[dt.date]] = defaultdict(set)
    for r in session.scalars(
        sa.select(TimeOffRequest).where(
            TimeOffRequest.user_id.in_(ids),
            TimeOffRequest.status == RequestStatus.APPROVED,
            TimeOffRequest.start_date <= period.end,
            TimeOffRequest.end_date >= period.start,
        )
    ):
        d = max(r.start_date, period.start)
        while d <= min(r.end_date, period.end):
            off[r.user_id].add(d)
            d += dt.timedelta(days=1)
    return {
        uid: CardInputs(uid, period, tuple(shifts[uid]), tuple(punches[uid]), frozenset(off[uid]))
        for uid in ids
    }


def figures_for(inputs: CardInputs, rules: TimeRules, as_of: pendulum.DateTime | None = None) -> CardFigures:
    return compute_card(inputs.period, inputs.shifts, inputs.punches, inputs.time_off, rules, as_of or now())


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class CardSummary:
    timecard_id: int | None  # None: nobody has submitted or touched it yet
    user_id: int
    login: str
    name: str
    period_start: dt.date
    period_end: dt.date
    status: TimecardStatus
    scheduled_minutes: int
    worked_minutes: int
    paid_minutes: int
    regular_minutes: int
    overtime_minutes: int
    late_count: int
    late_minutes: int
    early_count: int
    early_minutes: int
    absent_count: int
    open_days: int
    unscheduled_days: int
    variance: tuple[str, ...]
    submitted_at: pendulum.DateTime | None = None
    submit_note: str = ""
    signed_by: str = ""
    signed_at: pendulum.DateTime | None = None
    exported_at: pendulum.DateTime | None = None
    rejected_reason: str = ""
    unlock_reason: str = ""
    version: int = 0

    @property
    def has_variance(self) -> bool:
        return bool(self.variance)


@dataclass(frozen=True)
class SignatureView:
    id: int
    timecard_id: int
    signed_by: str
    signed_at: pendulum.DateTime
    content_hash: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class TimecardDetail:
    summary: CardSummary
    tz: str
    days: tuple[DayFigures, ...]
    signatures: tuple[SignatureView, ...]


def _summary(
    user: User, card: Timecard | None, period: Period, fig: CardFigures, logins: dict[int, str]
) -> CardSummary:
    frozen = card is not None and card.status in (TimecardStatus.SIGNED, TimecardStatus.EXPORTED)
    return CardSummary(
        timecard_id=card.id if card else None,
        user_id=user.id,
        login=user.login,
        name=user.name,
        period_start=period.start,
        period_end=period.end,
        status=card.status if card else TimecardStatus.OPEN,
        scheduled_minutes=fig.scheduled_minutes,
        worked_minutes=fig.worked_minutes,
        paid_minutes=fig.paid_minutes,
        # A signed card shows the totals frozen at signing, whatever the settings say today.
        regular_minutes=card.regular_minutes if frozen and card else fig.regular_minutes,
        overtime_minutes=card.overtime_minutes if frozen and card else fig.overtime_minutes,
        late_count=fig.late_count,
        late_minutes=fig.late_minutes,
        early_count=fig.early_count,
        early_minutes=fig.early_minutes,
        absent_count=fig.absent_count,
        open_days=fig.open_days,
        unscheduled_days=fig.unscheduled_days,
        variance=fig.variance(),
        submitted_at=card.submitted_at if card else None,
        submit_note=card.submit_note if card else "",
        signed_by=logins.get(card.signed_by, "") if card and card.signed_by else "",
        signed_at=card.signed_at if card else None,
        exported_at=card.exported_at if card else None,
        rejected_reason=card.rejected_reason if card else "",
        unlock_reason=card.unlock_reason if card else "",
        version=card.version if card else 0,
    )


def _logins(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(sa.select(User.id, User.login).where(User.id.in_(wanted))).all())


def _summaries(
    session: Session, period: Period, users: Sequence[User], cards: dict[int, Timecard]
) -> list[CardSummary]:
    rules = time_rules(session)
    inputs = load_inputs(session, [u.id for u in users], period, rules.tz)
    as_of = now()
    logins = _logins(session, [c.signed_by for c in cards.values()])
    return [
        _summary(u, cards.get(u.id), period, figures_for(inputs[u.id], rules, as_of), logins) for u in users
    ]


def _card_for(session: Session, user_id: int, period: Period) -> Timecard | None:
    return session.scalars(
        sa.select(Timecard).where(Timecard.user_id == user_id, Timecard.period_start == period.start)
    ).one_or_none()


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def _signatures(session: Session, card_id: int | None) -> tuple[SignatureView, ...]:
    if card_id is None:
        return ()
    sigs = list(
        session.scalars(
            sa.select(TimecardSignature)
            .where(TimecardSignature.timecard_id == card_id)
            .order_by(TimecardSignature.id)
        )
    )
    logins = _logins(session, [s.signed_by for s in sigs])
    return tuple(
        SignatureView(
            s.id,
            s.timecard_id,
            logins.get(s.signed_by, "?"),
            s.signed_at,
            s.content_hash,
            s.prev_hash,
            s.hash,
        )
        for s in sigs
    )


def _detail(session: Session, user: User, period: Period) -> TimecardDetail:
    card = _card_for(session, user.id, period)
    rules = time_rules(session)
    fig = figures_for(load_inputs(session, [user.id], period, rules.tz)[user.id], rules)
    logins = _logins(session, [card.signed_by] if card else [])
    return TimecardDetail(
        summary=_summary(user, card, period, fig, logins),
        tz=rules.tz,
        days=fig.days,
        signatures=_signatures(session, card.id if card else None),
    )


def _may_see(actor: Actor, user_id: int) -> None:
    require(actor, Action.VIEW)
    if user_id != actor.user_id:
        require(actor, Action.TIMECARD_SIGN)


def my_timecard(actor: Actor, session: Session, period_start: dt.date | None = None) -> TimecardDetail:
    """The actor's own card (default: the current period)."""
    require(actor, Action.TIME_OWN)
    period = current_period(session) if period_start is None else period_starting(session, period_start)
    return _detail(session, _user(session, actor.user_id), period)


def timecard_detail(actor: Actor, session: Session, user_id: int, period_start: dt.date) -> TimecardDetail:
    """A card's days and events; clerks may only open their own."""
    _may_see(actor, user_id)
    return _detail(session, _user(session, user_id), period_starting(session, period_start))


def timecard_by_id(actor: Actor, session: Session, timecard_id: int) -> TimecardDetail:
    card = _get_card(session, timecard_id)
    _may_see(actor, card.user_id)
    return _detail(session, _user(session, card.user_id), Period(card.period_start, card.period_end))


def _get_card(session: Session, timecard_id: int) -> Timecard:
    card = session.get(Timecard, timecard_id)
    if card is None:
        raise NotFound(f"no timecard {timecard_id}")
    return card


def period_users(session: Session, period: Period, tz: str) -> list[User]:
    """Everyone with a card, a published shift or a clock event in the period."""
    with_card = sa.select(Timecard.user_id).where(Timecard.period_start == period.start)
    with_shift = sa.select(Shift.user_id).where(
        Shift.status == ShiftStatus.PUBLISHED, Shift.day >= period.start, Shift.day <= period.end
    )
    with_events = sa.select(ClockEvent.user_id).where(
        ClockEvent.voided.is_(False),
        ClockEvent.at >= period.start_instant(tz),
        ClockEvent.at < period.end_instant(tz),
    )
    ids = sa.union(with_card, with_shift, with_events).subquery()
    return list(session.scalars(sa.select(User).where(User.id.in_(sa.select(ids.c[0]))).order_by(User.login)))


def list_timecards(
    actor: Actor, session: Session, period_start: dt.date, status: TimecardStatus | str | None = None
) -> list[CardSummary]:
    """Every card of a period (people with shifts or punches but no card yet show as open)."""
    require(actor, Action.TIMECARD_SIGN)
    period = period_starting(session, period_start)
    wanted: TimecardStatus | None = None
    if status is not None:
        try:
            wanted = TimecardStatus(status)
        except ValueError:
            raise ValidationError.from_fields(
                {"status": "must be one of " + ", ".join(s.value for s in TimecardStatus)}
            ) from None
    tz = office_timezone(session)
    users = period_users(session, period, tz)
    cards = {
        c.user_id: c
        for c in session.scalars(sa.select(Timecard).where(Timecard.period_start == period.start))
    }
    rows = _summaries(session, period, users, cards)
    return [r for r in rows if wanted is None or r.status == wanted]


def cards_awaiting_signature(
    actor: Actor, session: Session, period_start: dt.date | None = None
) -> list[CardSummary]:
    """Submitted cards (of one period, or all), with their variance against the schedule."""
    require(actor, Action.TIMECARD_SIGN)
    stmt = sa.select(Timecard).where(Timecard.status == TimecardStatus.SUBMITTED)
    if period_start is not None:
        stmt = stmt.where(Timecard.period_start == period_starting(session, period_start).start)
    by_period: dict[Period, dict[int, Timecard]] = defaultdict(dict)
    for c in session.scalars(stmt):
        by_period[Period(c.period_start, c.period_end)][c.user_id] = c
    out: list[CardSummary] = []
    for period in sorted(by_period):
        cards = by_period[period]
        users = list(session.scalars(sa.select(User).where(User.id.in_(cards)).order_by(User.login)))
        out.extend(_summaries(session, period, users, cards))
    return out


def pending_signature_count(actor: Actor, session: Session) -> int:
    """Submitted cards waiting for a supervisor (dashboard)."""
    require(actor, Action.TIMECARD_SIGN)
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Timecard)
            .where(Timecard.status == TimecardStatus.SUBMITTED)
        )
        or 0
    )


# --------------------------------------------------------------------------- canonical content


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def card_content(
    session: Session, card: Timecard, inputs: CardInputs | None = None, tz: str | None = None
) -> dict[str, Any]:
    """What a signature covers: the card, its days (shift, time off, events) and its totals."""
    tz = tz or office_timezone(session)
    period = Period(card.period_start, card.period_end)
    if inputs is None:
        inputs = load_inputs(session, [card.user_id], period, tz)[card.user_id]
    by_day: dict[dt.date, list[Punch]] = defaultdict(list)
    for p, day in attribute_days(inputs.punches, inputs.shifts, tz):
        by_day[day].append(p)
    shift_of = {s.day: s for s in inputs.shifts}
    days = []
    for d in period.days():
        sh = shift_of.get(d)
        days.append(
            {
                "day": d.isoformat(),
                "shift": None
                if sh is None
                else {
                    "id": sh.id,
                    "code": sh.code,
                    "starts_at": _iso(sh.starts_at),
                    "ends_at": _iso(sh.ends_at),
                },
                "time_off": d in inputs.time_off,
                "events": [
                    {
                        "id": p.id,
                        "kind": p.kind.value,
                        "at": _iso(p.at),
                        "source": p.source.value,
                        "reason": p.reason,
                    }
                    for p in sorted(by_day.get(d, []), key=sort_key)
                ],
            }
        )
    return {
        "timecard_id": card.id,
        "user_id": card.user_id,
        "period_start": card.period_start.isoformat(),
        "period_end": card.period_end.isoformat(),
        "days": days,
        "totals": {"regular_minutes": card.regular_minutes, "overtime_minutes": card.overtime_minutes},
    }


def content_hash(
    session: Session, card: Timecard, inputs: CardInputs | None = None, tz: str | None = None
) -> str:
    content = card_content(session, card, inputs, tz)
    return hashlib.sha256(audit.canonical(content).encode("utf-8")).hexdigest()


def signature_hash(
    prev_hash: str, content: str, timecard_id: int, signed_by: int, signed_at: dt.datetime
) -> str:
    h = hashlib.sha256()
    for part in (prev_hash, content, str(timecard_id), str(signed_by), _iso(signed_at)):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


# --------------------------------------------------------------------------- workflow


def _reason(text: str, field_name: str = "reason") -> str:
    t = (text or "").strip()
    if not t:
        raise ValidationError.from_fields({field_name: "a reason is required"})
    if len(t) > MAX_NOTE:
        raise ValidationError.from_fields({field_name: f"is longer than {MAX_NOTE} characters"})
    return t


def _check_version(card: Timecard, expected: int | None) -> None:
    if expected is not None and card.version != expected:
        raise ConflictError("the timecard was changed by someone else; reload it and try again")


def _one_summary(session: Session, card: Timecard) -> CardSummary:
    user = _user(session, card.user_id)
    return _summaries(session, Period(card.period_start, card.period_end), [user], {user.id: card})[0]


def submit_timecard(actor: Actor, session: Session, period_start: dt.date, note: str = "") -> CardSummary:
    """The clerk submits their OWN card for a period (created if nobody touched it yet)."""
    require(actor, Action.TIME_OWN)
    user = session.get(User, actor.user_id)
    if user is None:
        raise PermissionDenied(f"{actor.login} is not a ClerkDesk user and has no timecard")
    period = period_starting(session, period_start)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError.from_fields({"note": f"is longer than {MAX_NOTE} characters"})
    tz = office_timezone(session)
    today = now().in_timezone(zone(tz)).date()
    if today < period.end:
        raise ValidationError.from_fields(
            {"period": f"the period runs until {period.end.isoformat()}; submit it on or after its last day"}
        )
    card = _card_for(session, user.id, period)
    if card is not None and card.status != TimecardStatus.OPEN:
        raise ConflictError(f"your timecard for {period.label} is already {card.status.value}")
    rules = time_rules(session)
    fig = figures_for(load_inputs(session, [user.id], period, tz)[user.id], rules)
    if fig.open_days:
        raise ValidationError.from_fields(
            {"period": "you are still clocked in on a day of this period; clock out first"}
        )
    before = audit.snapshot(card, CARD_AUDIT) if card else None
    if card is None:
        card = Timecard(user_id=user.id, period_start=period.start, period_end=period.end)
        session.add(card)
    card.status = TimecardStatus.SUBMITTED
    card.submitted_at = now()
    card.submit_note = note
    card.regular_minutes = fig.regular_minutes
    card.overtime_minutes = fig.overtime_minutes
    session.flush()
    audit.record(session, actor, "timecard", card.id, "submit", before, audit.snapshot(card, CARD_AUDIT))
    return _one_summary(session, card)


def _sign_problem(actor: Actor, session: Session, card: Timecard, fig: CardFigures) -> Exception | None:
    """Why this card cannot be signed now (None: it can). Shared by sign and sign_many."""
    if card.user_id == actor.user_id:
        return PermissionDenied("nobody signs their own timecard")
    if card.status == TimecardStatus.OPEN:
        return ConflictError("not submitted by the clerk yet")
    if card.status != TimecardStatus.SUBMITTED:
        return ConflictError(f"already {card.status.value}")
    tz = office_timezone(session)
    if now() < Period(card.period_start, card.period_end).end_instant(tz):
        return ValidationError.from_fields(
            {"timecard": f"the period runs until {card.period_end.isoformat()}"}
        )
    if fig.open_days:
        return ValidationError.from_fields(
            {"timecard": "still clocked in on a day of the period (add the missing clock-out first)"}
        )
    return None


def _sign(actor: Actor, session: Session, card: Timecard, fig: CardFigures) -> None:
    before = audit.snapshot(card, CARD_AUDIT)
    at = now()
    card.status = TimecardStatus.SIGNED
    card.signed_by = actor.user_id
    card.signed_at = at
    card.regular_minutes = fig.regular_minutes
    card.overtime_minutes = fig.overtime_minutes
    session.flush()
    digest = content_hash(session, card)
    audit.record(
        session,
        actor,
        "timecard",
        card.id,
        "sign",
        before,
        {**audit.snapshot(card, CARD_AUDIT), "content_hash": digest},
    )
    # Two supervisors signing at once take turns here, so the signature chain cannot fork
    # (the audit head, locked only at commit, no longer serialises them).
    audit.serialize(session, "timecard_signatures")
    last = session.scalars(
        sa.select(TimecardSignature).order_by(TimecardSignature.id.desc()).limit(1)
    ).first()
    prev = last.hash if last else GENESIS
    sig = TimecardSignature(
        timecard_id=card.id,
        signed_by=actor.user_id,
        signed_at=at,
        content_hash=digest,
        prev_hash=prev,
        hash=signature_hash(prev, digest, card.id, actor.user_id, at),
    )
    session.add(sig)
    session.flush()
    audit.record(
        session,
        actor,
        "timecard_signature",
        sig.id,
        "create",
        None,
        {"timecard_id": card.id, "content_hash": digest, "prev_hash": prev, "hash": sig.hash},
    )


def sign_timecard(
    actor: Actor, session: Session, timecard_id: int, *, expected_version: int | None = None
) -> CardSummary:
    """A supervisor (not the clerk) signs a submitted card: totals frozen, signature chained."""
    require(actor, Action.TIMECARD_SIGN)
    card = _get_card(session, timecard_id)
    require_not_self(actor, card.user_id, "sign a timecard for")
    _check_version(card, expected_version)
    rules = time_rules(session)
    period = Period(card.period_start, card.period_end)
    fig = figures_for(load_inputs(session, [card.user_id], period, rules.tz)[card.user_id], rules)
    problem = _sign_problem(actor, session, card, fig)
    if problem is not None:
        raise problem
    _sign(actor, session, card, fig)
    return _one_summary(session, card)


@dataclass(frozen=True)
class Skipped:
    timecard_id: int
    login: str
    reason: str


@dataclass(frozen=True)
class SignManyResult:
    signed: tuple[CardSummary, ...]
    skipped: tuple[Skipped, ...]


def sign_many(actor: Actor, session: Session, timecard_ids: Sequence[int]) -> SignManyResult:
    """Sign every clean card among ``timecard_ids`` (no variance against the schedule);
    the others are skipped with the reason, for the supervisor to open one by one."""
    require(actor, Action.TIMECARD_SIGN)
    rules = time_rules(session)
    signed: list[CardSummary] = []
    skipped: list[Skipped] = []
    for cid in dict.fromkeys(timecard_ids):
        card = session.get(Timecard, cid)
        if card is None:
            skipped.append(Skipped(cid, "", "no such timecard"))
            continue
        user = _user(session, card.user_id)
        period = Period(card.period_start, card.period_end)
        fig = figures_for(load_inputs(session, [card.user_id], period, rules.tz)[card.user_id], rules)
        error = _sign_problem(actor, session, card, fig)
        problem = str(error) if error is not None else None
        if problem is None and fig.variance():
            problem = "differs from the schedule: " + ", ".join(fig.variance())
        if problem is not None:
            skipped.append(Skipped(cid, user.login, problem))
            continue
        _sign(actor, session, card, fig)
        signed.append(_one_summary(session, card))
    return SignManyResult(tuple(signed), tuple(skipped))


def reject_timecard(
    actor: Actor, session: Session, timecard_id: int, reason: str, *, expected_version: int | None = None
) -> CardSummary:
    """A supervisor sends a submitted card back to the clerk (open), saying why."""
    require(actor, Action.TIMECARD_SIGN)
    card = _get_card(session, timecard_id)
    require_not_self(actor, card.user_id, "decide on a timecard for")
    text = _reason(reason)
    _check_version(card, expected_version)
    if card.status != TimecardStatus.SUBMITTED:
        raise ConflictError(f"only a submitted timecard can be rejected; this one is {card.status.value}")
    before = audit.snapshot(card, CARD_AUDIT)
    card.status = TimecardStatus.OPEN
    card.rejected_reason = text
    card.submitted_at = None
    session.flush()
    audit.record(session, actor, "timecard", card.id, "reject", before, audit.snapshot(card, CARD_AUDIT))
    return _one_summary(session, card)


def _unlockable(actor: Actor, session: Session, timecard_id: int) -> Timecard:
    require(actor, Action.TIMECARD_UNLOCK)
    card = _get_card(session, timecard_id)
    require_not_self(actor, card.user_id, "unlock a timecard for")
    if card.status == TimecardStatus.EXPORTED:
        raise FrozenError(
            "this timecard was exported to payroll and cannot be unlocked; "
            "record the correction in the current period"
        )
    if card.status != TimecardStatus.SIGNED:
        raise ConflictError(f"only a signed timecard can be unlocked; this one is {card.status.value}")
    return card


def check_unlock(actor: Actor, session: Session, timecard_id: int) -> None:
    """Raise what ``unlock_timecard`` would refuse, before anyone types a reason."""
    _unlockable(actor, session, timecard_id)


def unlock_timecard(
    actor: Actor, session: Session, timecard_id: int, reason: str, *, expected_version: int | None = None
) -> CardSummary:
    """A supervisor unfreezes a signed card (reason required). It goes back to submitted and
    needs a new signature; the old signature stays in the chain."""
    card = _unlockable(actor, session, timecard_id)
    text = _reason(reason)
    _check_version(card, expected_version)
    before = audit.snapshot(card, CARD_AUDIT)
    card.status = TimecardStatus.SUBMITTED
    card.unlock_reason = text
    card.signed_by = None
    card.signed_at = None
    session.flush()
    audit.record(session, actor, "timecard", card.id, "unlock", before, audit.snapshot(card, CARD_AUDIT))
    return _one_summary(session, card)


def mark_exported(actor: Actor, session: Session, card: Timecard) -> None:
    """Payroll took the card (called by scheduling.payroll inside its export)."""
    require(actor, Action.PAYROLL_EXPORT)
    if card.status != TimecardStatus.SIGNED:
        raise ConflictError(f"only signed timecards go to payroll; card {card.id} is {card.status.value}")
    before = audit.snapshot(card, CARD_AUDIT)
    card.status = TimecardStatus.EXPORTED
    card.exported_at = now()
    session.flush()
    audit.record(session, actor, "timecard", card.id, "export", before, audit.snapshot(card, CARD_AUDIT))


# --------------------------------------------------------------------------- verify


def verify_signatures(session: Session) -> VerifyResult:
    """Walk the signature chain; then check every signed card against its latest signature.

    Reports the first broken link: a signature edited, inserted or removed with plain SQL, or a
    signed card whose content (events, shifts, totals) no longer matches what was signed.
    """
    prev = GENESIS
    checked = 0
    latest: dict[int, TimecardSignature] = {}
    for sig in session.scalars(sa.select(TimecardSignature).order_by(TimecardSignature.id)):
        if sig.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                sig.id,
                f"timecard signature {sig.id}: link to the previous signature is broken "
                "(a signature was deleted or inserted)",
            )
        expect = signature_hash(prev, sig.content_hash, sig.timecard_id, sig.signed_by, sig.signed_at)
        if expect != sig.hash:
            return VerifyResult(
                False,
                checked,
                sig.id,
                f"timecard signature {sig.id}: content does not match its hash (edited outside ClerkDesk)",
            )
        prev = sig.hash
        latest[sig.timecard_id] = sig
        checked += 1
    cards = list(
        session.scalars(
            sa.select(Timecard)
            .where(Timecard.status.in_([TimecardStatus.SIGNED, TimecardStatus.EXPORTED]))
            .order_by(Timecard.id)
        )
    )
    # The cards' inputs are read per period for everyone at once (three queries a period).
    tz = office_timezone(session)
    by_period: dict[Period, list[int]] = defaultdict(list)
    for card in cards:
        by_period[Period(card.period_start, card.period_end)].append(card.user_id)
    inputs = {p: load_inputs(session, uids, p, tz) for p, uids in by_period.items()}
    for card in cards:
        card_sig = latest.get(card.id)
        if card_sig is None:
            return VerifyResult(
                False, checked, card.id, f"timecard {card.id} is {card.status.value} but has no signature"
            )
        if (
            card_sig.signed_by != card.signed_by
            or card.signed_at is None
            or _iso(card_sig.signed_at) != _iso(card.signed_at)
        ):
            return VerifyResult(
                False,
                checked,
                card.id,
                f"timecard {card.id}: signer or time differs from its latest signature {card_sig.id} "
                "(a signature was removed or the card edited)",
            )
        period = Period(card.period_start, card.period_end)
        if content_hash(session, card, inputs[period][card.user_id], tz) != card_sig.content_hash:
            return VerifyResult(
                False,
                checked,
                card.id,
                f"timecard {card.id} ({card.period_start.isoformat()}): its content no longer matches "
                f"signature {card_sig.id} (events, shifts or totals changed after signing)",
            )
    return VerifyResult(
        True, checked, None, f"timecard signatures intact: {checked} signatures, {len(cards)} signed cards"
    )
