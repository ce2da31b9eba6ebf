"""Staff: hire (add), edit, terminate (deactivate, never delete), list; identity lookup."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import PayerKind, Role, Team, User
from db.rights import Action, Actor, require
from db.settings import office_timezone
from db.text import has_control_chars
from db.timeutil import office_today

LOGIN_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
SKILL_RE = re.compile(r"^(insurer|government|employer|other|lang:[a-z]{2,3})$")
MAX_WEEKLY_MINUTES = 80 * 60

AUDIT_FIELDS = (
    "login",
    "name",
    "role",
    "team_id",
    "skills",
    "contracted_minutes",
    "email",
    "active",
    "hire_date",
    "termination_date",
)


@dataclass(frozen=True)
class StaffRow:
    id: int
    login: str
    name: str
    role: Role
    team: str
    skills: tuple[str, ...]
    contracted_minutes: int
    email: str
    active: bool
    hire_date: dt.date
    termination_date: dt.date | None
    version: int

    @property
    def contracted_hours(self) -> str:
        h, m = divmod(self.contracted_minutes, 60)
        return f"{h}:{m:02d}"


def _row(u: User) -> StaffRow:
    return StaffRow(
        id=u.id,
        login=u.login,
        name=u.name,
        role=u.role,
        team=u.team.name if u.team else "",
        skills=tuple(u.skills or ()),
        contracted_minutes=u.contracted_minutes,
        email=u.email,
        active=u.active,
        hire_date=u.hire_date,
        termination_date=u.termination_date,
        version=u.version,
    )


def parse_skills(value: str | Iterable[str]) -> list[str]:
    items = [s.strip().lower() for s in (value.split(",") if isinstance(value, str) else value)]
    items = [s for s in items if s]
    bad = [s for s in items if not SKILL_RE.match(s)]
    if bad:
        kinds = ", ".join(k.value for k in PayerKind)
        raise ValidationError.from_fields(
            {"skills": f"unknown skill {bad[0]!r}: use payer kinds ({kinds}) or lang:xx (e.g. lang:es)"}
        )
    return sorted(set(items))


def _validate(login: str | None, name: str | None, minutes: int | None, email: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if login is not None and not LOGIN_RE.match(login):
        errors["login"] = (
            "must be a Unix login: lower-case letters, digits, _ . - (max 32), not starting with a digit"
        )
    if name is not None:
        if not name.strip():
            errors["name"] = "is required"
        elif len(name) > 120:
            errors["name"] = "is longer than 120 characters"
        elif has_control_chars(name):
            errors["name"] = "has control characters"
    if minutes is not None and not (0 <= minutes <= MAX_WEEKLY_MINUTES):
        errors["hours"] = "contracted hours must be between 0 and 80 a week"
    if email and (len(email) > 200 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email)):
        errors["email"] = "is not an e-mail address"
    return errors


def _team(session: Session, name: str | None) -> Team | None:
    if not name:
        return None
    team = session.scalars(sa.select(Team).where(Team.name == name)).one_or_none()
    if team is None:
        raise ValidationError.from_fields({"team": f"no team named {name!r}"})
    return team


def get_user(session: Session, login: str) -> User:
    user = session.scalars(sa.select(User).where(User.login == login)).one_or_none()
    if user is None:
        raise NotFound(f"no ClerkDesk user {login!r}")
    return user


def add_team(actor: Actor, session: Session, name: str, description: str = "") -> Team:
    _require_staff_manager(actor, session)
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationError.from_fields({"team": "a team needs a name of 1 to 80 characters"})
    if has_control_chars(name):
        raise ValidationError.from_fields({"team": "has control characters"})
    if session.scalars(sa.select(Team).where(Team.name == name)).first():
        raise ConflictError(f"team {name!r} already exists")
    team = Team(name=name, description=description)
    session.add(team)
    session.flush()
    audit.record(session, actor, "team", team.id, "create", None, {"name": name})
    return team


def list_teams(actor: Actor, session: Session) -> list[str]:
    require(actor, Action.VIEW)
    return list(session.scalars(sa.select(Team.name).order_by(Team.name)))


def add_user(
    actor: Actor,
    session: Session,
    *,
    login: str,
    name: str,
    role: Role | str,
    team: str | None = None,
    skills: str | Sequence[str] = (),
    contracted_minutes: int = 2400,
    email: str = "",
    hire_date: dt.date | None = None,
) -> StaffRow:
    """Hire: add a user. Only supervisors (or the system, while the office has no supervisor)."""
    _require_staff_manager(actor, session)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError.from_fields({"role": "must be clerk or supervisor"}) from None
    errors = _validate(login, name, contracted_minutes, email)
    try:
        skill_list = parse_skills(skills)
    except ValidationError as e:
        errors.update(e.fields)
    if errors:
        raise ValidationError.from_fields(errors)
    if session.scalars(sa.select(User.id).where(User.login == login)).first():
        # Bad input, not a race: the form marks the login field and the CLI exits 2.
        raise ValidationError.from_fields(
            {"login": f"user {login!r} already exists (users are never deleted; reactivate instead)"}
        )
    hire = hire_date or office_today(office_timezone(session))
    user = User(
        login=login,
        name=name.strip(),
        role=role,
        team=_team(session, team),
        skills=skill_list,
        contracted_minutes=contracted_minutes,
        email=email,
        hire_date=hire,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "create", None, audit.snapshot(user, AUDIT_FIELDS))
    return _row(user)


_UNSET = object()


def edit_user(
    actor: Actor,
    session: Session,
    login: str,
    *,
    expected_version: int | None = None,
    name: str | None = None,
    role: Role | str | None = None,
    team: object = _UNSET,
    skills: str | Sequence[str] | None = None,
    contracted_minutes: int | None = None,
    email: str | None = None,
) -> StaffRow:
    _require_staff_manager(actor, session)
    user = get_user(session, login)
    if expected_version is not None and user.version != expected_version:
        raise ConflictError(f"{login} was changed by someone else; reload and try again")
    errors = _validate(None, name, contracted_minutes, email)
    skill_list = None
    if skills is not None:
        try:
            skill_list = parse_skills(skills)
        except ValidationError as e:
            errors.update(e.fields)
    new_role = None
    if role is not None:
        try:
            new_role = Role(role)
        except ValueError:
            errors["role"] = "must be clerk or supervisor"
    if new_role == Role.CLERK and user.id == actor.user_id:
        errors["role"] = "you cannot demote yourself"
    if errors:
        raise ValidationError.from_fields(errors)
    before = audit.snapshot(user, AUDIT_FIELDS)
    if name is not None:
        user.name = name.strip()
    if new_role is not None:
        user.role = new_role
    if team is not _UNSET:
        user.team = _team(session, team if isinstance(team, str) else None)
    if skill_list is not None:
        user.skills = skill_list
    if contracted_minutes is not None:
        user.contracted_minutes = contracted_minutes
    if email is not None:
        user.email = email
    session.flush()
    after = audit.snapshot(user, AUDIT_FIELDS)
    if after != before:
        audit.record(session, actor, "user", user.id, "update", before, after)
    return _row(user)


def _deactivatable(actor: Actor, session: Session, login: str) -> User:
    _require_staff_manager(actor, session)
    user = get_user(session, login)
    if user.id == actor.user_id:
        raise PermissionDenied("you cannot deactivate yourself")
    if not user.active:
        raise ConflictError(f"{login} is already deactivated")
    return user


def check_deactivate(actor: Actor, session: Session, login: str) -> None:
    """Raise what ``deactivate_user`` would refuse, before the screen asks to confirm."""
    _deactivatable(actor, session, login)


def deactivate_user(
    actor: Actor, session: Session, login: str, *, termination_date: dt.date | None = None
) -> StaffRow:
    """Terminate: the user can no longer log in; their history stays."""
    user = _deactivatable(actor, session, login)
    day = termination_date or office_today(office_timezone(session))
    if day < user.hire_date:
        raise ValidationError.from_fields({"termination_date": f"is before the hire date {user.hire_date}"})
    before = audit.snapshot(user, AUDIT_FIELDS)
    user.active = False
    user.termination_date = day
    session.flush()
    audit.record(session, actor, "user", user.id, "deactivate", before, audit.snapshot(user, AUDIT_FIELDS))
    return _row(user)


def list_users(
    actor: Actor, session: Session, *, include_inactive: bool = False, role: Role | None = None
) -> list[StaffRow]:
    require(actor, Action.VIEW)
    stmt = sa.select(User).order_by(User.role.desc(), User.name)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    if role is not None:
        stmt = stmt.where(User.role == role)
    return [_row(u) for u in session.scalars(stmt)]


def resolve_actor(session: Session, login: str) -> Actor:
    """The Actor for a login; refuses unknown and deactivated users."""
    user = session.scalars(sa.select(User).where(User.login == login)).one_or_none()
    if user is None:
        raise NotFound(f"{login!r} is not a ClerkDesk user; ask a supervisor to add you")
    if not user.active:
        raise PermissionDenied(f"{login!r} is deactivated and may not use ClerkDesk")
    return Actor(user_id=user.id, login=user.login, name=user.name, role=user.role, team_id=user.team_id)


def has_supervisor(session: Session) -> bool:
    return bool(
        session.scalars(
            sa.select(User.id).where(User.role == Role.SUPERVISOR, User.active.is_(True)).limit(1)
        ).first()
    )


def _require_staff_manager(actor: Actor, session: Session) -> None:
    # The system actor (user_id 0) may only bootstrap an office that has no supervisor yet.
    if actor.user_id == 0 and has_supervisor(session) and actor.login == "system":
        raise PermissionDenied("the office already has a supervisor; run this as a supervisor")
    require(actor, Action.STAFF_MANAGE)
