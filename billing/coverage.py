"""Coverage and eligibility (docs/billing.md).

A client has at most one primary and one secondary coverage in force on any day (a
coverage is in force on a day when it is active and the day lies between its effective
dates). Eligibility checks are recorded per coverage; the latest check decides:

* fresh: the latest check says eligible and is at most ``billing.eligibility_max_age_days``
  old (default 30) — the payer may be billed;
* stale / missing / pending / not eligible: a warning on the client, and an invoice to that
  payer cannot be issued unless a supervisor has granted an override (with a reason, valid
  until a date).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.catalog import get_payer_row, office_day, parse_money, pin, pinned_get, setting
from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    Client,
    Coverage,
    CoverageRank,
    EligibilityCheck,
    EligibilityOverride,
    EligibilityResult,
    Payer,
    PayerKind,
)
from db.rights import Action, Actor, require

MEMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{0,39}$")
MAX_PERCENT = Decimal(100)

COVERAGE_FIELDS = (
    "client_id",
    "payer_id",
    "rank",
    "member_id",
    "group_number",
    "subscriber_name",
    "subscriber_relation",
    "effective_from",
    "effective_to",
    "copay",
    "coinsurance_bp",
    "deductible",
    "deductible_remaining",
    "active",
)
RELATIONS = ("self", "spouse", "child", "other")


class EligibilityState(enum.StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"
    PENDING = "pending"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True)
class EligibilityStatus:
    state: EligibilityState
    last_checked_on: dt.date | None
    age_days: int | None
    max_age_days: int
    override_until: dt.date | None  # a supervisor's override in force today
    override_reason: str

    @property
    def ok_to_bill(self) -> bool:
        return self.state == EligibilityState.FRESH or self.override_until is not None

    @property
    def message(self) -> str:
        """One line for the account header and the accuracy check."""
        if self.state == EligibilityState.FRESH:
            return f"eligibility checked {self.last_checked_on} ({self.age_days} days ago)"
        why = {
            EligibilityState.STALE: (
                f"eligibility check is stale: last checked {self.last_checked_on}, "
                f"{self.age_days} days ago (limit {self.max_age_days})"
            ),
            EligibilityState.MISSING: "eligibility has never been checked",
            EligibilityState.PENDING: f"eligibility check of {self.last_checked_on} is still pending",
            EligibilityState.NOT_ELIGIBLE: f"payer said not eligible on {self.last_checked_on}",
        }[self.state]
        if self.override_until is not None:
            return f"{why}; overridden until {self.override_until} ({self.override_reason})"
        return why


@dataclass(frozen=True)
class CoverageView:
    id: int
    client_id: int
    payer_id: int
    payer_name: str
    payer_kind: PayerKind
    rank: CoverageRank
    member_id: str
    group_number: str
    subscriber_name: str
    subscriber_relation: str
    effective_from: dt.date
    effective_to: dt.date | None
    copay: Decimal
    coinsurance_bp: int
    deductible: Decimal
    deductible_remaining: Decimal
    active: bool
    in_force_today: bool
    eligibility: EligibilityStatus
    version: int

    @property
    def coinsurance_percent(self) -> Decimal:
        return Decimal(self.coinsurance_bp) / 100


@dataclass(frozen=True)
class EligibilityCheckView:
    id: int
    coverage_id: int
    checked_on: dt.date
    checked_by: int
    result: EligibilityResult
    covered_services: str
    notes: str


@dataclass(frozen=True)
class OverrideView:
    id: int
    coverage_id: int
    reason: str
    granted_by: int
    valid_until: dt.date


# --------------------------------------------------------------------------- queries


def in_force(cov: Coverage, day: dt.date) -> bool:
    return cov.active and cov.effective_from <= day and (cov.effective_to is None or day <= cov.effective_to)


def active_coverages(session: Session, client_id: int) -> list[Coverage]:
    """All the client's active coverages, primary first (filter them with ``in_force``)."""
    rows = session.scalars(
        sa.select(Coverage)
        .where(Coverage.client_id == client_id, Coverage.active.is_(True))
        .order_by(Coverage.rank, Coverage.id)
    ).all()
    return [pin(session, c) for c in rows]


def coverages_in_force(session: Session, client_id: int, day: dt.date) -> list[Coverage]:
    """The client's coverages in force on ``day``: primary first, then secondary."""
    rows = session.scalars(
        sa.select(Coverage)
        .where(
            Coverage.client_id == client_id,
            Coverage.active.is_(True),
            Coverage.effective_from <= day,
            sa.or_(Coverage.effective_to.is_(None), Coverage.effective_to >= day),
        )
        .order_by(Coverage.rank, Coverage.id)  # 'primary' < 'secondary'
    ).all()
    return list(rows)


def max_age_days(session: Session) -> int:
    return int(setting(session, "billing.eligibility_max_age_days"))


def eligibility_status(session: Session, coverage_id: int, today: dt.date | None = None) -> EligibilityStatus:
    """Where the coverage's eligibility stands today (the latest check decides)."""
    if today is None:
        today = office_day(session)
    limit = max_age_days(session)
    check = session.scalars(
        sa.select(EligibilityCheck)
        .where(EligibilityCheck.coverage_id == coverage_id)
        .order_by(EligibilityCheck.checked_on.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()
    override = session.scalars(
        sa.select(EligibilityOverride)
        .where(EligibilityOverride.coverage_id == coverage_id, EligibilityOverride.valid_until >= today)
        .order_by(EligibilityOverride.valid_until.desc(), EligibilityOverride.id.desc())
        .limit(1)
    ).first()
    if check is None:
        state, last, age = EligibilityState.MISSING, None, None
    else:
        last, age = check.checked_on, (today - check.checked_on).days
        if check.result == EligibilityResult.NOT_ELIGIBLE:
            state = EligibilityState.NOT_ELIGIBLE
        elif check.result == EligibilityResult.PENDING:
            state = EligibilityState.PENDING
        elif age > limit:
            state = EligibilityState.STALE
        else:
            state = EligibilityState.FRESH
    return EligibilityStatus(
        state=state,
        last_checked_on=last,
        age_days=age,
        max_age_days=limit,
        override_until=override.valid_until if override else None,
        override_reason=override.reason if override else "",
    )


def _view(
    session: Session, cov: Coverage, today: dt.date, eligibility: EligibilityStatus | None = None
) -> CoverageView:
    payer = cov.payer
    return CoverageView(
        id=cov.id,
        client_id=cov.client_id,
        payer_id=cov.payer_id,
        payer_name=payer.name,
        payer_kind=payer.kind,
        rank=cov.rank,
        member_id=cov.member_id,
        group_number=cov.group_number,
        subscriber_name=cov.subscriber_name,
        subscriber_relation=cov.subscriber_relation,
        effective_from=cov.effective_from,
        effective_to=cov.effective_to,
        copay=cov.copay,
        coinsurance_bp=cov.coinsurance_bp,
        deductible=cov.deductible,
        deductible_remaining=cov.deductible_remaining,
        active=cov.active,
        in_force_today=in_force(cov, today),
        eligibility=eligibility or eligibility_status(session, cov.id, today),
        version=cov.version,
    )


def _today(session: Session) -> dt.date:
    return office_day(session)


def get_coverage_row(session: Session, coverage_id: int) -> Coverage:
    cov = pinned_get(session, Coverage, coverage_id)
    if cov is None:
        raise NotFound(f"no coverage with id {coverage_id}")
    return cov


def get_coverage(actor: Actor, session: Session, coverage_id: int) -> CoverageView:
    require(actor, Action.VIEW)
    return _view(session, get_coverage_row(session, coverage_id), _today(session))


def list_coverages(
    actor: Actor, session: Session, client_id: int, *, include_ended: bool = True
) -> tuple[CoverageView, ...]:
    """The client's coverages: in force first (primary, secondary), then the rest newest first."""
    require(actor, Action.VIEW)
    today = _today(session)
    rows = session.scalars(
        sa.select(Coverage).where(Coverage.client_id == client_id).order_by(Coverage.effective_from.desc())
    ).all()
    views = [_view(session, c, today) for c in rows]
    if not include_ended:
        views = [v for v in views if v.in_force_today]
    views.sort(key=lambda v: (not v.in_force_today, v.rank.value, -v.effective_from.toordinal(), v.id))
    return tuple(views)


# --------------------------------------------------------------------------- changes


def parse_percent_bp(
    value: Decimal | int | str, errors: dict[str, str], field: str = "coinsurance"
) -> int | None:
    """``"20"`` or ``"12.5%"`` → basis points (2000, 1250); at most two decimals."""
    text = str(value).strip().rstrip("%").strip() if not isinstance(value, Decimal) else value
    try:
        pct = Decimal(text) if not isinstance(text, Decimal) else text
    except Exception:
        errors[field] = f"{value!r} is not a percentage (e.g. 20 or 12.5)"
        return None
    if not pct.is_finite() or pct < 0 or pct > MAX_PERCENT:
        errors[field] = "must be between 0 and 100 percent"
        return None
    bp = pct * 100
    if bp != bp.to_integral_value():
        errors[field] = "has more than two decimals"
        return None
    return int(bp)


def normalize_member_id(value: str) -> str:
    return " ".join(value.strip().upper().split())


def _overlapping(
    session: Session,
    client_id: int,
    rank: CoverageRank,
    start: dt.date,
    end: dt.date | None,
    skip_id: int | None,
) -> Coverage | None:
    stmt = sa.select(Coverage).where(
        Coverage.client_id == client_id,
        Coverage.rank == rank,
        Coverage.active.is_(True),
        sa.or_(Coverage.effective_to.is_(None), Coverage.effective_to >= start),
    )
    if end is not None:
        stmt = stmt.where(Coverage.effective_from <= end)
    if skip_id is not None:
        stmt = stmt.where(Coverage.id != skip_id)
    return session.scalars(stmt.limit(1)).first()


def add_coverage(
    actor: Actor,
    session: Session,
    client_id: int,
    *,
    payer_id: int,
    rank: CoverageRank | str,
    member_id: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    group_number: str = "",
    subscriber_name: str = "",
    subscriber_relation: str = "self",
    copay: Decimal | int | str = Decimal("0.00"),
    coinsurance_percent: Decimal | int | str = 0,
    deductible: Decimal | int | str = Decimal("0.00"),
    deductible_remaining: Decimal | int | str | None = None,
) -> CoverageView:
    """Add a primary or secondary coverage. ``deductible_remaining`` defaults to the whole deductible."""
    require(actor, Action.COVERAGE_EDIT)
    client = pinned_get(session, Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    payer: Payer = get_payer_row(session, payer_id)
    errors: dict[str, str] = {}
    try:
        rank_v = CoverageRank(rank)
    except ValueError:
        errors["rank"] = "must be primary or secondary"
        rank_v = CoverageRank.PRIMARY
    member = normalize_member_id(member_id)
    if not MEMBER_RE.match(member):
        errors["member_id"] = "is required: letters, digits, spaces or '-' (max 40)"
    if effective_to is not None and effective_to < effective_from:
        errors["effective_to"] = f"is before the effective date {effective_from}"
    if subscriber_relation not in RELATIONS:
        errors["subscriber_relation"] = "must be one of " + ", ".join(RELATIONS)
    if len(group_number) > 40:
        errors["group_number"] = "is longer than 40 characters"
    if len(subscriber_name) > 120:
        errors["subscriber_name"] = "is longer than 120 characters"
    copay_v = parse_money(copay, "copay", errors)
    ded = parse_money(deductible, "deductible", errors)
    rem = (
        parse_money(deductible_remaining, "deductible_remaining", errors)
        if deductible_remaining is not None
        else ded
    )
    bp = parse_percent_bp(coinsurance_percent, errors)
    if ded is not None and rem is not None and rem > ded:
        errors["deductible_remaining"] = f"is more than the deductible {ded}"
    if not payer.active:
        errors["payer"] = f"{payer.name} is no longer active"
    if errors:
        raise ValidationError.from_fields(errors)
    assert copay_v is not None and ded is not None and rem is not None and bp is not None
    clash = _overlapping(session, client_id, rank_v, effective_from, effective_to, None)
    if clash is not None:
        raise ConflictError(
            f"the client already has a {rank_v.value} coverage ({clash.payer.name}, from "
            f"{clash.effective_from}) in force in that period; end it first"
        )
    cov = Coverage(
        client_id=client_id,
        payer_id=payer.id,
        rank=rank_v,
        member_id=member,
        group_number=group_number.strip(),
        subscriber_name=subscriber_name.strip() or client.display_name,
        subscriber_relation=subscriber_relation,
        effective_from=effective_from,
        effective_to=effective_to,
        copay=copay_v,
        coinsurance_bp=bp,
        deductible=ded,
        deductible_remaining=rem,
    )
    session.add(cov)
    session.flush()
    audit.record(session, actor, "coverage", cov.id, "create", None, audit.snapshot(cov, COVERAGE_FIELDS))
    never_checked = EligibilityStatus(EligibilityState.MISSING, None, None, max_age_days(session), None, "")
    return _view(session, cov, _today(session), never_checked)


def end_coverage(
    actor: Actor,
    session: Session,
    coverage_id: int,
    *,
    end_date: dt.date,
    expected_version: int | None = None,
) -> CoverageView:
    """End a coverage on a date (the client changed plans). Nothing is deleted."""
    require(actor, Action.COVERAGE_EDIT)
    cov = get_coverage_row(session, coverage_id)
    if expected_version is not None and cov.version != expected_version:
        raise ConflictError("this coverage was changed by someone else; reload and try again")
    if end_date < cov.effective_from:
        raise ValidationError.from_fields({"end_date": f"is before the effective date {cov.effective_from}"})
    before = audit.snapshot(cov, COVERAGE_FIELDS)
    cov.effective_to = end_date
    session.flush()
    audit.record(session, actor, "coverage", cov.id, "end", before, audit.snapshot(cov, COVERAGE_FIELDS))
    return _view(session, cov, _today(session))


def edit_coverage(
    actor: Actor,
    session: Session,
    coverage_id: int,
    *,
    expected_version: int | None = None,
    member_id: str | None = None,
    group_number: str | None = None,
    copay: Decimal | int | str | None = None,
    coinsurance_percent: Decimal | int | str | None = None,
    deductible: Decimal | int | str | None = None,
    deductible_remaining: Decimal | int | str | None = None,
) -> CoverageView:
    """Correct a coverage's terms (e.g. the payer reported what is left of the deductible)."""
    require(actor, Action.COVERAGE_EDIT)
    cov = get_coverage_row(session, coverage_id)
    if expected_version is not None and cov.version != expected_version:
        raise ConflictError("this coverage was changed by someone else; reload and try again")
    errors: dict[str, str] = {}
    member = normalize_member_id(member_id) if member_id is not None else None
    if member is not None and not MEMBER_RE.match(member):
        errors["member_id"] = "is required: letters, digits, spaces or '-' (max 40)"
    if group_number is not None and len(group_number) > 40:
        errors["group_number"] = "is longer than 40 characters"
    copay_v = parse_money(copay, "copay", errors) if copay is not None else None
    ded = parse_money(deductible, "deductible", errors) if deductible is not None else None
    rem = (
        parse_money(deductible_remaining, "deductible_remaining", errors)
        if deductible_remaining is not None
        else None
    )
    bp = parse_percent_bp(coinsurance_percent, errors) if coinsurance_percent is not None else None
    new_ded = ded if ded is not None else cov.deductible
    new_rem = rem if rem is not None else min(cov.deductible_remaining, new_ded)
    if new_rem > new_ded:
        errors["deductible_remaining"] = f"is more than the deductible {new_ded}"
    if errors:
        raise ValidationError.from_fields(errors)
    before = audit.snapshot(cov, COVERAGE_FIELDS)
    if member is not None:
        cov.member_id = member
    if group_number is not None:
        cov.group_number = group_number.strip()
    if copay_v is not None:
        cov.copay = copay_v
    if bp is not None:
        cov.coinsurance_bp = bp
    cov.deductible = new_ded
    cov.deductible_remaining = new_rem
    session.flush()
    after = audit.snapshot(cov, COVERAGE_FIELDS)
    if after != before:
        audit.record(session, actor, "coverage", cov.id, "update", before, after)
    return _view(session, cov, _today(session))


def record_eligibility_check(
    actor: Actor,
    session: Session,
    coverage_id: int,
    *,
    result: EligibilityResult | str,
    checked_on: dt.date | None = None,
    covered_services: str = "",
    notes: str = "",
) -> EligibilityCheckView:
    """Record what the payer said (by phone, portal, …) on a day (default today, never the future)."""
    require(actor, Action.ELIGIBILITY_RECORD)
    cov = get_coverage_row(session, coverage_id)
    today = _today(session)
    day = checked_on or today
    errors: dict[str, str] = {}
    try:
        res = EligibilityResult(result)
    except ValueError:
        errors["result"] = "must be one of " + ", ".join(r.value for r in EligibilityResult)
        res = EligibilityResult.PENDING
    if day > today:
        errors["checked_on"] = "is in the future"
    if len(covered_services) > 2000:
        errors["covered_services"] = "is longer than 2000 characters"
    if len(notes) > 4000:
        errors["notes"] = "is longer than 4000 characters"
    if errors:
        raise ValidationError.from_fields(errors)
    check = EligibilityCheck(
        coverage_id=cov.id,
        checked_on=day,
        checked_by=actor.user_id,
        result=res,
        covered_services=covered_services.strip(),
        notes=notes.strip(),
    )
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor,
        "eligibility_check",
        check.id,
        "create",
        None,
        audit.snapshot(
            check, ("coverage_id", "checked_on", "checked_by", "result", "covered_services", "notes")
        ),
    )
    return EligibilityCheckView(
        id=check.id,
        coverage_id=cov.id,
        checked_on=day,
        checked_by=actor.user_id,
        result=res,
        covered_services=check.covered_services,
        notes=check.notes,
    )


def list_eligibility_checks(
    actor: Actor, session: Session, coverage_id: int
) -> tuple[EligibilityCheckView, ...]:
    require(actor, Action.VIEW)
    rows = session.scalars(
        sa.select(EligibilityCheck)
        .where(EligibilityCheck.coverage_id == coverage_id)
        .order_by(EligibilityCheck.checked_on.desc(), EligibilityCheck.id.desc())
    ).all()
    return tuple(
        EligibilityCheckView(
            r.id, r.coverage_id, r.checked_on, r.checked_by, r.result, r.covered_services, r.notes
        )
        for r in rows
    )


def grant_eligibility_override(
    actor: Actor, session: Session, coverage_id: int, *, reason: str, valid_until: dt.date | None = None
) -> OverrideView:
    """A supervisor lets invoices go to this coverage's payer despite the check (default: today only)."""
    require(actor, Action.ELIGIBILITY_OVERRIDE)
    cov = get_coverage_row(session, coverage_id)
    today = _today(session)
    until = valid_until or today
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "is required: say why the payer may be billed without a fresh check"
    elif len(reason) > 2000:
        errors["reason"] = "is longer than 2000 characters"
    if until < today:
        errors["valid_until"] = "is in the past"
    elif (until - today).days > 90:
        errors["valid_until"] = "may be at most 90 days ahead"
    if errors:
        raise ValidationError.from_fields(errors)
    ov = EligibilityOverride(
        coverage_id=cov.id, reason=reason.strip(), granted_by=actor.user_id, valid_until=until
    )
    session.add(ov)
    session.flush()
    audit.record(
        session,
        actor,
        "eligibility_override",
        ov.id,
        "create",
        None,
        audit.snapshot(ov, ("coverage_id", "reason", "granted_by", "valid_until")),
    )
    return OverrideView(ov.id, cov.id, ov.reason, ov.granted_by, ov.valid_until)
