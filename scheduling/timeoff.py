"""Availability, time-off requests and shift requests (docs/schedule.md).

* Time off: a clerk asks (``request_time_off``); a supervisor approves, or declines with a
  reason. Approved time off is a fixed day off for the roster builder (hard rule). A supervisor
  may also record time off directly (sick days, after the fact), already approved.
* Availability: weekdays a clerk cannot work, agreed with a supervisor and recorded by one;
  also a fixed day off for the builder.
* Shift requests: "I want to work E on Friday" / "I'd rather not work Monday", each with a
  weight; soft, the builder pays the weight when it cannot grant one. Clerks ask for
  themselves (weight 1–10); supervisors may enter any clerk's request with weights up to 1000.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    Availability,
    RequestStatus,
    Role,
    Shift,
    ShiftRequest,
    ShiftType,
    TimeOffRequest,
    User,
)
from db.rights import Action, Actor, require, require_not_self
from db.settings import office_timezone
from db.timeutil import now, office_today

MAX_TIME_OFF_DAYS = 60
MAX_REASON = 500
CLERK_MAX_WEIGHT = 10
SUPERVISOR_MAX_WEIGHT = 1000
TIMEOFF_AUDIT = ("user_id", "start_date", "end_date", "reason", "status", "decided_by", "decision_reason")


@dataclass(frozen=True)
class TimeOffView:
    id: int
    login: str
    name: str
    start_date: dt.date
    end_date: dt.date
    reason: str
    status: RequestStatus
    decided_by: str | None
    decided_at: pendulum.DateTime | None
    decision_reason: str
    created_at: pendulum.DateTime
    clashes: tuple[dt.date, ...] = ()  # days in the range on which the clerk has a shift

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


@dataclass(frozen=True)
class AvailabilityView:
    login: str
    weekday: int
    available: bool
    note: str


@dataclass(frozen=True)
class ShiftRequestView:
    id: int
    login: str
    day: dt.date
    shift_code: str | None  # None = any shift
    wants: bool
    weight: int

    @property
    def text(self) -> str:
        what = self.shift_code or "any shift"
        return f"{self.login} {'wants' if self.wants else 'does not want'} {what} on {self.day}"


# --------------------------------------------------------------------------- helpers


def _user(session: Session, login: str) -> User:
    u = session.scalars(sa.select(User).where(User.login == login)).one_or_none()
    if u is None:
        raise NotFound(f"no ClerkDesk user {login!r}")
    return u


def _logins(session: Session, ids: set[int | None]) -> dict[int, tuple[str, str]]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: (u.login, u.name) for u in session.scalars(sa.select(User).where(User.id.in_(ids)))}


def _clashes(session: Session, r: TimeOffRequest) -> tuple[dt.date, ...]:
    return tuple(
        session.scalars(
            sa.select(Shift.day)
            .where(Shift.user_id == r.user_id, Shift.day >= r.start_date, Shift.day <= r.end_date)
            .order_by(Shift.day)
        )
    )


def _view(session: Session, r: TimeOffRequest, *, clashes: bool = False) -> TimeOffView:
    names = _logins(session, {r.user_id, r.decided_by})
    login, name = names[r.user_id]
    return TimeOffView(
        r.id,
        login,
        name,
        r.start_date,
        r.end_date,
        r.reason,
        r.status,
        names[r.decided_by][0] if r.decided_by is not None else None,
        r.decided_at,
        r.decision_reason,
        r.created_at,
        _clashes(session, r) if clashes else (),
    )


def _range_errors(start: dt.date, end: dt.date, reason: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if end < start:
        errors["end_date"] = f"{end} is before the first day {start}"
    elif (end - start).days + 1 > MAX_TIME_OFF_DAYS:
        errors["end_date"] = f"at most {MAX_TIME_OFF_DAYS} days in one request"
    if len(reason) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"
    return errors


def _overlap(session: Session, user_id: int, start: dt.date, end: dt.date) -> TimeOffRequest | None:
    return session.scalars(
        sa.select(TimeOffRequest).where(
            TimeOffRequest.user_id == user_id,
            TimeOffRequest.status.in_([RequestStatus.REQUESTED, RequestStatus.APPROVED]),
            TimeOffRequest.start_date <= end,
            TimeOffRequest.end_date >= start,
        )
    ).first()


def _get_request(session: Session, request_id: int) -> TimeOffRequest:
    r = session.get(TimeOffRequest, request_id)
    if r is None:
        raise NotFound(f"no time-off request {request_id}")
    return r


# --------------------------------------------------------------------------- time off


def request_time_off(
    actor: Actor, session: Session, start: dt.date, end: dt.date, reason: str = ""
) -> TimeOffView:
    """A clerk (or supervisor) asks for days off for themselves; a supervisor decides."""
    require(actor, Action.TIME_OWN)
    reason = reason.strip()
    errors = _range_errors(start, end, reason)
    today = office_today(office_timezone(session))
    if start < today:
        errors["start_date"] = f"{start} is in the past; ask a supervisor to record past absences"
    if errors:
        raise ValidationError.from_fields(errors)
    other = _overlap(session, actor.user_id, start, end)
    if other is not None:
        raise ConflictError(
            f"you already have a {other.status.value} request for {other.start_date}–{other.end_date}"
        )
    r = TimeOffRequest(user_id=actor.user_id, start_date=start, end_date=end, reason=reason)
    session.add(r)
    session.flush()
    audit.record(session, actor, "time_off", r.id, "request", None, audit.snapshot(r, TIMEOFF_AUDIT))
    return _view(session, r)


def record_time_off(
    actor: Actor, session: Session, login: str, start: dt.date, end: dt.date, reason: str
) -> TimeOffView:
    """A supervisor enters approved time off for a clerk (sick days, any dates)."""
    require(actor, Action.TIMEOFF_DECIDE)
    u = _user(session, login)
    require_not_self(actor, u.id, "approve time off for")
    reason = reason.strip()
    errors = _range_errors(start, end, reason)
    if not reason:
        errors["reason"] = "say why (e.g. sick, bereavement)"
    if errors:
        raise ValidationError.from_fields(errors)
    other = _overlap(session, u.id, start, end)
    if other is not None:
        raise ConflictError(
            f"{login} already has a {other.status.value} request for {other.start_date}–{other.end_date} "
            f"(#{other.id}); decide that one instead"
        )
    r = TimeOffRequest(
        user_id=u.id,
        start_date=start,
        end_date=end,
        reason=reason,
        status=RequestStatus.APPROVED,
        decided_by=actor.user_id,
        decided_at=now(),
        decision_reason="recorded by a supervisor",
    )
    session.add(r)
    session.flush()
    audit.record(session, actor, "time_off", r.id, "record", None, audit.snapshot(r, TIMEOFF_AUDIT))
    return _view(session, r, clashes=True)


def approve_time_off(actor: Actor, session: Session, request_id: int, note: str = "") -> TimeOffView:
    """Approve: the days become fixed days off. ``clashes`` lists days the clerk is already
    scheduled (the grid shows them as rule breaks until the supervisor moves those shifts)."""
    require(actor, Action.TIMEOFF_DECIDE)
    r = _get_request(session, request_id)
    require_not_self(actor, r.user_id, "approve time off for")
    if r.status != RequestStatus.REQUESTED:
        raise ConflictError(f"request {request_id} is already {r.status.value}")
    if len(note) > MAX_REASON:
        raise ValidationError.from_fields({"note": f"at most {MAX_REASON} characters"})
    before = audit.snapshot(r, TIMEOFF_AUDIT)
    r.status = RequestStatus.APPROVED
    r.decided_by = actor.user_id
    r.decided_at = now()
    r.decision_reason = note.strip()
    session.flush()
    audit.record(session, actor, "time_off", r.id, "approve", before, audit.snapshot(r, TIMEOFF_AUDIT))
    return _view(session, r, clashes=True)


def decline_time_off(actor: Actor, session: Session, request_id: int, reason: str) -> TimeOffView:
    """Decline; the clerk is told why, so a reason is required."""
    require(actor, Action.TIMEOFF_DECIDE)
    r = _get_request(session, request_id)
    require_not_self(actor, r.user_id, "decide time off for")
    reason = reason.strip()
    if not reason:
        raise ValidationError.from_fields({"reason": "say why the request is declined"})
    if len(reason) > MAX_REASON:
        raise ValidationError.from_fields({"reason": f"at most {MAX_REASON} characters"})
    if r.status != RequestStatus.REQUESTED:
        raise ConflictError(f"request {request_id} is already {r.status.value}")
    before = audit.snapshot(r, TIMEOFF_AUDIT)
    r.status = RequestStatus.DECLINED
    r.decided_by = actor.user_id
    r.decided_at = now()
    r.decision_reason = reason
    session.flush()
    audit.record(session, actor, "time_off", r.id, "decline", before, audit.snapshot(r, TIMEOFF_AUDIT))
    return _view(session, r)


def cancel_time_off(actor: Actor, session: Session, request_id: int) -> TimeOffView:
    """The clerk withdraws their own request (pending, or approved and not yet begun);
    a supervisor may cancel anyone's approved time off."""
    r = _get_request(session, request_id)
    if r.user_id == actor.user_id:
        require(actor, Action.TIME_OWN)
    else:
        require(actor, Action.TIMEOFF_DECIDE)
    if r.status not in (RequestStatus.REQUESTED, RequestStatus.APPROVED):
        raise ConflictError(f"request {request_id} is already {r.status.value}")
    today = office_today(office_timezone(session))
    if r.status == RequestStatus.APPROVED and r.user_id == actor.user_id and r.start_date <= today:
        raise PermissionDenied("approved time off that has begun can only be changed by a supervisor")
    before = audit.snapshot(r, TIMEOFF_AUDIT)
    r.status = RequestStatus.CANCELLED
    session.flush()
    audit.record(session, actor, "time_off", r.id, "cancel", before, audit.snapshot(r, TIMEOFF_AUDIT))
    return _view(session, r)


def list_time_off(
    actor: Actor,
    session: Session,
    *,
    status: RequestStatus | None = None,
    login: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 500,
) -> list[TimeOffView]:
    """Supervisors see everyone's requests; a clerk sees only their own."""
    require(actor, Action.VIEW)
    stmt = sa.select(TimeOffRequest).order_by(TimeOffRequest.start_date, TimeOffRequest.id).limit(limit)
    if not actor.can(Action.TIMEOFF_DECIDE):
        if login is not None and login != actor.login:
            raise PermissionDenied(f"{actor.login} may only see their own time-off requests")
        stmt = stmt.where(TimeOffRequest.user_id == actor.user_id)
    elif login is not None:
        stmt = stmt.where(TimeOffRequest.user_id == _user(session, login).id)
    if status is not None:
        stmt = stmt.where(TimeOffRequest.status == status)
    if start is not None:
        stmt = stmt.where(TimeOffRequest.end_date >= start)
    if end is not None:
        stmt = stmt.where(TimeOffRequest.start_date <= end)
    rows = list(session.scalars(stmt))
    pending = {RequestStatus.REQUESTED, RequestStatus.APPROVED}
    return [_view(session, r, clashes=r.status in pending) for r in rows]


def pending_time_off(actor: Actor, session: Session) -> int:
    """Requests waiting for a decision (the supervisor dashboard's count)."""
    require(actor, Action.TIMEOFF_DECIDE)
    return int(
        session.scalar(
            sa.select(sa.func.count(TimeOffRequest.id)).where(
                TimeOffRequest.status == RequestStatus.REQUESTED
            )
        )
        or 0
    )


def approved_days_off(session: Session, start: dt.date, end: dt.date) -> dict[int, set[dt.date]]:
    """user id → approved time-off days within start..end (no rights check: internal)."""
    out: dict[int, set[dt.date]] = {}
    stmt = sa.select(TimeOffRequest).where(
        TimeOffRequest.status == RequestStatus.APPROVED,
        TimeOffRequest.start_date <= end,
        TimeOffRequest.end_date >= start,
    )
    for r in session.scalars(stmt):
        d = max(r.start_date, start)
        while d <= min(r.end_date, end):
            out.setdefault(r.user_id, set()).add(d)
            d += dt.timedelta(days=1)
    return out


# --------------------------------------------------------------------------- availability


def set_availability(
    actor: Actor, session: Session, login: str, weekday: int, available: bool, note: str = ""
) -> AvailabilityView:
    """Record that a clerk can (or cannot) work on a weekday, as agreed with them."""
    require(actor, Action.SCHEDULE_EDIT)
    errors: dict[str, str] = {}
    if not (0 <= weekday <= 6):
        errors["weekday"] = "must be 0 (Mon) to 6 (Sun)"
    if len(note) > 200:
        errors["note"] = "at most 200 characters"
    if errors:
        raise ValidationError.from_fields(errors)
    u = _user(session, login)
    row = session.scalars(
        sa.select(Availability).where(Availability.user_id == u.id, Availability.weekday == weekday)
    ).first()
    before = audit.snapshot(row, ("weekday", "available", "note")) if row is not None else None
    if row is None:
        row = Availability(user_id=u.id, weekday=weekday)
        session.add(row)
    row.available = available
    row.note = note.strip()
    session.flush()
    audit.record(
        session,
        actor,
        "availability",
        row.id,
        "set",
        before,
        {"user_id": u.id, "weekday": weekday, "available": available, "note": row.note},
    )
    return AvailabilityView(u.login, weekday, available, row.note)


def list_availability(actor: Actor, session: Session, login: str | None = None) -> list[AvailabilityView]:
    """Supervisors see everyone's; a clerk sees their own."""
    require(actor, Action.VIEW)
    if not actor.can(Action.SCHEDULE_EDIT):
        if login is not None and login != actor.login:
            raise PermissionDenied(f"{actor.login} may only see their own availability")
        login = actor.login
    stmt = sa.select(Availability, User.login).join(User, User.id == Availability.user_id)
    if login is not None:
        stmt = stmt.where(User.login == login)
    rows = session.execute(stmt.order_by(User.login, Availability.weekday)).all()
    return [AvailabilityView(lg, a.weekday, a.available, a.note) for a, lg in rows]


def unavailable_weekdays(session: Session) -> dict[int, set[int]]:
    """user id → weekdays they cannot work (internal)."""
    out: dict[int, set[int]] = {}
    for a in session.scalars(sa.select(Availability).where(Availability.available.is_(False))):
        out.setdefault(a.user_id, set()).add(a.weekday)
    return out


# --------------------------------------------------------------------------- shift requests


def _request_view(r: ShiftRequest, login: str, codes: dict[int, str]) -> ShiftRequestView:
    return ShiftRequestView(
        r.id, login, r.day, codes[r.shift_type_id] if r.shift_type_id is not None else None, r.wants, r.weight
    )


def add_shift_request(
    actor: Actor,
    session: Session,
    day: dt.date,
    shift_code: str | None,
    wants: bool,
    weight: int = 1,
    *,
    login: str | None = None,
) -> ShiftRequestView:
    """Ask to work (``wants``) or not work a shift (None = any shift) on a day."""
    own = login is None or login == actor.login
    if own:
        require(actor, Action.TIME_OWN)
        u = _user(session, actor.login)
    else:
        require(actor, Action.SCHEDULE_EDIT)
        u = _user(session, login or "")
    max_weight = SUPERVISOR_MAX_WEIGHT if actor.can(Action.SCHEDULE_EDIT) else CLERK_MAX_WEIGHT
    errors: dict[str, str] = {}
    if not (1 <= weight <= max_weight):
        errors["weight"] = f"must be 1 to {max_weight}"
    if u.role != Role.CLERK:
        errors["clerk"] = f"{u.login} is not a clerk"
    if own and not actor.can(Action.SCHEDULE_EDIT) and day < office_today(office_timezone(session)):
        errors["day"] = f"{day} is in the past"
    type_id = None
    if shift_code is not None and shift_code.strip():
        t = session.scalars(
            sa.select(ShiftType).where(ShiftType.code == shift_code.strip().upper())
        ).one_or_none()
        if t is None or not t.active:
            errors["shift"] = f"no shift type {shift_code!r} in use"
        else:
            type_id = t.id
    if errors:
        raise ValidationError.from_fields(errors)
    dup = session.scalars(
        sa.select(ShiftRequest.id).where(
            ShiftRequest.user_id == u.id,
            ShiftRequest.day == day,
            ShiftRequest.shift_type_id.is_(None)
            if type_id is None
            else ShiftRequest.shift_type_id == type_id,
        )
    ).first()
    if dup is not None:
        raise ConflictError(
            f"{u.login} already has a request for that shift on {day} (#{dup}); remove it first"
        )
    r = ShiftRequest(user_id=u.id, day=day, shift_type_id=type_id, wants=wants, weight=weight)
    session.add(r)
    session.flush()
    audit.record(
        session,
        actor,
        "shift_request",
        r.id,
        "create",
        None,
        {"user_id": u.id, "day": day, "shift_type_id": type_id, "wants": wants, "weight": weight},
    )
    return _request_view(
        r, u.login, {k: v for k, v in session.execute(sa.select(ShiftType.id, ShiftType.code))}
    )


def remove_shift_request(actor: Actor, session: Session, request_id: int) -> None:
    r = session.get(ShiftRequest, request_id)
    if r is None:
        raise NotFound(f"no shift request {request_id}")
    require(actor, Action.TIME_OWN if r.user_id == actor.user_id else Action.SCHEDULE_EDIT)
    before = {
        "user_id": r.user_id,
        "day": r.day,
        "shift_type_id": r.shift_type_id,
        "wants": r.wants,
        "weight": r.weight,
    }
    session.delete(r)
    session.flush()
    audit.record(session, actor, "shift_request", request_id, "delete", before, None)


def list_shift_requests(
    actor: Actor, session: Session, start: dt.date, end: dt.date, *, login: str | None = None
) -> list[ShiftRequestView]:
    """Supervisors see everyone's; a clerk sees their own."""
    require(actor, Action.VIEW)
    if not actor.can(Action.SCHEDULE_EDIT):
        if login is not None and login != actor.login:
            raise PermissionDenied(f"{actor.login} may only see their own shift requests")
        login = actor.login
    stmt = (
        sa.select(ShiftRequest, User.login)
        .join(User, User.id == ShiftRequest.user_id)
        .where(ShiftRequest.day >= start, ShiftRequest.day <= end)
        .order_by(ShiftRequest.day, User.login, ShiftRequest.id)
    )
    if login is not None:
        stmt = stmt.where(User.login == login)
    codes = {k: v for k, v in session.execute(sa.select(ShiftType.id, ShiftType.code))}
    return [_request_view(r, lg, codes) for r, lg in session.execute(stmt).all()]
