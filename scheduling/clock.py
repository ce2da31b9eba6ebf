"""Clock events (docs/timecards.md): clock in, clock out, breaks; supervisor corrections.

* The instant of a clerk's punch is ALWAYS ``db.timeutil.now()``: nobody types a time.
* A state machine refuses nonsense (out without in, two ins, break while out, out during a
  break) with a sentence that says what to do instead.
* A supervisor adds or corrects an event with a reason. Nothing is overwritten: a correction
  is a new row (``source=supervisor``, ``supersedes_id``) and the old row is ``voided``.
* Work belongs to the day of its clock-in: a clock-out after midnight belongs to the workday
  that started the evening before. A clock-in from 2 hours before a scheduled shift's start
  until its end belongs to that shift's day (so 23:50 for a 00:00 shift counts for the shift).
* Events of a signed or exported timecard are frozen here, in the service layer: every way in
  (a clerk's punch, a supervisor's addition, correction or void) is refused with FrozenError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, FrozenError, NotFound, PermissionDenied, ValidationError
from db.models import ClockEvent, ClockKind, ClockSource, Shift, ShiftStatus, Timecard, TimecardStatus, User
from db.rights import Action, Actor, require, require_not_self
from db.settings import office_timezone
from db.timeutil import now
from scheduling.periods import Period, PeriodRules, period_containing, period_rules, zone, zone_and_rules

# A clock-in this long before a shift's start already belongs to that shift.
EARLY_WINDOW = dt.timedelta(hours=2)
# How far around a change we look to re-check the sequence and attribute days. A segment
# longer than this (a forgotten clock-out over a weekend) is attributed by its own dates.
MARGIN = dt.timedelta(days=2)
MAX_REASON = 500

OUT, IN, BREAK = "out", "in", "break"

KIND_LABEL = {
    ClockKind.IN: "clock-in",
    ClockKind.OUT: "clock-out",
    ClockKind.BREAK_START: "break start",
    ClockKind.BREAK_END: "break end",
}

AUDIT_FIELDS = ("user_id", "kind", "at", "source", "reason", "supersedes_id", "voided", "recorded_by")


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class Punch:
    """A clock event as plain data (what the pure timecard functions work on)."""

    id: int
    kind: ClockKind
    at: pendulum.DateTime  # UTC
    source: ClockSource = ClockSource.CLOCK
    reason: str = ""


@dataclass(frozen=True)
class ShiftSlot:
    """A published shift as plain data."""

    id: int
    day: dt.date
    starts_at: pendulum.DateTime
    ends_at: pendulum.DateTime
    code: str = ""
    unpaid_break_minutes: int = 0


@dataclass(frozen=True)
class ClockEventView:
    id: int
    user_id: int
    kind: ClockKind
    at: pendulum.DateTime  # UTC
    local: pendulum.DateTime  # in the office zone
    source: ClockSource
    reason: str
    supersedes_id: int | None
    voided: bool
    recorded_by: int

    @property
    def label(self) -> str:
        return KIND_LABEL[self.kind]


@dataclass(frozen=True)
class ClockState:
    """Where a person stands now, for the header: "clocked in since 08:02, on break since 12:00"."""

    user_id: int
    status: str  # out | in | break
    in_since: pendulum.DateTime | None  # UTC instant of the open segment's clock-in
    break_since: pendulum.DateTime | None
    last_at: pendulum.DateTime | None
    text: str

    @property
    def clocked_in(self) -> bool:
        return self.status != OUT


def _view(e: ClockEvent, tz: str) -> ClockEventView:
    return ClockEventView(
        id=e.id,
        user_id=e.user_id,
        kind=e.kind,
        at=e.at,
        local=e.at.in_timezone(zone(tz)),
        source=e.source,
        reason=e.reason,
        supersedes_id=e.supersedes_id,
        voided=e.voided,
        recorded_by=e.recorded_by,
    )


def _punch(e: ClockEvent) -> Punch:
    return Punch(id=e.id, kind=e.kind, at=e.at, source=e.source, reason=e.reason)


def shift_slot(sh: Shift) -> ShiftSlot:
    return ShiftSlot(
        id=sh.id,
        day=sh.day,
        starts_at=sh.starts_at,
        ends_at=sh.ends_at,
        code=sh.shift_type.code if sh.shift_type is not None else "",
        unpaid_break_minutes=sh.shift_type.unpaid_break_minutes if sh.shift_type is not None else 0,
    )


def hhmm(at: pendulum.DateTime, tz: str, today: dt.date | None = None) -> str:
    """Local wall time; with the weekday when it is not ``today``."""
    local = at.in_timezone(zone(tz))
    if today is not None and local.date() == today:
        return local.format("HH:mm")
    return local.format("ddd D MMM HH:mm")


# --------------------------------------------------------------------------- pure functions


def sort_key(p: Punch) -> tuple[pendulum.DateTime, int]:
    return (p.at, p.id)


def work_day_of_in(at: pendulum.DateTime, shifts: Sequence[ShiftSlot], tz: str) -> dt.date:
    """The day a clock-in belongs to: its shift's day when it starts one, else its own date."""
    candidates = [s for s in shifts if s.starts_at - EARLY_WINDOW <= at < s.ends_at]
    if candidates:
        best = min(candidates, key=lambda s: (abs((at - s.starts_at).total_seconds()), s.starts_at))
        return best.day
    return at.in_timezone(zone(tz)).date()


def attribute_days(
    punches: Iterable[Punch],
    shifts: Sequence[ShiftSlot],
    tz: str,
    open_day: dt.date | None = None,
) -> list[tuple[Punch, dt.date]]:
    """Each punch with the workday it belongs to (the day of the clock-in that opened it).

    ``open_day`` is the workday of a segment already open before the first punch.
    """
    out: list[tuple[Punch, dt.date]] = []
    current = open_day
    for p in sorted(punches, key=sort_key):
        if p.kind == ClockKind.IN:
            current = work_day_of_in(p.at, shifts, tz)
            day = current
        elif current is None:  # an orphan (only possible in old or hand-made data)
            day = p.at.in_timezone(zone(tz)).date()
        else:
            day = current
        if p.kind == ClockKind.OUT:
            current = None
        out.append((p, day))
    return out


def step(status: str, kind: ClockKind) -> str | None:
    """The state after ``kind`` from ``status``; None when the move is nonsense."""
    moves = {
        (OUT, ClockKind.IN): IN,
        (IN, ClockKind.OUT): OUT,
        (IN, ClockKind.BREAK_START): BREAK,
        (BREAK, ClockKind.BREAK_END): IN,
    }
    return moves.get((status, kind))


def first_invalid(punches: Iterable[Punch], start: str = OUT) -> tuple[Punch, str] | None:
    """The first punch the state machine refuses, with the state it met; None when all is well."""
    status = start
    for p in sorted(punches, key=sort_key):
        nxt = step(status, p.kind)
        if nxt is None:
            return p, status
        status = nxt
    return None


def final_state(punches: Iterable[Punch], start: str = OUT) -> str:
    status = start
    for p in sorted(punches, key=sort_key):
        status = step(status, p.kind) or status
    return status


_STATE_WORDS = {OUT: "not clocked in", IN: "clocked in", BREAK: "on a break"}


def refusal(kind: ClockKind, status: str, since: str = "", break_since: str = "") -> str:
    """Why ``kind`` cannot follow ``status``, and what to do instead (for a person's own punch)."""
    if kind == ClockKind.IN:
        if status == BREAK:
            return f"you are on a break since {break_since}; end the break instead of clocking in again"
        return f"you are already clocked in since {since}; clock out first"
    if kind == ClockKind.OUT:
        if status == BREAK:
            return f"you are on a break since {break_since}; end the break before clocking out"
        return "you are not clocked in, so you cannot clock out"
    if kind == ClockKind.BREAK_START:
        if status == BREAK:
            return f"you are already on a break since {break_since}"
        return "you are not clocked in, so you cannot start a break"
    if status == OUT:
        return "you are not clocked in, so you have no break to end"
    return "you are not on a break"


# --------------------------------------------------------------------------- queries


def _events(
    session: Session, user_id: int, start: pendulum.DateTime, end: pendulum.DateTime
) -> list[ClockEvent]:
    return list(
        session.scalars(
            sa.select(ClockEvent)
            .where(
                ClockEvent.user_id == user_id,
                ClockEvent.voided.is_(False),
                ClockEvent.at >= start,
                ClockEvent.at < end,
            )
            .order_by(ClockEvent.at, ClockEvent.id)
        )
    )


def _last_before(
    session: Session, user_id: int, before: pendulum.DateTime | None, kind: ClockKind | None = None
) -> ClockEvent | None:
    stmt = sa.select(ClockEvent).where(ClockEvent.user_id == user_id, ClockEvent.voided.is_(False))
    if before is not None:
        stmt = stmt.where(ClockEvent.at < before)
    if kind is not None:
        stmt = stmt.where(ClockEvent.kind == kind)
    return session.scalars(stmt.order_by(ClockEvent.at.desc(), ClockEvent.id.desc()).limit(1)).first()


def published_shifts(session: Session, user_ids: Sequence[int], first: dt.date, last: dt.date) -> list[Shift]:
    if not user_ids:
        return []
    return list(
        session.scalars(
            sa.select(Shift)
            .where(
                Shift.user_id.in_(user_ids),
                Shift.status == ShiftStatus.PUBLISHED,
                Shift.day >= first,
                Shift.day <= last,
            )
            .options(sa.orm.joinedload(Shift.shift_type))
            .order_by(Shift.starts_at)
        )
    )


def _state_for(session: Session, user_id: int, tz: str) -> ClockState:
    # The latest events in one query; the segment's clock-in is almost always among them.
    recent = list(
        session.scalars(
            sa.select(ClockEvent)
            .where(ClockEvent.user_id == user_id, ClockEvent.voided.is_(False))
            .order_by(ClockEvent.at.desc(), ClockEvent.id.desc())
            .limit(12)
        )
    )
    last = recent[0] if recent else None
    today = now().in_timezone(zone(tz)).date()
    if last is None or last.kind == ClockKind.OUT:
        text = _STATE_WORDS[OUT]
        if last is not None:
            text += f" (last out {hhmm(last.at, tz, today)})"
        return ClockState(user_id, OUT, None, None, last.at if last else None, text)
    opened = next((e for e in recent if e.kind == ClockKind.IN), None)
    if opened is None:  # a segment with many breaks
        opened = _last_before(session, user_id, last.at, ClockKind.IN)
    in_since = opened.at if opened is not None else last.at
    text = f"clocked in since {hhmm(in_since, tz, today)}"
    if last.kind == ClockKind.BREAK_START:
        text += f", on break since {hhmm(last.at, tz, today)}"
        return ClockState(user_id, BREAK, in_since, last.at, last.at, text)
    return ClockState(user_id, IN, in_since, None, last.at, text)


def clock_state(actor: Actor, session: Session, user_id: int | None = None) -> ClockState:
    """Where ``user_id`` (default: the actor) stands now. Clerks may only ask about themselves."""
    require(actor, Action.VIEW)
    uid = actor.user_id if user_id is None else user_id
    if uid != actor.user_id:
        require(actor, Action.CLOCK_CORRECT)
    return _state_for(session, uid, office_timezone(session))


def clocked_in_now(actor: Actor, session: Session) -> list[ClockState]:
    """Everyone whose latest event leaves them clocked in or on a break (dashboard: who is in)."""
    require(actor, Action.CLOCK_CORRECT)
    ranked = (
        sa.select(
            ClockEvent.user_id,
            ClockEvent.kind,
            sa.func.row_number()
            .over(partition_by=ClockEvent.user_id, order_by=(ClockEvent.at.desc(), ClockEvent.id.desc()))
            .label("rn"),
        )
        .where(ClockEvent.voided.is_(False))
        .subquery()
    )
    user_ids = list(
        session.scalars(
            sa.select(ranked.c.user_id)
            .join(User, User.id == ranked.c.user_id)
            .where(ranked.c.rn == 1, ranked.c.kind != ClockKind.OUT, User.active.is_(True))
            .order_by(ranked.c.user_id)
        )
    )
    tz = office_timezone(session)
    states = [_state_for(session, uid, tz) for uid in user_ids]
    return [st for st in states if st.clocked_in]


def clock_events(
    actor: Actor,
    session: Session,
    user_id: int,
    first: dt.date,
    last: dt.date,
    *,
    include_voided: bool = False,
) -> list[ClockEventView]:
    """Events whose local date is ``first`` … ``last``; clerks only see their own."""
    require(actor, Action.VIEW)
    if user_id != actor.user_id:
        require(actor, Action.CLOCK_CORRECT)
    tz = office_timezone(session)
    start = pendulum.datetime(first.year, first.month, first.day, tz=tz).in_timezone("UTC")
    nxt = last + dt.timedelta(days=1)
    end = pendulum.datetime(nxt.year, nxt.month, nxt.day, tz=tz).in_timezone("UTC")
    stmt = sa.select(ClockEvent).where(
        ClockEvent.user_id == user_id, ClockEvent.at >= start, ClockEvent.at < end
    )
    if not include_voided:
        stmt = stmt.where(ClockEvent.voided.is_(False))
    return [_view(e, tz) for e in session.scalars(stmt.order_by(ClockEvent.at, ClockEvent.id))]


# --------------------------------------------------------------------------- the frozen rule


def frozen_card(session: Session, user_id: int, period: Period) -> Timecard | None:
    """The user's card for ``period`` when it is signed or exported (frozen), else None."""
    return _first_frozen(session, user_id, [period])


def _first_frozen(session: Session, user_id: int, periods: Sequence[Period]) -> Timecard | None:
    if not periods:
        return None
    return session.scalars(
        sa.select(Timecard)
        .where(
            Timecard.user_id == user_id,
            Timecard.period_start.in_([p.start for p in periods]),
            Timecard.status.in_([TimecardStatus.SIGNED, TimecardStatus.EXPORTED]),
        )
        .order_by(Timecard.period_start)
        .limit(1)
    ).first()


def frozen_message(session: Session, card: Timecard, tz: str) -> str:
    who = session.get(User, card.user_id)
    login = who.login if who else str(card.user_id)
    span = f"{card.period_start.isoformat()} – {card.period_end.isoformat()}"
    if card.status == TimecardStatus.EXPORTED:
        when = card.exported_at.in_timezone(zone(tz)).format("YYYY-MM-DD") if card.exported_at else "?"
        return (
            f"the timecard of {login} for {span} was exported to payroll on {when}; "
            "its clock events can no longer change"
        )
    signer = session.get(User, card.signed_by) if card.signed_by else None
    when = card.signed_at.in_timezone(zone(tz)).format("YYYY-MM-DD HH:mm") if card.signed_at else "?"
    return (
        f"the timecard of {login} for {span} is signed (by {signer.login if signer else '?'} on {when}); "
        "a supervisor must unlock it before its clock events can change"
    )


def _check_change(
    session: Session,
    user_id: int,
    tz: str,
    *,
    add: Sequence[Punch] = (),
    remove_ids: frozenset[int] = frozenset(),
) -> None:
    """Refuse a change that touches a frozen (signed) period or breaks the in/out sequence
    (frozen first: for a signed card that is what the supervisor needs to hear).

    Looks at the user's events within ``MARGIN`` of every instant involved, before and after
    the change, so a clock-out after midnight is checked against the day of its clock-in.
    """
    removed = (
        list(session.scalars(sa.select(ClockEvent).where(ClockEvent.id.in_(remove_ids))))
        if remove_ids
        else []
    )
    instants = [p.at for p in add] + [e.at for e in removed]
    lo, hi = min(instants) - MARGIN, max(instants) + MARGIN
    existing = _events(session, user_id, lo, hi)
    before_window = _last_before(session, user_id, lo)
    start = OUT
    open_day: dt.date | None = None
    if before_window is not None and before_window.kind != ClockKind.OUT:
        start = BREAK if before_window.kind == ClockKind.BREAK_START else IN
        opener = _last_before(session, user_id, lo, ClockKind.IN)
        open_day = (
            opener.at.in_timezone(zone(tz)).date()
            if opener
            else before_window.at.in_timezone(zone(tz)).date()
        )
    lo_day = lo.in_timezone(zone(tz)).date() - dt.timedelta(days=1)
    hi_day = hi.in_timezone(zone(tz)).date() + dt.timedelta(days=1)
    shifts = [shift_slot(s) for s in published_shifts(session, [user_id], lo_day, hi_day)]

    old = [_punch(e) for e in existing]
    new = [p for p in old if p.id not in remove_ids] + list(add)
    changed_ids = {p.id for p in add} | set(remove_ids)
    days: set[dt.date] = set()
    for p, day in attribute_days(old, shifts, tz, open_day) + attribute_days(new, shifts, tz, open_day):
        if p.id in changed_ids:
            days.add(day)
            days.add(p.at.in_timezone(zone(tz)).date())
    _refuse_frozen(session, user_id, days, tz)
    bad = first_invalid(new, start)
    if bad is not None:
        p, status = bad
        raise ValidationError.from_fields(
            {
                "at": f"after this change the {KIND_LABEL[p.kind]} at {hhmm(p.at, tz)} would come while "
                f"{_STATE_WORDS[status]}; clock events must stay in order (in, breaks, out)"
            }
        )


def _refuse_frozen(
    session: Session, user_id: int, days: Iterable[dt.date], tz: str, rules: PeriodRules | None = None
) -> None:
    rules = rules or period_rules(session)
    card = _first_frozen(session, user_id, sorted({period_containing(d, rules) for d in days}))
    if card is not None:
        raise FrozenError(frozen_message(session, card, tz))


# --------------------------------------------------------------------------- a person's own punches


def punch(actor: Actor, session: Session, kind: ClockKind | str) -> ClockEventView:
    """Record the actor's own clock event at the program clock's instant."""
    require(actor, Action.TIME_OWN)
    try:
        kind = ClockKind(kind)
    except ValueError:
        raise ValidationError.from_fields({"kind": "must be in, out, break_start or break_end"}) from None
    if actor.user_id == 0 or session.get(User, actor.user_id) is None:
        raise PermissionDenied(f"{actor.login} is not a ClerkDesk user and has no clock")
    tz, rules = zone_and_rules(session)
    at = now()
    state = _state_for(session, actor.user_id, tz)
    today = at.in_timezone(zone(tz)).date()
    if step(state.status, kind) is None:
        raise ValidationError.from_fields(
            {
                "kind": refusal(
                    kind,
                    state.status,
                    hhmm(state.in_since, tz, today) if state.in_since else "",
                    hhmm(state.break_since, tz, today) if state.break_since else "",
                )
            }
        )
    if state.last_at is not None and at < state.last_at:
        raise ConflictError(
            f"the clock reads {hhmm(at, tz)}, before your last event at {hhmm(state.last_at, tz)}; "
            "ask a supervisor to check the server clock"
        )
    # A punch is always the user's latest event, so the state check above covers the sequence;
    # what remains is the frozen rule for the punch's own date and the workday it belongs to
    # (an IN: its shift's day; anything else: the day of the clock-in that opened the segment).
    # That workday is the opening clock-in's date or a neighbour, so when none of those periods
    # is frozen (the usual case) the shifts need not be read at all.
    opened_at = at if kind == ClockKind.IN else (state.in_since or at)
    local_day = opened_at.in_timezone(zone(tz)).date()
    around = {today} | {local_day + dt.timedelta(days=k) for k in (-1, 0, 1)}
    if _first_frozen(session, actor.user_id, sorted({period_containing(d, rules) for d in around})):
        near = [
            shift_slot(s)
            for s in published_shifts(
                session, [actor.user_id], local_day - dt.timedelta(days=1), local_day + dt.timedelta(days=1)
            )
        ]
        _refuse_frozen(session, actor.user_id, {today, work_day_of_in(opened_at, near, tz)}, tz, rules)
    event = ClockEvent(
        user_id=actor.user_id,
        kind=kind,
        at=at,
        source=ClockSource.CLOCK,
        reason="",
        recorded_by=actor.user_id,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, "clock_event", event.id, "create", None, audit.snapshot(event, AUDIT_FIELDS))
    return _view(event, tz)


def clock_in(actor: Actor, session: Session) -> ClockEventView:
    return punch(actor, session, ClockKind.IN)


def clock_out(actor: Actor, session: Session) -> ClockEventView:
    return punch(actor, session, ClockKind.OUT)


def start_break(actor: Actor, session: Session) -> ClockEventView:
    return punch(actor, session, ClockKind.BREAK_START)


def end_break(actor: Actor, session: Session) -> ClockEventView:
    return punch(actor, session, ClockKind.BREAK_END)


# --------------------------------------------------------------------------- supervisor corrections


def _reason(reason: str, errors: dict[str, str]) -> str:
    text = (reason or "").strip()
    if not text:
        errors["reason"] = "a reason is required for a supervisor's change"
    elif len(text) > MAX_REASON:
        errors["reason"] = f"is longer than {MAX_REASON} characters"
    return text


def _instant(at: dt.datetime | None, errors: dict[str, str]) -> pendulum.DateTime | None:
    if at is None:
        return None
    if at.tzinfo is None or at.utcoffset() is None:
        errors["at"] = "needs a time zone (an instant), not a bare wall time"
        return None
    inst = pendulum.instance(at).in_timezone("UTC")
    if inst > now():
        errors["at"] = "cannot be in the future"
    return inst


def add_clock_event(
    actor: Actor,
    session: Session,
    user_id: int,
    kind: ClockKind | str,
    at: dt.datetime,
    reason: str,
) -> ClockEventView:
    """A supervisor adds a missing event (a forgotten clock-out, …) with a reason."""
    require(actor, Action.CLOCK_CORRECT)
    require_not_self(actor, user_id, "correct the clock events of")
    errors: dict[str, str] = {}
    try:
        kind = ClockKind(kind)
    except ValueError:
        errors["kind"] = "must be in, out, break_start or break_end"
    text = _reason(reason, errors)
    inst = _instant(at, errors)
    if session.get(User, user_id) is None:
        errors["user"] = f"no user with id {user_id}"
    if errors:
        raise ValidationError.from_fields(errors)
    assert inst is not None and isinstance(kind, ClockKind)
    tz = office_timezone(session)
    _check_change(session, user_id, tz, add=[Punch(-1, kind, inst, ClockSource.SUPERVISOR, text)])
    event = ClockEvent(
        user_id=user_id,
        kind=kind,
        at=inst,
        source=ClockSource.SUPERVISOR,
        reason=text,
        recorded_by=actor.user_id,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, "clock_event", event.id, "add", None, audit.snapshot(event, AUDIT_FIELDS))
    return _view(event, tz)


def _live_event(session: Session, event_id: int) -> ClockEvent:
    old = session.get(ClockEvent, event_id)
    if old is None:
        raise NotFound(f"no clock event {event_id}")
    if old.voided:
        newer = session.scalars(sa.select(ClockEvent.id).where(ClockEvent.supersedes_id == old.id)).first()
        hint = f" by event {newer}" if newer else ""
        raise ConflictError(f"clock event {event_id} was already corrected{hint}; correct the current one")
    return old


def correct_clock_event(
    actor: Actor,
    session: Session,
    event_id: int,
    *,
    reason: str,
    at: dt.datetime | None = None,
    kind: ClockKind | str | None = None,
) -> ClockEventView:
    """A supervisor corrects an event: a new row supersedes it and the original is voided (kept)."""
    require(actor, Action.CLOCK_CORRECT)
    old = _live_event(session, event_id)
    require_not_self(actor, old.user_id, "correct the clock events of")
    errors: dict[str, str] = {}
    new_kind = old.kind
    if kind is not None:
        try:
            new_kind = ClockKind(kind)
        except ValueError:
            errors["kind"] = "must be in, out, break_start or break_end"
    text = _reason(reason, errors)
    inst = _instant(at, errors)
    new_at = inst if inst is not None else old.at
    if not errors and new_kind == old.kind and new_at == old.at:
        errors["at"] = "the correction changes nothing (same kind and time)"
    if errors:
        raise ValidationError.from_fields(errors)
    tz = office_timezone(session)
    _check_change(
        session,
        old.user_id,
        tz,
        add=[Punch(-1, new_kind, new_at, ClockSource.SUPERVISOR, text)],
        remove_ids=frozenset({old.id}),
    )
    before = audit.snapshot(old, AUDIT_FIELDS)
    old.voided = True
    event = ClockEvent(
        user_id=old.user_id,
        kind=new_kind,
        at=new_at,
        source=ClockSource.SUPERVISOR,
        reason=text,
        supersedes_id=old.id,
        recorded_by=actor.user_id,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, "clock_event", old.id, "void", before, audit.snapshot(old, AUDIT_FIELDS))
    audit.record(
        session, actor, "clock_event", event.id, "correct", before, audit.snapshot(event, AUDIT_FIELDS)
    )
    return _view(event, tz)


def void_clock_event(actor: Actor, session: Session, event_id: int, *, reason: str) -> ClockEventView:
    """A supervisor removes a wrong event (e.g. a double punch); the row is kept, voided."""
    require(actor, Action.CLOCK_CORRECT)
    old = _live_event(session, event_id)
    require_not_self(actor, old.user_id, "correct the clock events of")
    errors: dict[str, str] = {}
    text = _reason(reason, errors)
    if errors:
        raise ValidationError.from_fields(errors)
    tz = office_timezone(session)
    _check_change(session, old.user_id, tz, remove_ids=frozenset({old.id}))
    before = audit.snapshot(old, AUDIT_FIELDS)
    old.voided = True
    session.flush()
    after = {**audit.snapshot(old, AUDIT_FIELDS), "void_reason": text}
    audit.record(session, actor, "clock_event", old.id, "void", before, after)
    return replace(_view(old, tz))
