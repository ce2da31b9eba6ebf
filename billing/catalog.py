"""Payers, the service code catalog, and each payer's crosswalk (docs/billing.md).

Payers and codes are office reference data: only supervisors change them
(``Action.CATALOG_EDIT``); everyone may read them.

Crosswalk rule (used by invoices): a payer *with* crosswalk entries has told the office how it
wants codes billed, so every code billed to it must have an entry (a missing one fails the
"code mapped" accuracy check). A payer with *no* entries takes the standard codes at the
catalog fee. An entry may give the payer's own code, its allowed amount per unit, or both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import Payer, PayerCode, PayerKind, ServiceCode
from db.money import to_money
from db.rights import Action, Actor, require
from db.settings import get_setting
from db.text import has_control_chars
from db.timeutil import office_today

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.-]{0,15}$")
PAYER_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:/-]{0,23}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FEE = Decimal("1000000.00")

PAYER_FIELDS = ("name", "kind", "terms_days", "payer_ref", "address", "phone", "email", "active")
CODE_FIELDS = ("code", "description", "fee", "active")


# --------------------------------------------------------------------------- settings (cached)

_SETTINGS = "clerkdesk.billing.settings"


def setting(session: Session, key: str) -> Any:
    """An office setting, read once per session (one transaction): billing reads the same few
    settings for every line and every invoice."""
    cache = session.info.setdefault(_SETTINGS, {})
    if key not in cache:
        cache[key] = get_setting(session, key)
    return cache[key]


_PINS = "clerkdesk.billing.pins"


class _Row(Protocol):
    @property
    def id(self) -> int: ...


M = TypeVar("M")
R = TypeVar("R", bound=_Row)


def pinned_get(session: Session, model: type[M], ident: int) -> M | None:
    """``session.get`` that keeps the object referenced until the session ends.

    The identity map holds objects weakly: a payer or client looked up for one line would be
    fetched again for the next. Billing touches the same few rows many times per transaction,
    so it keeps them (one transaction's worth: a handful of clients, payers and codes)."""
    pins: dict[tuple[type[Any], int], object] = session.info.setdefault(_PINS, {})
    key = (model, ident)
    cached = pins.get(key)
    if isinstance(cached, model):
        return cached
    obj = session.get(model, ident)
    if obj is not None:
        pins[key] = obj
    return obj


def pin(session: Session, obj: R) -> R:
    """Keep ``obj`` referenced until the session ends (see ``pinned_get``)."""
    session.info.setdefault(_PINS, {})[(type(obj), obj.id)] = obj
    return obj


def office_day(session: Session) -> dt.date:
    """Today in the office's time zone (read once per session, like the settings)."""
    cache = session.info.setdefault(_SETTINGS, {})
    cached = cache.get("#today")
    if isinstance(cached, dt.date):
        return cached
    today = cache["#today"] = office_today(str(setting(session, "office.timezone")))
    return today


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class PayerView:
    id: int
    name: str
    kind: PayerKind
    terms_days: int
    payer_ref: str
    address: str
    phone: str
    email: str
    active: bool
    crosswalk_entries: int


@dataclass(frozen=True)
class CodeView:
    id: int
    code: str
    description: str
    fee: Decimal
    active: bool


@dataclass(frozen=True)
class CodePage:
    rows: tuple[CodeView, ...]
    next_after: str | None  # pass back as ``after`` for the next page


@dataclass(frozen=True)
class CrosswalkEntry:
    id: int
    payer_id: int
    code: str  # the standard code
    description: str
    fee: Decimal  # the catalog fee, for comparison
    payer_code: str  # what the payer calls it
    allowed_amount: Decimal | None  # per unit; None = the catalog fee


@dataclass(frozen=True)
class Price:
    """How one unit of a standard code is billed to a party."""

    code: str  # as the party knows it
    unit_price: Decimal
    source: str  # "allowed" (payer's allowed amount) or "fee" (catalog fee)
    mapped: bool  # the payer has a crosswalk entry for this code
    payer_requires_mapping: bool  # the payer has crosswalk entries at all


def _payer_view(p: Payer, entries: int) -> PayerView:
    return PayerView(
        id=p.id,
        name=p.name,
        kind=p.kind,
        terms_days=p.terms_days,
        payer_ref=p.payer_ref,
        address=p.address,
        phone=p.phone,
        email=p.email,
        active=p.active,
        crosswalk_entries=entries,
    )


def _code_view(c: ServiceCode) -> CodeView:
    return CodeView(id=c.id, code=c.code, description=c.description, fee=c.fee, active=c.active)


# --------------------------------------------------------------------------- validation helpers


def parse_money(
    value: Decimal | int | str, field: str, errors: dict[str, str], *, allow_none: bool = False
) -> Decimal | None:
    """Money from a form or CSV cell; records why in ``errors`` instead of raising."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        errors[field] = "is required"
        return None
    try:
        amount = to_money(value)
    except (ValueError, TypeError):
        errors[field] = f"{value!r} is not an amount (e.g. 12.50)"
        return None
    if amount < 0:
        errors[field] = "must not be negative"
        return None
    if amount > MAX_FEE:
        errors[field] = f"is more than {MAX_FEE:,}"
        return None
    return amount


def normalize_code(code: str) -> str:
    return code.strip().upper()


def _check_code(code: str, errors: dict[str, str]) -> None:
    if not CODE_RE.match(code):
        errors["code"] = "must be 1-16 letters, digits, '.' or '-' (e.g. G0008)"


def _check_text(value: str, field: str, limit: int, errors: dict[str, str], *, required: bool) -> None:
    if required and not value.strip():
        errors[field] = "is required"
    elif len(value) > limit:
        errors[field] = f"is longer than {limit} characters"
    elif has_control_chars(value, allow="\n\t"):
        errors[field] = "has control characters"


# --------------------------------------------------------------------------- payers


def get_payer_row(session: Session, payer_id: int) -> Payer:
    payer = pinned_get(session, Payer, payer_id)
    if payer is None:
        raise NotFound(f"no payer with id {payer_id}")
    return payer


def find_payer(session: Session, name: str) -> Payer:
    """A payer by exact name, or by name ignoring case when that names exactly one."""
    payer = session.scalars(sa.select(Payer).where(Payer.name == name.strip())).one_or_none()
    if payer is None:
        rows = session.scalars(
            sa.select(Payer).where(sa.func.lower(Payer.name) == name.strip().lower())
        ).all()
        if len(rows) != 1:
            raise NotFound(f"no payer named {name!r}")
        payer = rows[0]
    return payer


def _entry_count(session: Session, payer_id: int) -> int:
    return session.scalar(sa.select(sa.func.count()).where(PayerCode.payer_id == payer_id)) or 0


def _validate_payer(
    name: str | None,
    kind: PayerKind | str | None,
    terms_days: int | None,
    email: str | None,
    errors: dict[str, str],
) -> PayerKind | None:
    if name is not None:
        _check_text(name, "name", 120, errors, required=True)
    parsed: PayerKind | None = None
    if kind is not None:
        try:
            parsed = PayerKind(kind)
        except ValueError:
            errors["kind"] = "must be one of " + ", ".join(k.value for k in PayerKind)
    if terms_days is not None and not (0 <= terms_days <= 365):
        errors["terms_days"] = "payment terms must be 0 to 365 days"
    if email and not EMAIL_RE.match(email):
        errors["email"] = "is not an e-mail address"
    return parsed


def add_payer(
    actor: Actor,
    session: Session,
    *,
    name: str,
    kind: PayerKind | str,
    terms_days: int = 30,
    payer_ref: str = "",
    address: str = "",
    phone: str = "",
    email: str = "",
) -> PayerView:
    require(actor, Action.CATALOG_EDIT)
    errors: dict[str, str] = {}
    parsed = _validate_payer(name, kind, terms_days, email, errors)
    _check_text(payer_ref, "payer_ref", 40, errors, required=False)
    _check_text(address, "address", 300, errors, required=False)
    _check_text(phone, "phone", 40, errors, required=False)
    if errors:
        raise ValidationError.from_fields(errors)
    assert parsed is not None
    if session.scalar(sa.select(Payer.id).where(sa.func.lower(Payer.name) == name.strip().lower())):
        raise ConflictError(f"a payer named {name.strip()!r} already exists")
    payer = Payer(
        name=name.strip(),
        kind=parsed,
        terms_days=terms_days,
        payer_ref=payer_ref.strip(),
        address=address.strip(),
        phone=phone.strip(),
        email=email.strip(),
    )
    session.add(payer)
    session.flush()
    audit.record(session, actor, "payer", payer.id, "create", None, audit.snapshot(payer, PAYER_FIELDS))
    return _payer_view(payer, 0)


def edit_payer(
    actor: Actor,
    session: Session,
    payer_id: int,
    *,
    name: str | None = None,
    kind: PayerKind | str | None = None,
    terms_days: int | None = None,
    payer_ref: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    active: bool | None = None,
) -> PayerView:
    """Change a payer. New terms apply to invoices issued from now on (issued ones keep theirs)."""
    require(actor, Action.CATALOG_EDIT)
    payer = get_payer_row(session, payer_id)
    errors: dict[str, str] = {}
    parsed = _validate_payer(name, kind, terms_days, email, errors)
    for value, field, limit in (
        (payer_ref, "payer_ref", 40),
        (address, "address", 300),
        (phone, "phone", 40),
    ):
        if value is not None:
            _check_text(value, field, limit, errors, required=False)
    if errors:
        raise ValidationError.from_fields(errors)
    if name is not None and name.strip().lower() != payer.name.lower():
        clash = session.scalar(
            sa.select(Payer.id).where(sa.func.lower(Payer.name) == name.strip().lower(), Payer.id != payer.id)
        )
        if clash:
            raise ConflictError(f"a payer named {name.strip()!r} already exists")
    before = audit.snapshot(payer, PAYER_FIELDS)
    if name is not None:
        payer.name = name.strip()
    if parsed is not None:
        payer.kind = parsed
    if terms_days is not None:
        payer.terms_days = terms_days
    for field, value in (("payer_ref", payer_ref), ("address", address), ("phone", phone), ("email", email)):
        if value is not None:
            setattr(payer, field, value.strip())
    if active is not None:
        payer.active = active
    session.flush()
    after = audit.snapshot(payer, PAYER_FIELDS)
    if after != before:
        audit.record(session, actor, "payer", payer.id, "update", before, after)
    return _payer_view(payer, _entry_count(session, payer.id))


def get_payer(actor: Actor, session: Session, payer_id: int) -> PayerView:
    require(actor, Action.VIEW)
    payer = get_payer_row(session, payer_id)
    return _payer_view(payer, _entry_count(session, payer.id))


def list_payers(
    actor: Actor, session: Session, *, kind: PayerKind | str | None = None, include_inactive: bool = False
) -> tuple[PayerView, ...]:
    """Payers by kind then name (an office has dozens, not thousands: no paging needed)."""
    require(actor, Action.VIEW)
    counts = sa.select(PayerCode.payer_id, sa.func.count().label("n")).group_by(PayerCode.payer_id).subquery()
    stmt = (
        sa.select(Payer, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.payer_id == Payer.id)
        .order_by(Payer.kind, Payer.name)
    )
    if kind is not None:
        stmt = stmt.where(Payer.kind == PayerKind(kind))
    if not include_inactive:
        stmt = stmt.where(Payer.active.is_(True))
    return tuple(_payer_view(p, n) for p, n in session.execute(stmt))


# --------------------------------------------------------------------------- service codes


def get_code_row(session: Session, code: str) -> ServiceCode:
    row = session.scalars(
        sa.select(ServiceCode).where(ServiceCode.code == normalize_code(code))
    ).one_or_none()
    if row is None:
        raise NotFound(f"no service code {code.strip()!r} in the catalog")
    return pin(session, row)


def validate_code_fields(
    code: str | None, description: str | None, fee: Decimal | int | str | None, errors: dict[str, str]
) -> Decimal | None:
    if code is not None:
        _check_code(normalize_code(code), errors)
    if description is not None:
        _check_text(description, "description", 300, errors, required=True)
    return parse_money(fee, "fee", errors) if fee is not None else None


def add_code(
    actor: Actor, session: Session, *, code: str, description: str, fee: Decimal | int | str
) -> CodeView:
    require(actor, Action.CATALOG_EDIT)
    errors: dict[str, str] = {}
    amount = validate_code_fields(code, description, fee, errors)
    if errors:
        raise ValidationError.from_fields(errors)
    assert amount is not None
    code = normalize_code(code)
    if session.scalar(sa.select(ServiceCode.id).where(ServiceCode.code == code)):
        raise ConflictError(f"code {code} is already in the catalog")
    row = ServiceCode(code=code, description=description.strip(), fee=amount, active=True)
    session.add(row)
    session.flush()
    audit.record(session, actor, "service_code", row.id, "create", None, audit.snapshot(row, CODE_FIELDS))
    return _code_view(row)


def edit_code(
    actor: Actor,
    session: Session,
    code: str,
    *,
    description: str | None = None,
    fee: Decimal | int | str | None = None,
    active: bool | None = None,
) -> CodeView:
    """Change a code's description, fee or active flag. Drafts keep the price they were built with."""
    require(actor, Action.CATALOG_EDIT)
    row = get_code_row(session, code)
    errors: dict[str, str] = {}
    amount = validate_code_fields(None, description, fee, errors)
    if errors:
        raise ValidationError.from_fields(errors)
    before = audit.snapshot(row, CODE_FIELDS)
    if description is not None:
        row.description = description.strip()
    if amount is not None:
        row.fee = amount
    if active is not None:
        row.active = active
    session.flush()
    after = audit.snapshot(row, CODE_FIELDS)
    if after != before:
        audit.record(session, actor, "service_code", row.id, "update", before, after)
    return _code_view(row)


def get_code(actor: Actor, session: Session, code: str) -> CodeView:
    require(actor, Action.VIEW)
    return _code_view(get_code_row(session, code))


def list_codes(
    actor: Actor,
    session: Session,
    *,
    prefix: str = "",
    after: str | None = None,
    limit: int = 100,
    include_inactive: bool = False,
) -> CodePage:
    """Codes in code order, filtered by a typed prefix, paged by key (``after`` = last code)."""
    require(actor, Action.VIEW)
    limit = max(1, min(limit, 1000))
    stmt = sa.select(ServiceCode).order_by(ServiceCode.code).limit(limit + 1)
    p = normalize_code(prefix)
    if p:
        # Codes are [A-Z0-9.-]: a plain range is an exact prefix match in any collation.
        stmt = stmt.where(ServiceCode.code >= p, ServiceCode.code < p + "\U0010ffff")
    if after is not None:
        stmt = stmt.where(ServiceCode.code > after)
    if not include_inactive:
        stmt = stmt.where(ServiceCode.active.is_(True))
    rows = session.scalars(stmt).all()
    views = tuple(_code_view(r) for r in rows[:limit])
    return CodePage(views, views[-1].code if len(rows) > limit else None)


# --------------------------------------------------------------------------- crosswalk


def _entry(pc: PayerCode, sc: ServiceCode) -> CrosswalkEntry:
    return CrosswalkEntry(
        id=pc.id,
        payer_id=pc.payer_id,
        code=sc.code,
        description=sc.description,
        fee=sc.fee,
        payer_code=pc.payer_code,
        allowed_amount=pc.allowed_amount,
    )


def set_crosswalk(
    actor: Actor,
    session: Session,
    payer_id: int,
    code: str,
    *,
    payer_code: str | None = None,
    allowed_amount: Decimal | int | str | None = None,
) -> CrosswalkEntry:
    """Add or change the payer's entry for a standard code (payer's code defaults to the standard one)."""
    require(actor, Action.CATALOG_EDIT)
    payer = get_payer_row(session, payer_id)
    sc = get_code_row(session, code)
    errors: dict[str, str] = {}
    pcode = (payer_code or "").strip() or sc.code
    if not PAYER_CODE_RE.match(pcode):
        errors["payer_code"] = "must be 1-24 letters, digits or . : / -"
    allowed = (
        parse_money(allowed_amount, "allowed_amount", errors, allow_none=True)
        if allowed_amount is not None
        else None
    )
    if errors:
        raise ValidationError.from_fields(errors)
    pc = session.scalars(
        sa.select(PayerCode).where(PayerCode.payer_id == payer.id, PayerCode.service_code_id == sc.id)
    ).one_or_none()
    fields = ("payer_id", "service_code_id", "payer_code", "allowed_amount")
    if pc is None:
        pc = PayerCode(payer_id=payer.id, service_code_id=sc.id, payer_code=pcode, allowed_amount=allowed)
        session.add(pc)
        session.flush()
        audit.record(session, actor, "payer_code", pc.id, "create", None, audit.snapshot(pc, fields))
    else:
        before = audit.snapshot(pc, fields)
        pc.payer_code = pcode
        pc.allowed_amount = allowed
        session.flush()
        after = audit.snapshot(pc, fields)
        if after != before:
            audit.record(session, actor, "payer_code", pc.id, "update", before, after)
    return _entry(pc, sc)


def remove_crosswalk(actor: Actor, session: Session, payer_id: int, code: str) -> None:
    """Remove an entry. Issued invoices keep the code they were billed with."""
    require(actor, Action.CATALOG_EDIT)
    sc = get_code_row(session, code)
    pc = session.scalars(
        sa.select(PayerCode).where(PayerCode.payer_id == payer_id, PayerCode.service_code_id == sc.id)
    ).one_or_none()
    if pc is None:
        raise NotFound(f"payer {payer_id} has no crosswalk entry for {sc.code}")
    before = audit.snapshot(pc, ("payer_id", "service_code_id", "payer_code", "allowed_amount"))
    session.delete(pc)
    session.flush()
    audit.record(session, actor, "payer_code", pc.id, "delete", before, None)


def list_crosswalk(actor: Actor, session: Session, payer_id: int) -> tuple[CrosswalkEntry, ...]:
    require(actor, Action.VIEW)
    get_payer_row(session, payer_id)
    rows = session.execute(
        sa.select(PayerCode, ServiceCode)
        .join(ServiceCode, ServiceCode.id == PayerCode.service_code_id)
        .where(PayerCode.payer_id == payer_id)
        .order_by(ServiceCode.code)
    ).all()
    return tuple(_entry(pc, sc) for pc, sc in rows)


def price_for(session: Session, payer_id: int | None, service_code: ServiceCode) -> Price:
    """The code and unit price a party is billed: the payer's entry, else the catalog fee."""
    if payer_id is None:
        return Price(service_code.code, service_code.fee, "fee", False, False)
    pc = session.scalars(
        sa.select(PayerCode).where(
            PayerCode.payer_id == payer_id, PayerCode.service_code_id == service_code.id
        )
    ).one_or_none()
    if pc is None:
        requires = _entry_count(session, payer_id) > 0
        return Price(service_code.code, service_code.fee, "fee", False, requires)
    if pc.allowed_amount is not None:
        return Price(pc.payer_code, pc.allowed_amount, "allowed", True, True)
    return Price(pc.payer_code, service_code.fee, "fee", True, True)
