"""Collection agencies (docs/collections.md): agencies, placements, agency payments, recall, the file.

* Agencies have a fee percent (basis points: 3000 = 30.00 %); supervisors keep them
  (``Action.AGENCY_PLACE``).
* Placing an account records the balance placed (the client's own open balance, disputed items
  included) and the agency's fee percent at that moment, sets the client's status to
  ``in_collections``; the account then leaves internal dunning and the collections worklist.
  One active placement per account.
* An agency payment is what the agency collected (gross). It is posted through
  ``billing.payments.post_payment`` as the net the agency remits (method ``agency``, linked to
  the placement) and the agency's fee (gross × fee percent, rounded half up to the cent) is
  booked as an ``agency_fee`` adjustment on the same open items, oldest first, so the client's
  balance goes down by the gross amount and the office's cash by the net.
* Recall ends the placement; the account is back in dunning and work lists (status
  ``delinquent`` when it still owes past due, else ``active``).
* The placement file is CSV, one row per placement: account, name, date of birth, address,
  phone, email, placed date and balance placed, then the open items itemized
  (``number:due date:balance`` joined by ``;``). Written to a path the user gives; an existing
  file is never overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, payments
from billing._inputs import check_amount, check_text
from billing.adjustments import book_adjustment
from billing.catalog import office_day
from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    Adjustment,
    AdjustmentKind,
    Agency,
    Client,
    ClientStatus,
    Invoice,
    PayerSide,
    Payment,
    PaymentMethod,
    Placement,
    PlacementStatus,
    User,
    name_search_key,
)
from db.money import CENT, ZERO
from db.rights import Action, Actor, require

MAX_PLACE = 500
_FEE_RE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?\s*%?$")

PLACEMENT_FILE_COLUMNS: tuple[str, ...] = (
    "account_number",
    "last_name",
    "first_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "phone",
    "email",
    "placed_on",
    "balance_placed",
    "balance_now",
    "items",
)


@dataclass(frozen=True)
class AgencyView:
    id: int
    name: str
    fee_bp: int
    contact: str
    active: bool
    active_placements: int

    @property
    def fee_percent(self) -> str:
        return f"{self.fee_bp // 100}.{self.fee_bp % 100:02d} %"


@dataclass(frozen=True)
class PlacementView:
    id: int
    client_id: int
    account_number: str
    client_name: str
    agency_id: int
    agency_name: str
    placed_on: dt.date
    fee_bp: int
    balance_placed: Decimal
    balance_now: Decimal  # the client's own open balance today
    collected: Decimal  # gross collected by the agency on this placement so far
    fees: Decimal  # agency fees booked on it
    status: PlacementStatus
    recalled_on: dt.date | None
    recall_reason: str
    placed_by_login: str


@dataclass(frozen=True)
class PlacementKey:
    """Keyset cursor of ``list_placements``: newest first by (placed_on, id)."""

    placed_on: dt.date
    id: int


@dataclass(frozen=True)
class PlacementPage:
    rows: tuple[PlacementView, ...]
    next_after: PlacementKey | None


@dataclass(frozen=True)
class AgencyPaymentResult:
    placement: PlacementView
    payment_id: int
    gross: Decimal
    fee: Decimal
    net: Decimal  # the payment posted
    duplicate: bool  # the key was posted before; nothing changed


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int


def _agency_view(session: Session, a: Agency) -> AgencyView:
    n = session.scalar(
        sa.select(sa.func.count()).where(
            Placement.agency_id == a.id, Placement.status == PlacementStatus.ACTIVE
        )
    )
    return AgencyView(a.id, a.name, a.fee_bp, a.contact, a.active, int(n or 0))


def _fee_tag(placement_id: int) -> str:
    return f"placement #{placement_id}: "


def _placement_view(session: Session, p: Placement) -> PlacementView:
    client = session.get(Client, p.client_id)
    agency = session.get(Agency, p.agency_id)
    assert client is not None and agency is not None
    net_ = _payments_sum(session, p.id)
    fees_ = _fees_sum(session, p.id)
    login = session.scalar(sa.select(User.login).where(User.id == p.placed_by)) or ""
    return PlacementView(
        p.id,
        p.client_id,
        client.account_number,
        client.display_name,
        p.agency_id,
        agency.name,
        p.placed_on,
        p.fee_bp,
        p.balance_placed,
        ledger.client_balance(session, p.client_id),
        net_ + fees_,
        fees_,
        p.status,
        p.recalled_on,
        p.recall_reason,
        login,
    )


def _payments_sum(session: Session, placement_id: int) -> Decimal:
    rows = session.scalars(sa.select(Payment.amount).where(Payment.placement_id == placement_id)).all()
    return sum(rows, ZERO)


def _fees_sum(session: Session, placement_id: int) -> Decimal:
    rows = session.scalars(
        sa.select(Adjustment.amount).where(
            Adjustment.kind == AdjustmentKind.AGENCY_FEE, Adjustment.reason.startswith(_fee_tag(placement_id))
        )
    ).all()
    return sum(rows, ZERO)


def list_agencies(
    actor: Actor, session: Session, *, include_inactive: bool = False
) -> tuple[AgencyView, ...]:
    """Agencies by name."""
    require(actor, Action.VIEW)
    stmt = sa.select(Agency).order_by(Agency.name)
    if not include_inactive:
        stmt = stmt.where(Agency.active.is_(True))
    return tuple(_agency_view(session, a) for a in session.scalars(stmt))


def parse_fee_percent(text: str | int) -> int:
    """ "30" / "30.5" / "30.25 %" → basis points; ValidationError on anything else or out of 0–100."""
    if isinstance(text, bool):
        raise ValidationError.from_fields({"fee": "must be a percent from 0 to 100"})
    if isinstance(text, int):
        bp = text
    else:
        m = _FEE_RE.match(str(text).strip())
        if m is None:
            raise ValidationError.from_fields(
                {"fee": f"{str(text).strip()!r} is not a percent; write e.g. 30 or 27.5"}
            )
        bp = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if not 0 <= bp <= 10000:
        raise ValidationError.from_fields({"fee": "must be a percent from 0 to 100"})
    return bp


def add_agency(
    actor: Actor, session: Session, *, name: str, fee_bp: int | str, contact: str = ""
) -> AgencyView:
    """A new agency (supervisors). ``fee_bp`` may be given as "30" or "30.5 %" text too (percent)."""
    require(actor, Action.AGENCY_PLACE)
    errors: dict[str, str] = {}
    name_ = check_text(name, "name", 120, errors, required=True)
    contact_ = check_text(contact, "contact", 300, errors, required=False)
    try:
        bp = parse_fee_percent(fee_bp)
    except ValidationError as e:
        errors.update(e.fields)
        bp = 0
    if errors:
        raise ValidationError.from_fields(errors)
    if session.scalar(sa.select(Agency.id).where(sa.func.lower(Agency.name) == name_.lower())):
        raise ConflictError(f"an agency named {name_!r} exists already")
    a = Agency(name=name_, fee_bp=bp, contact=contact_, active=True)
    session.add(a)
    session.flush()
    audit.record(
        session, actor, "agency", a.id, "create", None, {"name": name_, "fee_bp": bp, "contact": contact_}
    )
    return _agency_view(session, a)


def edit_agency(
    actor: Actor,
    session: Session,
    agency_id: int,
    *,
    fee_bp: int | str | None = None,
    contact: str | None = None,
    active: bool | None = None,
) -> AgencyView:
    """Change an agency (supervisors). Placements keep the fee percent they were made with."""
    require(actor, Action.AGENCY_PLACE)
    a = session.get(Agency, agency_id)
    if a is None:
        raise NotFound(f"no agency #{agency_id}")
    errors: dict[str, str] = {}
    before = {"fee_bp": a.fee_bp, "contact": a.contact, "active": a.active}
    if fee_bp is not None:
        try:
            a.fee_bp = parse_fee_percent(fee_bp)
        except ValidationError as e:
            errors.update(e.fields)
    if contact is not None:
        a.contact = check_text(contact, "contact", 300, errors, required=False)
    if errors:
        raise ValidationError.from_fields(errors)
    if active is not None:
        a.active = bool(active)
    session.flush()
    audit.record(
        session,
        actor,
        "agency",
        a.id,
        "edit",
        before,
        {"fee_bp": a.fee_bp, "contact": a.contact, "active": a.active},
    )
    return _agency_view(session, a)


def _active(session: Session, client_id: int) -> Placement | None:
    return session.scalars(
        sa.select(Placement).where(
            Placement.client_id == client_id, Placement.status == PlacementStatus.ACTIVE
        )
    ).first()


def place_accounts(
    actor: Actor, session: Session, *, agency_id: int, client_ids: list[int] | tuple[int, ...]
) -> tuple[PlacementView, ...]:
    """Place accounts with an agency (supervisors, ``Action.AGENCY_PLACE``). Refuses (and places
    none) when an account owes nothing on its own bills or is placed already."""
    require(actor, Action.AGENCY_PLACE)
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no agency #{agency_id}")
    if not agency.active:
        raise ValidationError.from_fields({"agency": f"{agency.name} is not active"})
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        raise ValidationError.from_fields({"accounts": "choose at least one account"})
    if len(ids) > MAX_PLACE:
        raise ValidationError.from_fields({"accounts": f"at most {MAX_PLACE} accounts at a time"})
    errors: dict[str, str] = {}
    clients: list[tuple[Client, Decimal]] = []
    for cid in ids:
        client = session.scalars(
            ledger.for_update(session, sa.select(Client).where(Client.id == cid))
        ).one_or_none()
        if client is None:
            errors[f"account {cid}"] = "does not exist"
            continue
        if _active(session, cid) is not None:
            errors[client.account_number] = "is placed with an agency already"
            continue
        bal = ledger.client_balance(session, cid, include_disputed=True)
        if bal <= 0:
            errors[client.account_number] = "owes nothing on its own bills"
            continue
        clients.append((client, bal))
    if errors:
        raise ValidationError.from_fields(errors)
    today = office_day(session)
    out: list[PlacementView] = []
    for client, bal in clients:
        p = Placement(
            client_id=client.id,
            agency_id=agency.id,
            placed_on=today,
            fee_bp=agency.fee_bp,
            balance_placed=bal,
            placed_by=actor.user_id,
        )
        session.add(p)
        before_status = client.status
        client.status = ClientStatus.IN_COLLECTIONS
        session.flush()
        audit.record(
            session,
            actor,
            "placement",
            p.id,
            "place",
            {"client_status": before_status},
            {
                "client_id": client.id,
                "agency": agency.name,
                "fee_bp": agency.fee_bp,
                "balance_placed": bal,
                "client_status": client.status,
            },
        )
        out.append(_placement_view(session, p))
    return tuple(out)


def _fee_of(gross: Decimal, fee_bp: int) -> Decimal:
    return (gross * fee_bp / Decimal(10000)).quantize(CENT, rounding=ROUND_HALF_UP)


def record_agency_payment(
    actor: Actor,
    session: Session,
    *,
    placement_id: int,
    gross: Decimal | str,
    received_on: dt.date,
    idempotency_key: str,
    reference: str = "",
) -> AgencyPaymentResult:
    """Post what the agency collected: net payment plus the fee as an adjustment
    (``Action.PAYMENT_POST``). The gross may not exceed the account's open balance."""
    require(actor, Action.PAYMENT_POST)
    p = session.scalars(
        ledger.for_update(session, sa.select(Placement).where(Placement.id == placement_id))
    ).one_or_none()
    if p is None:
        raise NotFound(f"no placement #{placement_id}")
    errors: dict[str, str] = {}
    value = check_amount(gross, "gross", errors)
    if errors:
        raise ValidationError.from_fields(errors)
    assert value is not None
    existing = session.scalar(sa.select(Payment).where(Payment.idempotency_key == idempotency_key.strip()))
    if existing is not None:
        if existing.placement_id != p.id:
            raise ConflictError(f"key {idempotency_key!r} was used for another payment")
        fee = value - existing.amount
        return AgencyPaymentResult(
            _placement_view(session, p), existing.id, value, fee, existing.amount, True
        )
    if p.status != PlacementStatus.ACTIVE:
        raise ValidationError.from_fields(
            {"placement": f"is {p.status.value}; post the money as a client payment"}
        )
    fee = _fee_of(value, p.fee_bp)
    net = value - fee
    open_bal = ledger.client_balance(session, p.client_id, include_disputed=False)
    if value > open_bal:
        errors["gross"] = f"is more than the account's open balance {open_bal} (disputed items left out)"
    if net <= 0:
        errors["gross"] = "the agency's fee takes all of it; nothing to post"
    if errors:
        raise ValidationError.from_fields(errors)
    result = payments.post_payment(
        actor,
        session,
        side=PayerSide.CLIENT,
        client_id=p.client_id,
        amount=net,
        method=PaymentMethod.AGENCY,
        received_on=received_on,
        idempotency_key=idempotency_key,
        reference=reference,
        placement_id=p.id,
    )
    left = fee
    agency = session.get(Agency, p.agency_id)
    assert agency is not None
    stmt = ledger.open_invoices(PayerSide.CLIENT, client_id=p.client_id)
    for inv in session.scalars(ledger.for_update(session, stmt)).all():
        if left <= 0:
            break
        take = min(left, inv.balance)
        book_adjustment(
            actor,
            session,
            inv,
            kind=AdjustmentKind.AGENCY_FEE,
            amount=take,
            reason=f"{_fee_tag(p.id)}agency fee {p.fee_bp / 100:.2f} % to {agency.name} on {value} collected",
        )
        left -= take
    assert left == 0, "the fee fits: gross was checked against the open balance"
    audit.record(
        session,
        actor,
        "placement",
        p.id,
        "agency_payment",
        None,
        {"gross": value, "fee": fee, "net": net, "payment_id": result.payment.id},
    )
    return AgencyPaymentResult(_placement_view(session, p), result.payment.id, value, fee, net, False)


def recall_placement(actor: Actor, session: Session, placement_id: int, *, reason: str) -> PlacementView:
    """Bring an account back from the agency (supervisors, reason required)."""
    require(actor, Action.AGENCY_PLACE)
    p = session.scalars(
        ledger.for_update(session, sa.select(Placement).where(Placement.id == placement_id))
    ).one_or_none()
    if p is None:
        raise NotFound(f"no placement #{placement_id}")
    errors: dict[str, str] = {}
    text = check_text(reason, "reason", 500, errors, required=True)
    if p.status != PlacementStatus.ACTIVE:
        errors["placement"] = f"is {p.status.value} already"
    if errors:
        raise ValidationError.from_fields(errors)
    client = session.get(Client, p.client_id)
    assert client is not None
    today = office_day(session)
    p.status = PlacementStatus.RECALLED
    p.recalled_on = today
    p.recalled_by = actor.user_id
    p.recall_reason = text
    overdue = session.scalar(
        sa.select(sa.func.count()).select_from(
            ledger.open_invoices(PayerSide.CLIENT, client_id=client.id, include_disputed=True)
            .where(Invoice.due_date < today)
            .order_by(None)
            .subquery()
        )
    )
    before_status = client.status
    client.status = ClientStatus.DELINQUENT if overdue else ClientStatus.ACTIVE
    session.flush()
    audit.record(
        session,
        actor,
        "placement",
        p.id,
        "recall",
        {"client_status": before_status},
        {"reason": text, "client_status": client.status},
    )
    return _placement_view(session, p)


def get_placement(actor: Actor, session: Session, placement_id: int) -> PlacementView:
    require(actor, Action.VIEW)
    p = session.get(Placement, placement_id)
    if p is None:
        raise NotFound(f"no placement #{placement_id}")
    return _placement_view(session, p)


def active_placement(actor: Actor, session: Session, client_id: int) -> PlacementView | None:
    """The account's active placement, if any."""
    require(actor, Action.VIEW)
    p = _active(session, client_id)
    return _placement_view(session, p) if p is not None else None


def list_placements(
    actor: Actor,
    session: Session,
    *,
    agency_id: int | None = None,
    status: PlacementStatus | str | None = PlacementStatus.ACTIVE,
    after: PlacementKey | None = None,
    limit: int = 50,
    filter_text: str = "",
) -> PlacementPage:
    """Placements newest first, one page; ``status=None`` lists every status."""
    require(actor, Action.VIEW)
    limit = max(1, min(int(limit), 500))
    stmt = sa.select(Placement).join(Client, Client.id == Placement.client_id)
    if agency_id is not None:
        stmt = stmt.where(Placement.agency_id == agency_id)
    if status is not None:
        try:
            stmt = stmt.where(Placement.status == PlacementStatus(status))
        except ValueError:
            raise ValidationError.from_fields(
                {"status": "must be one of " + ", ".join(x.value for x in PlacementStatus)}
            ) from None
    text = filter_text.strip()
    if text:
        stmt = stmt.where(
            sa.or_(
                Client.account_number.startswith(text, autoescape=True),
                Client.search_name.startswith(name_search_key(text, ""), autoescape=True),
            )
        )
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                Placement.placed_on < after.placed_on,
                sa.and_(Placement.placed_on == after.placed_on, Placement.id < after.id),
            )
        )
    rows = session.scalars(
        stmt.order_by(Placement.placed_on.desc(), Placement.id.desc()).limit(limit + 1)
    ).all()
    views = tuple(_placement_view(session, p) for p in rows[:limit])
    nxt = PlacementKey(views[-1].placed_on, views[-1].id) if len(rows) > limit else None
    return PlacementPage(views, nxt)


def _cell(value: Any) -> str:
    """CSV cell: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if text[:1] in ("=", "+", "-", "@", "\t"):
        text = "'" + text
    return text


def export_placement_file(
    actor: Actor,
    session: Session,
    *,
    path: Path | str,
    placement_ids: list[int] | tuple[int, ...] | None = None,
    agency_id: int | None = None,
) -> ExportResult:
    """Write the placement file for the given placements (or every active placement of the
    agency). Refuses an existing file (ConflictError) and a missing folder (ValidationError)."""
    require(actor, Action.AGENCY_PLACE)
    target = Path(path).expanduser()
    if target.exists():
        raise ConflictError(f"{target} exists already; choose a new file name")
    if not target.parent.is_dir():
        raise ValidationError.from_fields({"path": f"folder {target.parent} does not exist"})
    stmt = sa.select(Placement).join(Client, Client.id == Placement.client_id).order_by(Client.account_number)
    if placement_ids is not None:
        stmt = stmt.where(Placement.id.in_(list(placement_ids)))
    elif agency_id is not None:
        stmt = stmt.where(Placement.agency_id == agency_id, Placement.status == PlacementStatus.ACTIVE)
    else:
        raise ValidationError.from_fields({"placements": "name the placements or the agency"})
    rows = session.scalars(stmt).all()
    if not rows:
        raise ValidationError.from_fields({"placements": "nothing to export"})
    lines: list[list[str]] = []
    for p in rows:
        c = session.get(Client, p.client_id)
        assert c is not None
        items = session.scalars(
            ledger.open_invoices(PayerSide.CLIENT, client_id=c.id, include_disputed=True)
        ).all()
        lines.append(
            [
                _cell(v)
                for v in (
                    c.account_number,
                    c.last_name,
                    c.first_name,
                    c.date_of_birth,
                    c.address_line1,
                    c.address_line2,
                    c.city,
                    c.region,
                    c.postal_code,
                    c.phone,
                    c.email,
                    p.placed_on,
                    p.balance_placed,
                    sum((i.balance for i in items), ZERO),
                    ";".join(f"{i.number}:{i.due_date}:{i.balance}" for i in items),
                )
            ]
        )
    try:
        # O_EXCL: never overwrite; 0600: contact data and balances are for the office only.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(PLACEMENT_FILE_COLUMNS)
            writer.writerows(lines)
    except FileExistsError:
        raise ConflictError(f"{target} exists already; choose a new file name") from None
    except OSError as e:
        raise ValidationError.from_fields({"path": f"cannot write {target}: {e.strerror}"}) from None
    audit.record(
        session,
        actor,
        "placement_file",
        str(rows[0].agency_id),  # entity_id is short (40): the file name goes in "after"
        "export",
        None,
        {"path": str(target), "placements": [p.id for p in rows]},
    )
    return ExportResult(target, len(lines))
