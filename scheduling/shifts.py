"""Staff schedule: shift types, coverage, holidays, roster rules, and the grid (docs/schedule.md).

Time: a shift is a wall-clock start and a length in the office zone. It belongs to the date it
starts on; its end is the wall-clock end (on the next date when it passes midnight) turned into
an instant, so on DST nights the real (paid) length differs from the nominal one: a 22:00–06:00
night shift is 9 real hours on the fall-back night and 7 on the spring-forward night.

Schedule weeks run Monday to Sunday. Roster rules count minutes and shifts per week and
working weekends per calendar month (a weekend belongs to the month of its Saturday).

Grid edits (set, clear, copy, swap) use ``Shift.version`` for optimistic locking and return the
re-evaluation of the weeks they touched, so a screen can show rule breaks at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import audit
from db.errors import ConflictError, FrozenError, NotFound, ValidationError
from db.models import (
    AttendanceIncident,
    CoverageRequirement,
    DayOffPin,
    Holiday,
    Role,
    RosterRule,
    Shift,
    ShiftStatus,
    ShiftType,
    Team,
    Timecard,
    TimecardStatus,
    User,
)
from db.rights import Action, Actor, require
from db.settings import office_timezone
from db.timeutil import local_instant, minutes_between, office_today
from scheduling.timeoff import approved_days_off

CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,3}$")
MAX_RANGE_DAYS = 26 * 7  # the longest period one command or screen may work on
WEEK_MINUTES = 7 * 24 * 60
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

SHIFT_AUDIT = ("user_id", "day", "shift_type_id", "status", "starts_at", "ends_at", "fixed")
TYPE_AUDIT = ("code", "name", "start_time", "minutes", "unpaid_break_minutes", "active")
COVERAGE_AUDIT = (
    "shift_type_id",
    "weekday",
    "on_date",
    "required",
    "preferred",
    "under_weight",
    "over_weight",
)
RULE_FIELDS = (
    "min_minutes",
    "max_minutes",
    "min_consecutive_work",
    "max_consecutive_work",
    "min_consecutive_off",
    "max_weekends",
)
RULE_AUDIT = ("user_id", "team_id", *RULE_FIELDS, "max_shifts", "forbidden_sequences", "fixed_days_off")


# --------------------------------------------------------------------------- time


class HasShiftTimes(Protocol):
    """Anything with a wall-clock start and a length: the ORM ShiftType or a ShiftTypeView."""

    @property
    def start_time(self) -> dt.time: ...

    @property
    def minutes(self) -> int: ...

    @property
    def unpaid_break_minutes(self) -> int: ...


def shift_instants(
    day: dt.date, shift_type: HasShiftTimes, tz: str
) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    """(starts_at, ends_at) in UTC of a shift of ``shift_type`` that starts on ``day``.

    Both ends are wall-clock times in ``tz``: the end is start wall time + length (on a later
    date when it passes midnight). A start in a DST gap moves forward; a time in a fold is the
    first occurrence (``local_instant``).
    """
    wall_start = dt.datetime.combine(day, shift_type.start_time)
    wall_end = wall_start + dt.timedelta(minutes=shift_type.minutes)
    starts = local_instant(day, shift_type.start_time, tz)
    ends = local_instant(wall_end.date(), wall_end.time(), tz)
    return starts.in_timezone("UTC"), ends.in_timezone("UTC")


def shift_minutes(day: dt.date, shift_type: HasShiftTimes, tz: str) -> int:
    """Real elapsed minutes of the shift on ``day`` (480 ± 60 on DST nights)."""
    starts, ends = shift_instants(day, shift_type, tz)
    return minutes_between(starts, ends)


def paid_minutes(day: dt.date, shift_type: HasShiftTimes, tz: str) -> int:
    """Scheduled paid minutes: the real length minus the unpaid break."""
    return max(shift_minutes(day, shift_type, tz) - shift_type.unpaid_break_minutes, 0)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s schedule week."""
    return day - dt.timedelta(days=day.weekday())


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def check_range(start: dt.date, end: dt.date) -> None:
    """Refuse a reversed range or one longer than 26 weeks."""
    if end < start:
        raise ValidationError.from_fields({"to": f"{end} is before {start}"})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError.from_fields(
            {"to": f"the range is {(end - start).days + 1} days; at most 26 weeks ({MAX_RANGE_DAYS} days)"}
        )


def fmt_hm(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h}:{m:02d}"


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ShiftTypeView:
    id: int
    code: str
    name: str
    start_time: dt.time
    minutes: int
    unpaid_break_minutes: int
    active: bool

    @property
    def end_time(self) -> dt.time:
        return (
            dt.datetime.combine(dt.date(2000, 1, 1), self.start_time) + dt.timedelta(minutes=self.minutes)
        ).time()

    @property
    def nominal_paid_minutes(self) -> int:
        """Paid minutes on an ordinary day (what the weekly rules count)."""
        return max(self.minutes - self.unpaid_break_minutes, 0)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


@dataclass(frozen=True)
class CoverageView:
    id: int
    shift_code: str
    weekday: int | None
    on_date: dt.date | None
    required: int
    preferred: int | None
    under_weight: int
    over_weight: int

    @property
    def target(self) -> int:
        """What the roster builder aims at: the preferred number when given, else the minimum."""
        return self.preferred if self.preferred is not None else self.required


@dataclass(frozen=True)
class HolidayView:
    day: dt.date
    name: str


@dataclass(frozen=True)
class RuleView:
    """One stored rule: for a clerk (login) or a team. None = not set (no limit / inherit)."""

    id: int
    login: str | None
    team: str | None
    min_minutes: int | None
    max_minutes: int | None
    min_consecutive_work: int | None
    max_consecutive_work: int | None
    min_consecutive_off: int | None
    max_weekends: int | None
    max_shifts: Mapping[str, int]
    forbidden_sequences: tuple[tuple[str, str], ...]
    fixed_days_off: tuple[int, ...]


@dataclass(frozen=True)
class EffectiveRule:
    """A clerk's rules after merging their own rule over their team's.

    Scalar fields: the clerk's value when set, else the team's. ``max_shifts``: the team's map
    updated by the clerk's. Forbidden sequences and fixed weekdays off: the union of both.
    ``source`` says for each scalar field where the value came from ("own", "team").
    """

    min_minutes: int | None = None
    max_minutes: int | None = None
    min_consecutive_work: int | None = None
    max_consecutive_work: int | None = None
    min_consecutive_off: int | None = None
    max_weekends: int | None = None
    max_shifts: Mapping[str, int] = field(default_factory=dict)
    forbidden_sequences: frozenset[tuple[str, str]] = frozenset()
    fixed_days_off: frozenset[int] = frozenset()
    source: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GridCell:
    """One clerk-day of the grid. ``code`` None = off (no shift row); ``pinned``: the day off
    is pinned by a supervisor, so the builder leaves it empty."""

    user_id: int
    login: str
    day: dt.date
    code: str | None = None
    status: ShiftStatus | None = None
    fixed: bool = False
    version: int | None = None
    shift_id: int | None = None
    starts_at: pendulum.DateTime | None = None
    ends_at: pendulum.DateTime | None = None
    pinned: bool = False

    @property
    def published(self) -> bool:
        return self.status == ShiftStatus.PUBLISHED


@dataclass(frozen=True)
class GridRow:
    user_id: int
    login: str
    name: str
    team: str
    cells: tuple[GridCell, ...]  # one per day of the grid
    paid_minutes: int


@dataclass(frozen=True)
class Grid:
    start: dt.date
    end: dt.date
    days: tuple[dt.date, ...]
    rows: tuple[GridRow, ...]
    holidays: Mapping[dt.date, str]
    shift_types: tuple[ShiftTypeView, ...]
    published_only: bool


@dataclass(frozen=True)
class MyShift:
    day: dt.date
    code: str
    name: str
    starts_at: pendulum.DateTime  # in the office zone
    ends_at: pendulum.DateTime
    paid_minutes: int


@dataclass(frozen=True)
class RuleBreak:
    """A broken hard rule found by the evaluator. ``day`` None = a weekly or monthly rule of
    the week starting ``week``."""

    login: str
    day: dt.date | None
    week: dt.date
    rule: str
    message: str


@dataclass(frozen=True)
class CoverageTotal:
    """People on one shift type on one day against the coverage wanted."""

    day: dt.date
    shift_code: str
    scheduled: int
    published: int
    required: int
    preferred: int | None

    @property
    def short(self) -> int:
        """People missing to reach the minimum."""
        return max(self.required - self.scheduled, 0)

    @property
    def short_of_preferred(self) -> int:
        want = self.preferred if self.preferred is not None else self.required
        return max(want - self.scheduled, 0)

    @property
    def over(self) -> int:
        want = self.preferred if self.preferred is not None else self.required
        return max(self.scheduled - want, 0)


@dataclass(frozen=True)
class EditResult:
    """What a grid edit changed, and the re-evaluation of the weeks it touched.

    ``violations``: broken hard rules of the clerks whose cells were touched (those weeks);
    ``coverage``: totals for every day and shift type of those weeks; ``penalty``: the soft
    penalty of those weeks.
    """

    cells: tuple[GridCell, ...]
    violations: tuple[RuleBreak, ...]
    coverage: tuple[CoverageTotal, ...]
    penalty: int
    skipped: tuple[str, ...] = ()  # why some cells were left alone (copy week)


@dataclass(frozen=True)
class PublishResult:
    start: dt.date
    end: dt.date
    published: int
    already_published: int


# --------------------------------------------------------------------------- lookups


def _type_view(t: ShiftType) -> ShiftTypeView:
    return ShiftTypeView(t.id, t.code, t.name, t.start_time, t.minutes, t.unpaid_break_minutes, t.active)


def _get_type(session: Session, code: str) -> ShiftType:
    t = session.scalars(sa.select(ShiftType).where(ShiftType.code == code.strip().upper())).one_or_none()
    if t is None:
        raise NotFound(f"no shift type {code!r}")
    return t


def _get_user(session: Session, login: str) -> User:
    u = session.scalars(sa.select(User).where(User.login == login)).one_or_none()
    if u is None:
        raise NotFound(f"no ClerkDesk user {login!r}")
    return u


def _employed(u: User, day: dt.date) -> bool:
    return u.hire_date <= day and (u.termination_date is None or u.termination_date >= day)


def _known_codes(session: Session) -> set[str]:
    return set(session.scalars(sa.select(ShiftType.code)))


def _cell(
    u: User, day: dt.date, sh: Shift | None, code: str | None = None, *, pinned: bool = False
) -> GridCell:
    if sh is None:
        return GridCell(u.id, u.login, day, pinned=pinned)
    return GridCell(
        u.id,
        u.login,
        day,
        code or sh.shift_type.code,
        sh.status,
        sh.fixed,
        sh.version,
        sh.id,
        sh.starts_at,
        sh.ends_at,
    )


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError("the schedule was changed by someone else; reload and try again") from None


# --------------------------------------------------------------------------- shift types


def list_shift_types(
    actor: Actor, session: Session, *, include_inactive: bool = False
) -> list[ShiftTypeView]:
    require(actor, Action.VIEW)
    stmt = sa.select(ShiftType).order_by(ShiftType.start_time, ShiftType.code)
    if not include_inactive:
        stmt = stmt.where(ShiftType.active.is_(True))
    return [_type_view(t) for t in session.scalars(stmt)]


def _type_errors(
    code: str | None, name: str | None, minutes: int | None, unpaid: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if code is not None and not CODE_RE.match(code):
        errors["code"] = "1 to 4 capital letters or digits, starting with a letter (e.g. E, L2)"
    if name is not None and (not name.strip() or len(name) > 60):
        errors["name"] = "a name of 1 to 60 characters is required"
    if minutes is not None and not (15 <= minutes <= 16 * 60):
        errors["minutes"] = "a shift lasts from 15 minutes to 16 hours"
    if unpaid is not None and (unpaid < 0 or (minutes is not None and unpaid >= minutes)):
        errors["unpaid_break_minutes"] = "must be 0 or more and shorter than the shift"
    return errors


def add_shift_type(
    actor: Actor,
    session: Session,
    *,
    code: str,
    name: str,
    start_time: dt.time,
    minutes: int,
    unpaid_break_minutes: int = 0,
) -> ShiftTypeView:
    require(actor, Action.SCHEDULE_EDIT)
    code = code.strip().upper()
    errors = _type_errors(code, name, minutes, unpaid_break_minutes)
    if errors:
        raise ValidationError.from_fields(errors)
    if code in _known_codes(session):
        raise ConflictError(f"shift type {code} already exists")
    t = ShiftType(
        code=code,
        name=name.strip(),
        start_time=start_time.replace(second=0, microsecond=0),
        minutes=minutes,
        unpaid_break_minutes=unpaid_break_minutes,
    )
    session.add(t)
    session.flush()
    audit.record(session, actor, "shift_type", t.id, "create", None, audit.snapshot(t, TYPE_AUDIT))
    return _type_view(t)


def edit_shift_type(
    actor: Actor,
    session: Session,
    code: str,
    *,
    name: str | None = None,
    start_time: dt.time | None = None,
    minutes: int | None = None,
    unpaid_break_minutes: int | None = None,
    active: bool | None = None,
) -> ShiftTypeView:
    """Change a shift type. New times apply to its shifts from today on; past ones keep theirs."""
    require(actor, Action.SCHEDULE_EDIT)
    t = _get_type(session, code)
    new_minutes = minutes if minutes is not None else t.minutes
    new_unpaid = unpaid_break_minutes if unpaid_break_minutes is not None else t.unpaid_break_minutes
    errors = _type_errors(None, name, new_minutes, new_unpaid)
    if errors:
        raise ValidationError.from_fields(errors)
    before = audit.snapshot(t, TYPE_AUDIT)
    if name is not None:
        t.name = name.strip()
    if start_time is not None:
        t.start_time = start_time.replace(second=0, microsecond=0)
    t.minutes = new_minutes
    t.unpaid_break_minutes = new_unpaid
    if active is not None:
        t.active = active
    after = audit.snapshot(t, TYPE_AUDIT)
    if after == before:
        return _type_view(t)
    moved = 0
    if (before["start_time"], before["minutes"]) != (after["start_time"], after["minutes"]):
        tz = office_timezone(session)
        today = office_today(tz)
        for sh in session.scalars(sa.select(Shift).where(Shift.shift_type_id == t.id, Shift.day >= today)):
            sh.starts_at, sh.ends_at = shift_instants(sh.day, t, tz)
            moved += 1
    _flush(session)
    audit.record(session, actor, "shift_type", t.id, "update", before, {**after, "shifts_retimed": moved})
    return _type_view(t)


# --------------------------------------------------------------------------- coverage


def _coverage_view(c: CoverageRequirement, codes: Mapping[int, str]) -> CoverageView:
    return CoverageView(
        c.id,
        codes[c.shift_type_id],
        c.weekday,
        c.on_date,
        c.required,
        c.preferred,
        c.under_weight,
        c.over_weight,
    )


def _type_codes(session: Session) -> dict[int, str]:
    return {k: v for k, v in session.execute(sa.select(ShiftType.id, ShiftType.code))}


def list_coverage(
    actor: Actor, session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[CoverageView]:
    """Weekday requirements and the date-specific ones (within start..end when given)."""
    require(actor, Action.VIEW)
    stmt = sa.select(CoverageRequirement)
    if start is not None:
        stmt = stmt.where(sa.or_(CoverageRequirement.on_date.is_(None), CoverageRequirement.on_date >= start))
    if end is not None:
        stmt = stmt.where(sa.or_(CoverageRequirement.on_date.is_(None), CoverageRequirement.on_date <= end))
    codes = _type_codes(session)
    rows = [_coverage_view(c, codes) for c in session.scalars(stmt)]
    return sorted(rows, key=lambda v: (v.on_date or dt.date.min, v.weekday or 0, v.shift_code))


def set_coverage(
    actor: Actor,
    session: Session,
    shift_code: str,
    *,
    weekday: int | None = None,
    on_date: dt.date | None = None,
    required: int,
    preferred: int | None = None,
    under_weight: int = 100,
    over_weight: int = 10,
) -> CoverageView:
    """Set (create or replace) the people wanted on a shift type per weekday or on one date.

    A date-specific requirement wins over the weekday one for that date.
    """
    require(actor, Action.SCHEDULE_EDIT)
    errors: dict[str, str] = {}
    if (weekday is None) == (on_date is None):
        errors["weekday"] = "give either a weekday (0=Mon … 6=Sun) or a date, not both"
    elif weekday is not None and not (0 <= weekday <= 6):
        errors["weekday"] = "must be 0 (Mon) to 6 (Sun)"
    if not (0 <= required <= 500):
        errors["required"] = "must be 0 to 500 people"
    if preferred is not None and not (required <= preferred <= 500):
        errors["preferred"] = "must be at least the minimum (and at most 500)"
    if not (0 <= under_weight <= 10_000):
        errors["under_weight"] = "must be 0 to 10000"
    if not (0 <= over_weight <= 10_000):
        errors["over_weight"] = "must be 0 to 10000"
    if errors:
        raise ValidationError.from_fields(errors)
    t = _get_type(session, shift_code)
    stmt = sa.select(CoverageRequirement).where(CoverageRequirement.shift_type_id == t.id)
    if weekday is not None:
        stmt = stmt.where(CoverageRequirement.weekday == weekday)
    else:
        stmt = stmt.where(CoverageRequirement.on_date == on_date)
    c = session.scalars(stmt).first()
    before = audit.snapshot(c, COVERAGE_AUDIT) if c is not None else None
    if c is None:
        c = CoverageRequirement(shift_type_id=t.id, weekday=weekday, on_date=on_date)
        session.add(c)
    c.required, c.preferred, c.under_weight, c.over_weight = required, preferred, under_weight, over_weight
    session.flush()
    audit.record(
        session,
        actor,
        "coverage",
        c.id,
        "create" if before is None else "update",
        before,
        audit.snapshot(c, COVERAGE_AUDIT),
    )
    return _coverage_view(c, _type_codes(session))


def remove_coverage(actor: Actor, session: Session, coverage_id: int) -> None:
    require(actor, Action.SCHEDULE_EDIT)
    c = session.get(CoverageRequirement, coverage_id)
    if c is None:
        raise NotFound(f"no coverage requirement {coverage_id}")
    before = audit.snapshot(c, COVERAGE_AUDIT)
    session.delete(c)
    session.flush()
    audit.record(session, actor, "coverage", coverage_id, "delete", before, None)


# --------------------------------------------------------------------------- holidays


def list_holidays(
    actor: Actor, session: Session, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[HolidayView]:
    require(actor, Action.VIEW)
    stmt = sa.select(Holiday).order_by(Holiday.day)
    if start is not None:
        stmt = stmt.where(Holiday.day >= start)
    if end is not None:
        stmt = stmt.where(Holiday.day <= end)
    return [HolidayView(h.day, h.name) for h in session.scalars(stmt)]


def add_holiday(actor: Actor, session: Session, day: dt.date, name: str) -> HolidayView:
    """The office is closed: nobody is scheduled and no coverage is wanted that day."""
    require(actor, Action.SCHEDULE_EDIT)
    if not name.strip() or len(name) > 80:
        raise ValidationError.from_fields({"name": "a holiday needs a name of 1 to 80 characters"})
    if session.scalars(sa.select(Holiday.id).where(Holiday.day == day)).first():
        raise ConflictError(f"{day} is already a holiday")
    h = Holiday(day=day, name=name.strip())
    session.add(h)
    session.flush()
    audit.record(session, actor, "holiday", h.id, "create", None, {"day": day, "name": h.name})
    return HolidayView(h.day, h.name)


def remove_holiday(actor: Actor, session: Session, day: dt.date) -> None:
    require(actor, Action.SCHEDULE_EDIT)
    h = session.scalars(sa.select(Holiday).where(Holiday.day == day)).one_or_none()
    if h is None:
        raise NotFound(f"{day} is not a holiday")
    before = {"day": h.day, "name": h.name}
    hid = h.id
    session.delete(h)
    session.flush()
    audit.record(session, actor, "holiday", hid, "delete", before, None)


# --------------------------------------------------------------------------- roster rules


def _rule_view(r: RosterRule, logins: Mapping[int, str], teams: Mapping[int, str]) -> RuleView:
    return RuleView(
        r.id,
        logins.get(r.user_id) if r.user_id is not None else None,
        teams.get(r.team_id) if r.team_id is not None else None,
        r.min_minutes,
        r.max_minutes,
        r.min_consecutive_work,
        r.max_consecutive_work,
        r.min_consecutive_off,
        r.max_weekends,
        dict(r.max_shifts or {}),
        tuple((a, b) for a, b in (r.forbidden_sequences or [])),
        tuple(r.fixed_days_off or []),
    )


def list_rules(actor: Actor, session: Session) -> list[RuleView]:
    require(actor, Action.SCHEDULE_EDIT)
    logins = {k: v for k, v in session.execute(sa.select(User.id, User.login))}
    teams = {k: v for k, v in session.execute(sa.select(Team.id, Team.name))}
    rows = [_rule_view(r, logins, teams) for r in session.scalars(sa.select(RosterRule))]
    return sorted(rows, key=lambda v: (v.login is not None, v.team or "", v.login or ""))


def _rule_errors(session: Session, values: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}

    def rng(name: str, lo: int, hi: int, what: str) -> None:
        v = values.get(name)
        if v is not None and not (isinstance(v, int) and lo <= v <= hi):
            errors[name] = f"{what} must be {lo} to {hi}"

    rng("min_minutes", 0, WEEK_MINUTES, "minutes per week")
    rng("max_minutes", 0, WEEK_MINUTES, "minutes per week")
    rng("min_consecutive_work", 1, 31, "days")
    rng("max_consecutive_work", 1, 31, "days")
    rng("min_consecutive_off", 1, 31, "days")
    rng("max_weekends", 0, 5, "weekends per month")
    lo, hi = values.get("min_minutes"), values.get("max_minutes")
    if "max_minutes" not in errors and lo is not None and hi is not None and lo > hi:
        errors["max_minutes"] = "is below the minimum"
    lo, hi = values.get("min_consecutive_work"), values.get("max_consecutive_work")
    if "max_consecutive_work" not in errors and lo is not None and hi is not None and lo > hi:
        errors["max_consecutive_work"] = "is below the minimum"
    codes = _known_codes(session)
    for code, n in (values.get("max_shifts") or {}).items():
        if code not in codes:
            errors["max_shifts"] = f"no shift type {code!r}"
        elif not (isinstance(n, int) and 0 <= n <= 7):
            errors["max_shifts"] = f"{code}: at most 0 (not qualified) to 7 shifts a week"
    for pair in values.get("forbidden_sequences") or []:
        if len(pair) != 2 or any(c not in codes for c in pair):
            shown = ">".join(str(c) for c in pair)
            unknown = sorted({str(c) for c in pair} - codes)
            why = f"no shift type {', '.join(unknown)}" if unknown else "write two shift codes"
            known = ", ".join(sorted(codes)) or "none yet"
            errors["forbidden_sequences"] = f"{shown}: {why}; pairs like L>E (codes: {known})"
    for wd in values.get("fixed_days_off") or []:
        if not (isinstance(wd, int) and 0 <= wd <= 6):
            errors["fixed_days_off"] = "weekdays are 0 (Mon) to 6 (Sun)"
    return errors


def set_rule(
    actor: Actor,
    session: Session,
    *,
    login: str | None = None,
    team: str | None = None,
    min_minutes: int | None = None,
    max_minutes: int | None = None,
    min_consecutive_work: int | None = None,
    max_consecutive_work: int | None = None,
    min_consecutive_off: int | None = None,
    max_weekends: int | None = None,
    max_shifts: Mapping[str, int] | None = None,
    forbidden_sequences: Iterable[Sequence[str]] | None = None,
    fixed_days_off: Iterable[int] | None = None,
) -> RuleView:
    """Create or replace the rule of one clerk (``login``) or one team. None = not set.

    Minutes and shift counts are per week, working weekends per calendar month.
    """
    require(actor, Action.SCHEDULE_EDIT)
    if (login is None) == (team is None):
        raise ValidationError.from_fields({"scope": "give either a clerk login or a team"})
    values: dict[str, Any] = {
        "min_minutes": min_minutes,
        "max_minutes": max_minutes,
        "min_consecutive_work": min_consecutive_work,
        "max_consecutive_work": max_consecutive_work,
        "min_consecutive_off": min_consecutive_off,
        "max_weekends": max_weekends,
        "max_shifts": {k.strip().upper(): v for k, v in (max_shifts or {}).items()},
        "forbidden_sequences": [
            [a.strip().upper(), b.strip().upper()] for a, b in (forbidden_sequences or [])
        ],
        "fixed_days_off": sorted(set(fixed_days_off or [])),
    }
    errors = _rule_errors(session, values)
    if errors:
        raise ValidationError.from_fields(errors)
    if login is not None:
        owner = _get_user(session, login)
        r = session.scalars(sa.select(RosterRule).where(RosterRule.user_id == owner.id)).one_or_none()
        new: dict[str, Any] = {"user_id": owner.id}
    else:
        t = session.scalars(sa.select(Team).where(Team.name == team)).one_or_none()
        if t is None:
            raise NotFound(f"no team named {team!r}")
        r = session.scalars(sa.select(RosterRule).where(RosterRule.team_id == t.id)).one_or_none()
        new = {"team_id": t.id}
    before = audit.snapshot(r, RULE_AUDIT) if r is not None else None
    if r is None:
        r = RosterRule(**new)
        session.add(r)
    for k, v in values.items():
        setattr(r, k, v)
    session.flush()
    audit.record(
        session,
        actor,
        "roster_rule",
        r.id,
        "create" if before is None else "update",
        before,
        audit.snapshot(r, RULE_AUDIT),
    )
    logins = {u.id: u.login for u in session.scalars(sa.select(User).where(User.id == r.user_id))}
    teams = {k: v for k, v in session.execute(sa.select(Team.id, Team.name))}
    return _rule_view(r, logins, teams)


def clear_rule(actor: Actor, session: Session, *, login: str | None = None, team: str | None = None) -> None:
    """Remove a clerk's own rule (the team rule applies again) or a team's rule."""
    require(actor, Action.SCHEDULE_EDIT)
    if (login is None) == (team is None):
        raise ValidationError.from_fields({"scope": "give either a clerk login or a team"})
    if login is not None:
        stmt = sa.select(RosterRule).where(RosterRule.user_id == _get_user(session, login).id)
    else:
        stmt = sa.select(RosterRule).join(Team, Team.id == RosterRule.team_id).where(Team.name == team)
    r = session.scalars(stmt).one_or_none()
    if r is None:
        raise NotFound(f"no rule for {login or team!r}")
    before = audit.snapshot(r, RULE_AUDIT)
    rid = r.id
    session.delete(r)
    session.flush()
    audit.record(session, actor, "roster_rule", rid, "delete", before, None)


def merge_rules(own: RosterRule | None, team: RosterRule | None) -> EffectiveRule:
    """The clerk's own rule wins field by field over the team's (see EffectiveRule)."""
    scalars: dict[str, Any] = {}
    source: dict[str, str] = {}
    for name in RULE_FIELDS:
        mine = getattr(own, name) if own is not None else None
        theirs = getattr(team, name) if team is not None else None
        if mine is not None:
            scalars[name], source[name] = mine, "own"
        elif theirs is not None:
            scalars[name], source[name] = theirs, "team"
    max_shifts = {**((team.max_shifts or {}) if team else {}), **((own.max_shifts or {}) if own else {})}
    seqs = {(a, b) for r in (own, team) if r is not None for a, b in (r.forbidden_sequences or [])}
    off = {wd for r in (own, team) if r is not None for wd in (r.fixed_days_off or [])}
    return EffectiveRule(
        **scalars,
        max_shifts=max_shifts,
        forbidden_sequences=frozenset(seqs),
        fixed_days_off=frozenset(off),
        source=source,
    )


def effective_rules(session: Session, users: Iterable[User]) -> dict[int, EffectiveRule]:
    """user id → merged rule, for many users with two queries."""
    users = list(users)
    rules = list(session.scalars(sa.select(RosterRule)))
    by_user = {r.user_id: r for r in rules if r.user_id is not None}
    by_team = {r.team_id: r for r in rules if r.team_id is not None}
    return {
        u.id: merge_rules(by_user.get(u.id), None if u.team_id is None else by_team.get(u.team_id))
        for u in users
    }


def effective_rule(actor: Actor, session: Session, login: str) -> EffectiveRule:
    require(actor, Action.SCHEDULE_EDIT)
    u = _get_user(session, login)
    return effective_rules(session, [u])[u.id]


# --------------------------------------------------------------------------- reading the grid


def _shifts_in(session: Session, start: dt.date, end: dt.date, *, published_only: bool) -> list[Shift]:
    stmt = (
        sa.select(Shift)
        .where(Shift.day >= start, Shift.day <= end)
        .options(sa.orm.joinedload(Shift.shift_type))
        .order_by(Shift.day, Shift.user_id)
    )
    if published_only:
        stmt = stmt.where(Shift.status == ShiftStatus.PUBLISHED)
    return list(session.scalars(stmt))


def grid_users(session: Session, start: dt.date, end: dt.date, with_shifts: Iterable[int] = ()) -> list[User]:
    """Active clerks employed at some point of start..end, plus anyone who has a shift there
    (a clerk deactivated this week stays only for the shifts they had)."""
    extra = set(with_shifts)
    stmt = (
        sa.select(User)
        .where(
            sa.or_(
                sa.and_(
                    User.role == Role.CLERK,
                    User.active.is_(True),
                    User.hire_date <= end,
                    sa.or_(User.termination_date.is_(None), User.termination_date >= start),
                ),
                User.id.in_(extra) if extra else sa.false(),
            )
        )
        .options(sa.orm.joinedload(User.team))
    )
    return sorted(
        session.scalars(stmt).unique(), key=lambda u: (u.team.name if u.team else "", u.name, u.login)
    )


def schedule_grid(
    actor: Actor, session: Session, start: dt.date, end: dt.date, *, published_only: bool = False
) -> Grid:
    """Clerks × days. Supervisors see drafts too; a clerk gets the published schedule only."""
    require(actor, Action.VIEW)
    check_range(start, end)
    published_only = published_only or not actor.can(Action.SCHEDULE_EDIT)
    shifts = _shifts_in(session, start, end, published_only=published_only)
    users = grid_users(session, start, end, {sh.user_id for sh in shifts})
    by_cell = {(sh.user_id, sh.day): sh for sh in shifts}
    pinned = set() if published_only else set(pinned_days_off(session, start, end))  # planning detail
    days = tuple(days_between(start, end))
    rows = []
    for u in users:
        cells = tuple(_cell(u, d, by_cell.get((u.id, d)), pinned=(u.id, d) in pinned) for d in days)
        paid = sum(
            max(
                minutes_between(c.starts_at, c.ends_at)
                - by_cell[(u.id, c.day)].shift_type.unpaid_break_minutes,
                0,
            )
            for c in cells
            if c.starts_at is not None and c.ends_at is not None
        )
        rows.append(GridRow(u.id, u.login, u.name, u.team.name if u.team else "", cells, paid))
    holidays = {h.day: h.name for h in list_holidays(actor, session, start=start, end=end)}
    types = tuple(list_shift_types(actor, session, include_inactive=True))
    return Grid(start, end, days, tuple(rows), holidays, types, published_only)


def my_schedule(actor: Actor, session: Session, start: dt.date, end: dt.date) -> list[MyShift]:
    """The actor's own PUBLISHED shifts (never drafts), times in the office zone."""
    require(actor, Action.VIEW)
    check_range(start, end)
    tz = office_timezone(session)
    stmt = (
        sa.select(Shift)
        .where(
            Shift.user_id == actor.user_id,
            Shift.day >= start,
            Shift.day <= end,
            Shift.status == ShiftStatus.PUBLISHED,
        )
        .options(sa.orm.joinedload(Shift.shift_type))
        .order_by(Shift.day)
    )
    out = []
    for sh in session.scalars(stmt):
        t = sh.shift_type
        paid = max(minutes_between(sh.starts_at, sh.ends_at) - t.unpaid_break_minutes, 0)
        out.append(
            MyShift(sh.day, t.code, t.name, sh.starts_at.in_timezone(tz), sh.ends_at.in_timezone(tz), paid)
        )
    return out


# --------------------------------------------------------------------------- editing the grid


def _existing(session: Session, user_id: int, day: dt.date) -> Shift | None:
    return session.scalars(
        sa.select(Shift)
        .where(Shift.user_id == user_id, Shift.day == day)
        .options(sa.orm.joinedload(Shift.shift_type))
    ).one_or_none()


def _check_version(sh: Shift | None, expected_version: int | None, login: str, day: dt.date) -> None:
    """``expected_version`` None means the editor saw an empty cell."""
    current = sh.version if sh is not None else None
    if current != expected_version:
        raise ConflictError(
            f"{login} on {day} was changed by someone else since you loaded the grid; reload and try again"
        )


def _clerk_for_cell(session: Session, login: str, day: dt.date) -> User:
    u = _get_user(session, login)
    if u.role != Role.CLERK:
        raise ValidationError.from_fields({"clerk": f"{login} is not a clerk"})
    if not _employed(u, day):
        raise ValidationError.from_fields({"day": f"{login} is not employed on {day}"})
    return u


def signed_days(
    session: Session, lo: dt.date, hi: dt.date, user_ids: Iterable[int] | None = None
) -> dict[tuple[int, dt.date], tuple[dt.date, dt.date]]:
    """(user id, day) -> its pay period, for days of lo..hi inside a signed or exported timecard:
    the schedule there is frozen with the card (a supervisor unlocks the card first)."""
    stmt = sa.select(Timecard.user_id, Timecard.period_start, Timecard.period_end).where(
        Timecard.status.in_((TimecardStatus.SIGNED, TimecardStatus.EXPORTED)),
        Timecard.period_start <= hi,
        Timecard.period_end >= lo,
    )
    if user_ids is not None:
        stmt = stmt.where(Timecard.user_id.in_(list(user_ids)))
    out: dict[tuple[int, dt.date], tuple[dt.date, dt.date]] = {}
    for uid, start, end in session.execute(stmt):
        for d in days_between(max(start, lo), min(end, hi)):
            out[(uid, d)] = (start, end)
    return out


def pinned_days_off(
    session: Session, lo: dt.date, hi: dt.date, user_ids: Iterable[int] | None = None
) -> list[tuple[int, dt.date]]:
    """(user id, day) of every pinned day off in lo..hi (no rights check: internal)."""
    stmt = sa.select(DayOffPin.user_id, DayOffPin.day).where(DayOffPin.day >= lo, DayOffPin.day <= hi)
    if user_ids is not None:
        stmt = stmt.where(DayOffPin.user_id.in_(list(user_ids)))
    return [(uid, d) for uid, d in session.execute(stmt)]


def _pin(actor: Actor, session: Session, u: User, day: dt.date, pinned: bool) -> bool:
    """Pin (or unpin) the clerk's day off. Audited. True when something changed."""
    row = session.scalars(
        sa.select(DayOffPin).where(DayOffPin.user_id == u.id, DayOffPin.day == day)
    ).one_or_none()
    if pinned and row is None:
        row = DayOffPin(user_id=u.id, day=day, created_by=actor.user_id or u.id)
        session.add(row)
        session.flush()
        audit.record(session, actor, "day_off_pin", row.id, "create", None, {"user_id": u.id, "day": day})
        return True
    if not pinned and row is not None:
        pid = row.id
        session.delete(row)
        session.flush()
        audit.record(session, actor, "day_off_pin", pid, "delete", {"user_id": u.id, "day": day}, None)
        return True
    return False


def _put(
    actor: Actor,
    session: Session,
    u: User,
    day: dt.date,
    sh: Shift | None,
    t: ShiftType | None,
    *,
    fixed: bool,
    tz: str,
    status: ShiftStatus | None = None,
) -> Shift | None:
    """Make the cell hold shift type ``t`` (None = off). Audited. Returns the row (or None)."""
    if sh is not None or t is not None:
        period = signed_days(session, day, day, [u.id]).get((u.id, day))
        if period is not None:
            raise FrozenError(
                f"{u.login}'s timecard for {period[0]} – {period[1]} is signed: a supervisor unlocks "
                f"it before the schedule of {day} can change"
            )
    if t is None:
        if sh is None:
            return None
        used = session.scalars(
            sa.select(AttendanceIncident.id).where(AttendanceIncident.shift_id == sh.id).limit(1)
        ).first()
        if used:
            raise ConflictError(
                f"{u.login}'s shift on {day} has attendance records; change its type instead of clearing it"
            )
        before = audit.snapshot(sh, SHIFT_AUDIT)
        sid = sh.id
        session.delete(sh)
        _flush(session)
        audit.record(session, actor, "shift", sid, "delete", before, None)
        return None
    starts, ends = shift_instants(day, t, tz)
    if sh is None:
        sh = Shift(
            user_id=u.id,
            day=day,
            shift_type=t,
            status=status or ShiftStatus.DRAFT,
            starts_at=starts,
            ends_at=ends,
            fixed=fixed,
            created_by=actor.user_id or u.id,
        )
        session.add(sh)
        _flush(session)
        audit.record(session, actor, "shift", sh.id, "create", None, audit.snapshot(sh, SHIFT_AUDIT))
        return sh
    before = audit.snapshot(sh, SHIFT_AUDIT)
    sh.shift_type = t
    sh.shift_type_id = t.id
    sh.starts_at, sh.ends_at = starts, ends
    sh.fixed = fixed
    if status is not None:
        sh.status = status
    after = audit.snapshot(sh, SHIFT_AUDIT)
    if after != before:
        _flush(session)
        audit.record(session, actor, "shift", sh.id, "update", before, after)
    return sh


def _result(
    session: Session,
    touched: Sequence[tuple[User, dt.date]],
    cells: Sequence[GridCell],
    skipped: Sequence[str] = (),
    weeks: Iterable[dt.date] = (),
) -> EditResult:
    # rostering builds on this module, so it is imported at call time to avoid an import cycle.
    from scheduling import rostering

    ev = rostering.evaluate_touched(session, [(u.login, d) for u, d in touched], weeks=weeks)
    return EditResult(tuple(cells), ev.violations, ev.coverage, ev.penalty, tuple(skipped))


def set_cell(
    actor: Actor,
    session: Session,
    login: str,
    day: dt.date,
    code: str | None,
    *,
    expected_version: int | None,
    fixed: bool = True,
) -> EditResult:
    """Put shift ``code`` (None = off) in a clerk's cell. A hand edit is ``fixed``: the builder
    keeps it. ``expected_version`` is the version the editor saw (None: an empty cell).

    An edited published shift stays published (clerks see the change at once); a new cell is a
    draft until the range is published.
    """
    require(actor, Action.SCHEDULE_EDIT)
    u = _clerk_for_cell(session, login, day)
    t = None
    if code is not None and code.strip():
        t = _get_type(session, code)
        if not t.active:
            raise ValidationError.from_fields({"code": f"shift type {t.code} is no longer in use"})
    sh = _existing(session, u.id, day)
    _check_version(sh, expected_version, login, day)
    tz = office_timezone(session)
    sh = _put(actor, session, u, day, sh, t, fixed=fixed, tz=tz)
    pinned = bool(pinned_days_off(session, day, day, [u.id]))
    if sh is not None and pinned:
        _pin(actor, session, u, day, False)  # a shift typed in replaces the pinned day off
        pinned = False
    return _result(session, [(u, day)], [_cell(u, day, sh, pinned=pinned)])


def pin_day_off(
    actor: Actor,
    session: Session,
    login: str,
    day: dt.date,
    pinned: bool,
    *,
    expected_version: int | None,
) -> EditResult:
    """Pin a clerk's day off (``pinned``), or unpin it. A pinned day holds no shift (pinning
    removes the one there) and the roster builder leaves it empty. ``expected_version`` is the
    version of the shift the editor saw (None: an empty cell)."""
    require(actor, Action.SCHEDULE_EDIT)
    u = _clerk_for_cell(session, login, day)
    sh = _existing(session, u.id, day)
    _check_version(sh, expected_version, login, day)
    if pinned and sh is not None:
        _put(actor, session, u, day, sh, None, fixed=False, tz=office_timezone(session))
    _pin(actor, session, u, day, pinned)
    return _result(session, [(u, day)], [_cell(u, day, None, pinned=pinned)])


def clear_cell(
    actor: Actor, session: Session, login: str, day: dt.date, *, expected_version: int | None
) -> EditResult:
    return set_cell(actor, session, login, day, None, expected_version=expected_version)


def swap_cells(
    actor: Actor,
    session: Session,
    day: dt.date,
    login_a: str,
    login_b: str,
    *,
    expected_versions: tuple[int | None, int | None],
) -> EditResult:
    """Swap two clerks' cells on one day (either may be off). Both become fixed hand edits."""
    require(actor, Action.SCHEDULE_EDIT)
    if login_a == login_b:
        raise ValidationError.from_fields({"clerk": "pick two different clerks to swap"})
    ua = _clerk_for_cell(session, login_a, day)
    ub = _clerk_for_cell(session, login_b, day)
    sa_, sb = _existing(session, ua.id, day), _existing(session, ub.id, day)
    _check_version(sa_, expected_versions[0], login_a, day)
    _check_version(sb, expected_versions[1], login_b, day)
    ta = sa_.shift_type if sa_ is not None else None
    tb = sb.shift_type if sb is not None else None
    status_a = sa_.status if sa_ is not None else None
    status_b = sb.status if sb is not None else None
    tz = office_timezone(session)
    pins = set(pinned_days_off(session, day, day, [ua.id, ub.id]))
    pin_a, pin_b = (ua.id, day) in pins, (ub.id, day) in pins
    # Keep each row's status: a published cell stays published with its new content.
    new_a = _put(actor, session, ua, day, sa_, tb, fixed=True, tz=tz, status=status_a or status_b)
    new_b = _put(actor, session, ub, day, sb, ta, fixed=True, tz=tz, status=status_b or status_a)
    # A pinned day off is part of the cell's content: it moves with it.
    _pin(actor, session, ua, day, pin_b)
    _pin(actor, session, ub, day, pin_a)
    return _result(
        session,
        [(ua, day), (ub, day)],
        [_cell(ua, day, new_a, pinned=pin_b), _cell(ub, day, new_b, pinned=pin_a)],
    )


def copy_previous_week(actor: Actor, session: Session, week: dt.date) -> EditResult:
    """Copy the week before ``week`` (any day of the target week) into its empty cells.

    Cells that already hold a shift are kept. Cells are skipped (and listed) when the clerk is not
    employed that day, the day is a holiday, the clerk has approved time off or a pinned day off,
    or the shift type is retired. Copies are drafts and not fixed: a later build may still change them.
    """
    require(actor, Action.SCHEDULE_EDIT)
    start = week_start(week)
    src = _shifts_in(
        session, start - dt.timedelta(days=7), start - dt.timedelta(days=1), published_only=False
    )
    target = {
        (sh.user_id, sh.day): sh
        for sh in _shifts_in(session, start, start + dt.timedelta(days=6), published_only=False)
    }
    holidays = {
        h.day
        for h in session.scalars(
            sa.select(Holiday).where(Holiday.day >= start, Holiday.day <= start + dt.timedelta(days=6))
        )
    }
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_({sh.user_id for sh in src})))}
    off = approved_days_off(session, start, start + dt.timedelta(days=6))
    pins = set(pinned_days_off(session, start, start + dt.timedelta(days=6)))
    tz = office_timezone(session)
    touched: list[tuple[User, dt.date]] = []
    cells: list[GridCell] = []
    skipped: list[str] = []
    for old in src:
        day = old.day + dt.timedelta(days=7)
        u = users[old.user_id]
        if (u.id, day) in target:
            continue
        why = None
        if not _employed(u, day):
            why = "not employed"
        elif day in holidays:
            why = "holiday"
        elif day in off.get(u.id, set()):
            why = "approved time off"
        elif (u.id, day) in pins:
            why = "day off pinned"
        elif not old.shift_type.active:
            why = f"shift type {old.shift_type.code} retired"
        if why:
            skipped.append(f"{u.login} {day}: {why}")
            continue
        sh = _put(actor, session, u, day, None, old.shift_type, fixed=False, tz=tz)
        touched.append((u, day))
        cells.append(_cell(u, day, sh))
    # Even when nothing was copied the week's totals are reported, so the screen can refresh.
    return _result(session, touched, cells, skipped, weeks=[start])


def publish(actor: Actor, session: Session, start: dt.date, end: dt.date) -> PublishResult:
    """Draft → published for every shift in start..end; clerks see them from now on."""
    require(actor, Action.SCHEDULE_EDIT)
    check_range(start, end)
    shifts = _shifts_in(session, start, end, published_only=False)
    drafts = [sh for sh in shifts if sh.status == ShiftStatus.DRAFT]
    for sh in drafts:
        sh.status = ShiftStatus.PUBLISHED
    _flush(session)
    for sh in drafts:
        audit.record(
            session,
            actor,
            "shift",
            sh.id,
            "publish",
            {"status": ShiftStatus.DRAFT},
            {"status": ShiftStatus.PUBLISHED},
        )
    return PublishResult(start, end, len(drafts), len(shifts) - len(drafts))


# --------------------------------------------------------------------------- export

EXPORT_FORMATS = ("text", "md", "csv")


def _day_label(d: dt.date) -> str:
    return f"{WEEKDAY_NAMES[d.weekday()]} {d.month}/{d.day}"


def render_grid(grid: Grid, fmt: str) -> str:
    """Clerks × days with shift codes: ``text`` and ``md`` through tabulate, or ``csv``.

    A draft shift is marked ``*`` (only when drafts are shown); off days are empty. The last
    column is the paid hours of the range (real time, so DST nights count as they fall).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValidationError.from_fields({"format": f"must be one of {', '.join(EXPORT_FORMATS)}"})
    headers = ["name", *(_day_label(d) for d in grid.days), "hours"]
    body = [
        [
            row.name,
            *(
                ""
                if c.code is None
                else c.code + ("*" if c.status == ShiftStatus.DRAFT and not grid.published_only else "")
                for c in row.cells
            ),
            fmt_hm(row.paid_minutes),
        ]
        for row in grid.rows
    ]
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(body)
        return out.getvalue()
    from tabulate import tabulate

    text = tabulate(
        body, headers=headers, tablefmt="github" if fmt == "md" else "simple", disable_numparse=True
    )
    notes = []
    if not grid.published_only and any(c.status == ShiftStatus.DRAFT for r in grid.rows for c in r.cells):
        notes.append("* draft (not yet published)")
    notes += [f"{d} {name}: holiday" for d, name in sorted(grid.holidays.items())]
    if notes:
        text += "\n\n" + "\n".join(notes)
    return text + "\n"


def export_schedule(
    actor: Actor, session: Session, start: dt.date, end: dt.date, fmt: str, *, published_only: bool = False
) -> str:
    """The schedule of start..end as text, markdown or CSV (clerks see published shifts only)."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError.from_fields({"format": f"must be one of {', '.join(EXPORT_FORMATS)}"})
    return render_grid(schedule_grid(actor, session, start, end, published_only=published_only), fmt)
