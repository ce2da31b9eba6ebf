"""Attendance incidents and discipline (docs/timecards.md).

* ``record_incidents`` compares a day's clock events with the published schedule (the same
  figures as the timecard): late beyond grace, left early beyond grace, absent. It is
  idempotent (one incident per person, day and kind); run it again after a correction and
  it only adds what is new. Left-early and absent are recorded only once the shift is over.
* A supervisor records discipline (verbal, written, final warning, coaching) with a reason and
  the incidents it answers; the clerk sees and acknowledges their own records.
* Discipline rules ("3 lates in 30 days → written warning") are data. They produce
  suggestions for the supervisor and are never applied by themselves. Incidents already linked
  to a discipline record no longer count toward a suggestion.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    AttendanceIncident,
    DisciplineKind,
    DisciplineRecord,
    DisciplineRule,
    IncidentKind,
    Shift,
    ShiftStatus,
    User,
    discipline_incidents,
)
from db.rights import Action, Actor, require, require_not_self
from db.settings import office_timezone
from db.timeutil import now
from scheduling.periods import Period, zone
from scheduling.timecards import figures_for, load_inputs, time_rules

MAX_REASON = 2000
KIND_WORDS = {
    IncidentKind.LATE: "late",
    IncidentKind.LEFT_EARLY: "left early",
    IncidentKind.ABSENT: "absent",
}
DISCIPLINE_WORDS = {
    DisciplineKind.VERBAL: "verbal note",
    DisciplineKind.WRITTEN: "written warning",
    DisciplineKind.FINAL: "final warning",
    DisciplineKind.COACHING: "coaching",
}
# Shown first when several rules fire for one person.
SEVERITY = {
    DisciplineKind.FINAL: 3,
    DisciplineKind.WRITTEN: 2,
    DisciplineKind.VERBAL: 1,
    DisciplineKind.COACHING: 0,
}
DEFAULT_RULES = (
    (IncidentKind.LATE, 3, 30, DisciplineKind.WRITTEN),
    (IncidentKind.ABSENT, 2, 30, DisciplineKind.VERBAL),
)


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class IncidentView:
    id: int
    user_id: int
    login: str
    day: dt.date
    kind: IncidentKind
    minutes: int
    shift_id: int | None

    @property
    def text(self) -> str:
        if self.kind == IncidentKind.ABSENT:
            return f"{self.day.isoformat()} absent"
        return f"{self.day.isoformat()} {KIND_WORDS[self.kind]} {self.minutes} min"


@dataclass(frozen=True)
class IncidentRun:
    day: dt.date
    created: tuple[IncidentView, ...]
    already_recorded: int


@dataclass(frozen=True)
class DisciplineView:
    id: int
    user_id: int
    login: str
    name: str
    kind: DisciplineKind
    day: dt.date
    reason: str
    recorded_by: str
    acknowledged_at: pendulum.DateTime | None
    incidents: tuple[IncidentView, ...]

    @property
    def kind_text(self) -> str:
        return DISCIPLINE_WORDS[self.kind]


@dataclass(frozen=True)
class RuleView:
    id: int
    incident_kind: IncidentKind
    count: int
    window_days: int
    suggests: DisciplineKind
    active: bool

    @property
    def text(self) -> str:
        return (
            f"{self.count} × {KIND_WORDS[self.incident_kind]} in {self.window_days} days "
            f"→ {DISCIPLINE_WORDS[self.suggests]}"
        )


@dataclass(frozen=True)
class Suggestion:
    user_id: int
    login: str
    name: str
    rule: RuleView
    incidents: tuple[IncidentView, ...]

    @property
    def text(self) -> str:
        return (
            f"{self.login}: {len(self.incidents)} × {KIND_WORDS[self.rule.incident_kind]} in the last "
            f"{self.rule.window_days} days → suggest a {DISCIPLINE_WORDS[self.rule.suggests]}"
        )


def _logins(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(sa.select(User.id, User.login).where(User.id.in_(ids))).all())


def _incident_view(i: AttendanceIncident, logins: dict[int, str]) -> IncidentView:
    return IncidentView(i.id, i.user_id, logins.get(i.user_id, "?"), i.day, i.kind, i.minutes, i.shift_id)


def _rule_view(r: DisciplineRule) -> RuleView:
    return RuleView(r.id, r.incident_kind, r.count, r.window_days, r.suggests, r.active)


# --------------------------------------------------------------------------- incidents


def record_incidents(actor: Actor, session: Session, day: dt.date) -> IncidentRun:
    """Record the day's incidents from clock events against the published schedule."""
    require(actor, Action.DISCIPLINE_RECORD)
    tz = office_timezone(session)
    today = now().in_timezone(zone(tz)).date()
    if day > today:
        raise ValidationError.from_fields({"date": f"{day.isoformat()} has not happened yet"})
    user_ids = list(
        session.scalars(
            sa.select(Shift.user_id)
            .where(Shift.day == day, Shift.status == ShiftStatus.PUBLISHED)
            .order_by(Shift.user_id)
        )
    )
    rules = time_rules(session)
    inputs = load_inputs(session, user_ids, Period(day, day), tz)
    as_of = now()
    existing = {
        (i.user_id, i.kind)
        for i in session.scalars(sa.select(AttendanceIncident).where(AttendanceIncident.day == day))
    }
    logins = _logins(session, set(user_ids))
    created: list[IncidentView] = []
    already = 0
    for uid in user_ids:
        f = figures_for(inputs[uid], rules, as_of).days[0]
        if f.shift is None:
            continue
        over = f.shift.ends_at <= as_of
        found: list[tuple[IncidentKind, int]] = []
        if f.late_minutes:
            found.append((IncidentKind.LATE, f.late_minutes))
        if f.early_minutes and over:
            found.append((IncidentKind.LEFT_EARLY, f.early_minutes))
        if f.absent:
            found.append((IncidentKind.ABSENT, f.scheduled_minutes))
        for kind, minutes in found:
            if (uid, kind) in existing:
                already += 1
                continue
            inc = AttendanceIncident(user_id=uid, day=day, kind=kind, minutes=minutes, shift_id=f.shift.id)
            session.add(inc)
            session.flush()
            audit.record(
                session,
                actor,
                "attendance_incident",
                inc.id,
                "record",
                None,
                audit.snapshot(inc, ("user_id", "day", "kind", "minutes", "shift_id")),
            )
            created.append(_incident_view(inc, logins))
    return IncidentRun(day, tuple(created), already)


def list_incidents(
    actor: Actor,
    session: Session,
    *,
    user_id: int | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[IncidentView]:
    """Incidents, newest first. A clerk sees only their own (``user_id`` defaults to them)."""
    require(actor, Action.VIEW)
    if not actor.can(Action.DISCIPLINE_RECORD):
        if user_id not in (None, actor.user_id):
            raise PermissionDenied(f"{actor.login} may only see their own attendance")
        user_id = actor.user_id
    stmt = sa.select(AttendanceIncident)
    if user_id is not None:
        stmt = stmt.where(AttendanceIncident.user_id == user_id)
    if first is not None:
        stmt = stmt.where(AttendanceIncident.day >= first)
    if last is not None:
        stmt = stmt.where(AttendanceIncident.day <= last)
    rows = list(session.scalars(stmt.order_by(AttendanceIncident.day.desc(), AttendanceIncident.id.desc())))
    logins = _logins(session, {r.user_id for r in rows})
    return [_incident_view(r, logins) for r in rows]


# --------------------------------------------------------------------------- discipline records


def _discipline_views(session: Session, records: Sequence[DisciplineRecord]) -> list[DisciplineView]:
    ids = [r.id for r in records]
    linked: dict[int, list[AttendanceIncident]] = defaultdict(list)
    if ids:
        for rec_id, inc in session.execute(
            sa.select(discipline_incidents.c.discipline_id, AttendanceIncident)
            .join(AttendanceIncident, AttendanceIncident.id == discipline_incidents.c.incident_id)
            .where(discipline_incidents.c.discipline_id.in_(ids))
            .order_by(AttendanceIncident.day)
        ).all():
            linked[rec_id].append(inc)
    users = (
        {
            u.id: u
            for u in session.scalars(
                sa.select(User).where(
                    User.id.in_({r.user_id for r in records} | {r.recorded_by for r in records})
                )
            )
        }
        if records
        else {}
    )
    logins = {uid: u.login for uid, u in users.items()}
    return [
        DisciplineView(
            id=r.id,
            user_id=r.user_id,
            login=logins.get(r.user_id, "?"),
            name=users[r.user_id].name if r.user_id in users else "?",
            kind=r.kind,
            day=r.day,
            reason=r.reason,
            recorded_by=logins.get(r.recorded_by, "?"),
            acknowledged_at=r.acknowledged_at,
            incidents=tuple(_incident_view(i, logins) for i in linked[r.id]),
        )
        for r in records
    ]


def record_discipline(
    actor: Actor,
    session: Session,
    user_id: int,
    kind: DisciplineKind | str,
    reason: str,
    *,
    day: dt.date | None = None,
    incident_ids: Sequence[int] = (),
) -> DisciplineView:
    """A supervisor records a verbal note, a warning or coaching, linked to incidents."""
    require(actor, Action.DISCIPLINE_RECORD)
    require_not_self(actor, user_id, "record discipline on")
    errors: dict[str, str] = {}
    try:
        kind = DisciplineKind(kind)
    except ValueError:
        errors["kind"] = "must be " + ", ".join(k.value for k in DisciplineKind)
    text = (reason or "").strip()
    if not text:
        errors["reason"] = "a reason is required"
    elif len(text) > MAX_REASON:
        errors["reason"] = f"is longer than {MAX_REASON} characters"
    user = session.get(User, user_id)
    if user is None:
        errors["user"] = f"no user with id {user_id}"
    tz = office_timezone(session)
    on = day or now().in_timezone(zone(tz)).date()
    if on > now().in_timezone(zone(tz)).date():
        errors["day"] = "cannot be in the future"
    wanted = list(dict.fromkeys(incident_ids))
    incidents = (
        list(session.scalars(sa.select(AttendanceIncident).where(AttendanceIncident.id.in_(wanted))))
        if wanted
        else []
    )
    found = {i.id for i in incidents}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        errors["incidents"] = f"no incident {', '.join(missing)}"
    elif any(i.user_id != user_id for i in incidents):
        errors["incidents"] = "every linked incident must be this person's"
    if errors:
        raise ValidationError.from_fields(errors)
    assert isinstance(kind, DisciplineKind)
    rec = DisciplineRecord(user_id=user_id, kind=kind, day=on, reason=text, recorded_by=actor.user_id)
    session.add(rec)
    session.flush()
    for inc_id in wanted:
        session.execute(discipline_incidents.insert().values(discipline_id=rec.id, incident_id=inc_id))
    audit.record(
        session,
        actor,
        "discipline",
        rec.id,
        "record",
        None,
        {**audit.snapshot(rec, ("user_id", "kind", "day", "reason", "recorded_by")), "incidents": wanted},
    )
    return _discipline_views(session, [rec])[0]


def discipline_records(actor: Actor, session: Session, user_id: int | None = None) -> list[DisciplineView]:
    """Discipline records, newest first. A clerk sees only their own."""
    require(actor, Action.VIEW)
    if not actor.can(Action.DISCIPLINE_RECORD):
        if user_id not in (None, actor.user_id):
            raise PermissionDenied(f"{actor.login} may only see their own discipline records")
        user_id = actor.user_id
    stmt = sa.select(DisciplineRecord)
    if user_id is not None:
        stmt = stmt.where(DisciplineRecord.user_id == user_id)
    rows = list(session.scalars(stmt.order_by(DisciplineRecord.day.desc(), DisciplineRecord.id.desc())))
    return _discipline_views(session, rows)


def acknowledge_discipline(actor: Actor, session: Session, record_id: int) -> DisciplineView:
    """The clerk acknowledges a record about themselves (only their own, once)."""
    require(actor, Action.VIEW)
    rec = session.get(DisciplineRecord, record_id)
    if rec is None:
        raise NotFound(f"no discipline record {record_id}")
    if rec.user_id != actor.user_id:
        raise PermissionDenied(f"{actor.login} may only acknowledge their own discipline records")
    if rec.acknowledged_at is not None:
        raise ConflictError(f"you acknowledged this record on {rec.acknowledged_at.to_date_string()}")
    before = {"acknowledged_at": None}
    rec.acknowledged_at = now()
    session.flush()
    audit.record(
        session, actor, "discipline", rec.id, "acknowledge", before, {"acknowledged_at": rec.acknowledged_at}
    )
    return _discipline_views(session, [rec])[0]


# --------------------------------------------------------------------------- rules and suggestions


def discipline_rules(actor: Actor, session: Session) -> list[RuleView]:
    require(actor, Action.DISCIPLINE_RECORD)
    return [_rule_view(r) for r in session.scalars(sa.select(DisciplineRule).order_by(DisciplineRule.id))]


def add_discipline_rule(
    actor: Actor,
    session: Session,
    incident_kind: IncidentKind | str,
    count: int,
    window_days: int,
    suggests: DisciplineKind | str,
) -> RuleView:
    require(actor, Action.DISCIPLINE_RECORD)
    errors: dict[str, str] = {}
    try:
        incident_kind = IncidentKind(incident_kind)
    except ValueError:
        errors["incident_kind"] = "must be " + ", ".join(k.value for k in IncidentKind)
    try:
        suggests = DisciplineKind(suggests)
    except ValueError:
        errors["suggests"] = "must be " + ", ".join(k.value for k in DisciplineKind)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100:
        errors["count"] = "must be 1 to 100 incidents"
    if not isinstance(window_days, int) or isinstance(window_days, bool) or not 1 <= window_days <= 366:
        errors["window_days"] = "must be 1 to 366 days"
    if errors:
        raise ValidationError.from_fields(errors)
    assert isinstance(incident_kind, IncidentKind) and isinstance(suggests, DisciplineKind)
    dup = session.scalars(
        sa.select(DisciplineRule.id).where(
            DisciplineRule.incident_kind == incident_kind,
            DisciplineRule.count == count,
            DisciplineRule.window_days == window_days,
            DisciplineRule.suggests == suggests,
        )
    ).first()
    if dup is not None:
        raise ConflictError(f"the same rule exists already (rule {dup})")
    rule = DisciplineRule(
        incident_kind=incident_kind, count=count, window_days=window_days, suggests=suggests
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor,
        "discipline_rule",
        rule.id,
        "create",
        None,
        audit.snapshot(rule, ("incident_kind", "count", "window_days", "suggests", "active")),
    )
    return _rule_view(rule)


def set_discipline_rule_active(actor: Actor, session: Session, rule_id: int, active: bool) -> RuleView:
    require(actor, Action.DISCIPLINE_RECORD)
    rule = session.get(DisciplineRule, rule_id)
    if rule is None:
        raise NotFound(f"no discipline rule {rule_id}")
    if rule.active != active:
        before = {"active": rule.active}
        rule.active = active
        session.flush()
        audit.record(session, actor, "discipline_rule", rule.id, "update", before, {"active": active})
    return _rule_view(rule)


def ensure_default_rules(actor: Actor, session: Session) -> list[RuleView]:
    """The office's starting rules, when it has none: 3 lates in 30 days → written warning;
    2 absences in 30 days → verbal note."""
    require(actor, Action.DISCIPLINE_RECORD)
    if session.scalars(sa.select(DisciplineRule.id).limit(1)).first() is None:
        for kind, count, window, suggests in DEFAULT_RULES:
            add_discipline_rule(actor, session, kind, count, window, suggests)
    return discipline_rules(actor, session)


def discipline_suggestions(actor: Actor, session: Session, as_of: dt.date | None = None) -> list[Suggestion]:
    """People whose incidents in a rule's window reach its count, as suggestions.

    The window is the ``window_days`` days ending on ``as_of`` (default: today). Only incidents
    not yet linked to a discipline record count. Nothing is recorded here.
    """
    require(actor, Action.DISCIPLINE_RECORD)
    tz = office_timezone(session)
    day = as_of or now().in_timezone(zone(tz)).date()
    rules = [r for r in session.scalars(sa.select(DisciplineRule).where(DisciplineRule.active.is_(True)))]
    if not rules:
        return []
    widest = max(r.window_days for r in rules)
    addressed = sa.select(discipline_incidents.c.incident_id)
    incidents = list(
        session.scalars(
            sa.select(AttendanceIncident)
            .join(User, User.id == AttendanceIncident.user_id)
            .where(
                AttendanceIncident.day > day - dt.timedelta(days=widest),
                AttendanceIncident.day <= day,
                AttendanceIncident.id.not_in(addressed),
                User.active.is_(True),
            )
            .order_by(AttendanceIncident.day, AttendanceIncident.id)
        )
    )
    users = {
        u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({i.user_id for i in incidents})))
    }
    logins = {uid: u.login for uid, u in users.items()}
    out: list[Suggestion] = []
    for rule in rules:
        since = day - dt.timedelta(days=rule.window_days)
        per_user: dict[int, list[AttendanceIncident]] = defaultdict(list)
        for inc in incidents:
            if inc.kind == rule.incident_kind and inc.day > since:
                per_user[inc.user_id].append(inc)
        for uid, incs in per_user.items():
            if len(incs) >= rule.count:
                u = users[uid]
                out.append(
                    Suggestion(
                        uid, u.login, u.name, _rule_view(rule), tuple(_incident_view(i, logins) for i in incs)
                    )
                )
    out.sort(key=lambda s: (-SEVERITY[s.rule.suggests], s.login, s.rule.id))
    return out
