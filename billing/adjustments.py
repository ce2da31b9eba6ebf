"""Adjustments and write-offs with reason codes (docs/collections.md).

* Reason codes are data (``AdjustmentReason``: code, description, kind waive / write_off /
  contractual / correction / agency_fee, active), kept by supervisors (``Action.ADJUST``).
* ``adjust_invoice`` (supervisors, ``Action.ADJUST``) lowers an open charge by an amount with
  a reason code of a non-write-off kind and a note; ``write_off`` (supervisors,
  ``Action.WRITE_OFF``) writes off all or part of a balance with a write-off code; an invoice
  written off in full gets status ``written_off``. Neither may exceed the balance.
* Every adjustment is an ``Adjustment`` row (amount positive = less owed) and an audit entry;
  ``client_adjustments`` lists them on the account.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing._inputs import check_amount, check_text
from billing.invoices import get_invoice_row
from billing.ledger import OPEN_STATUSES, PAYABLE_KINDS
from db import audit
from db.errors import ValidationError
from db.models import Adjustment, AdjustmentKind, AdjustmentReason, Invoice, InvoiceStatus, User
from db.rights import Action, Actor, require

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,16}$")


@dataclass(frozen=True)
class ReasonCodeView:
    id: int
    code: str
    description: str
    kind: AdjustmentKind
    active: bool


@dataclass(frozen=True)
class AdjustmentView:
    id: int
    invoice_id: int
    invoice_number: str
    kind: AdjustmentKind
    amount: Decimal
    reason_code: str  # "" for adjustments booked by other services (credit notes, agency fees)
    reason: str
    dispute_id: int | None
    made_by_login: str
    created_at: dt.datetime
    balance_after: Decimal  # the invoice's balance now (for the result of a new adjustment)


def _code_view(r: AdjustmentReason) -> ReasonCodeView:
    return ReasonCodeView(r.id, r.code, r.description, r.kind, r.active)


def _label(inv: Invoice) -> str:
    return inv.number or f"draft #{inv.id}"


def book_adjustment(
    actor: Actor,
    session: Session,
    inv: Invoice,
    *,
    kind: AdjustmentKind,
    amount: Decimal,
    reason: str,
    reason_code: str | None = None,
    dispute_id: int | None = None,
) -> Adjustment:
    """Book an adjustment on a locked open charge (the caller checked the right and the amount):
    the row, the invoice's figures and status, and the audit entry."""
    if inv.status not in OPEN_STATUSES or inv.kind not in PAYABLE_KINDS:
        raise ValidationError.from_fields(
            {
                "invoice": f"{_label(inv)} is {inv.status.value.replace('_', ' ')}; only open charges can be adjusted"
            }
        )
    if amount <= 0 or amount > inv.balance:
        raise ValidationError.from_fields(
            {"amount": f"must be more than zero and at most the balance {inv.balance} of {_label(inv)}"}
        )
    before = {"amount_adjusted": inv.amount_adjusted, "status": inv.status}
    adj = Adjustment(
        invoice_id=inv.id,
        kind=kind,
        amount=amount,
        reason=reason,
        reason_code=reason_code,
        dispute_id=dispute_id,
        made_by=actor.user_id,
    )
    session.add(adj)
    inv.amount_adjusted = inv.amount_adjusted + amount
    if inv.balance == 0:
        if kind == AdjustmentKind.WRITE_OFF:
            inv.status = InvoiceStatus.WRITTEN_OFF
        elif inv.amount_paid > 0:
            inv.status = InvoiceStatus.PAID
    session.flush()
    audit.record(
        session,
        actor,
        "invoice",
        inv.id,
        f"adjust.{kind.value}",
        before,
        {
            "amount_adjusted": inv.amount_adjusted,
            "status": inv.status,
            "adjustment_id": adj.id,
            "amount": amount,
            "reason_code": reason_code,
            "reason": reason,
            "dispute_id": dispute_id,
        },
    )
    return adj


def _adj_view(session: Session, adj: Adjustment) -> AdjustmentView:
    inv = session.get(Invoice, adj.invoice_id)
    assert inv is not None
    login = session.scalar(sa.select(User.login).where(User.id == adj.made_by)) or ""
    return AdjustmentView(
        adj.id,
        adj.invoice_id,
        inv.number or "",
        adj.kind,
        adj.amount,
        adj.reason_code or "",
        adj.reason,
        adj.dispute_id,
        login,
        adj.created_at,
        inv.balance,
    )


def list_reason_codes(
    actor: Actor,
    session: Session,
    *,
    kind: AdjustmentKind | str | None = None,
    include_inactive: bool = False,
) -> tuple[ReasonCodeView, ...]:
    """Reason codes by code, optionally of one kind."""
    require(actor, Action.VIEW)
    stmt = sa.select(AdjustmentReason).order_by(AdjustmentReason.code)
    if kind is not None:
        try:
            stmt = stmt.where(AdjustmentReason.kind == AdjustmentKind(kind))
        except ValueError:
            raise ValidationError.from_fields({"kind": _kinds_message()}) from None
    if not include_inactive:
        stmt = stmt.where(AdjustmentReason.active.is_(True))
    return tuple(_code_view(r) for r in session.scalars(stmt))


def _kinds_message() -> str:
    return "must be one of " + ", ".join(k.value for k in AdjustmentKind)


def set_reason_code(
    actor: Actor,
    session: Session,
    *,
    code: str,
    description: str,
    kind: AdjustmentKind | str,
    active: bool = True,
) -> ReasonCodeView:
    """Create or change a reason code (supervisors). Codes are 1–16 letters, digits, - or _,
    stored upper case."""
    require(actor, Action.ADJUST)
    errors: dict[str, str] = {}
    code_ = str(code or "").strip().upper()
    if not CODE_RE.match(code_):
        errors["code"] = "must be 1 to 16 letters, digits, - or _"
    desc = check_text(description, "description", 200, errors, required=True)
    try:
        kind_ = AdjustmentKind(kind)
    except ValueError:
        errors["kind"] = _kinds_message()
        kind_ = AdjustmentKind.WAIVE
    if errors:
        raise ValidationError.from_fields(errors)
    row = session.scalar(sa.select(AdjustmentReason).where(AdjustmentReason.code == code_))
    before = None
    if row is None:
        row = AdjustmentReason(code=code_)
        session.add(row)
    else:
        before = {"description": row.description, "kind": row.kind, "active": row.active}
    row.description, row.kind, row.active = desc, kind_, bool(active)
    session.flush()
    audit.record(
        session,
        actor,
        "adjustment_reason",
        code_,
        "set",
        before,
        {"description": desc, "kind": kind_, "active": bool(active)},
    )
    return _code_view(row)


def _code(session: Session, code: str, errors: dict[str, str], *, write_off: bool) -> AdjustmentReason | None:
    row = session.scalar(
        sa.select(AdjustmentReason).where(AdjustmentReason.code == str(code or "").strip().upper())
    )
    if row is None or not row.active:
        errors["reason_code"] = f"{code!r} is not an active reason code"
        return None
    if write_off and row.kind != AdjustmentKind.WRITE_OFF:
        errors["reason_code"] = f"{row.code} is a {row.kind.value} code; a write-off needs a write-off code"
        return None
    if not write_off and row.kind in (AdjustmentKind.WRITE_OFF, AdjustmentKind.AGENCY_FEE):
        errors["reason_code"] = (
            f"{row.code} is a {row.kind.value.replace('_', ' ')} code; use the matching action"
        )
        return None
    return row


def _apply(
    actor: Actor,
    session: Session,
    invoice_id: int,
    amount: Decimal | str | None,
    reason_code: str,
    note: str,
    *,
    write_off: bool,
) -> AdjustmentView:
    errors: dict[str, str] = {}
    row = _code(session, reason_code, errors, write_off=write_off)
    text = check_text(note, "note", 500, errors, required=False)
    value = None if amount is None else check_amount(amount, "amount", errors)
    if errors:
        raise ValidationError.from_fields(errors)
    assert row is not None
    inv = get_invoice_row(session, invoice_id, lock=True)
    reason = f"{row.code}: {row.description}" + (f" ({text})" if text else "")
    adj = book_adjustment(
        actor,
        session,
        inv,
        kind=row.kind,
        amount=value if value is not None else inv.balance,
        reason=reason,
        reason_code=row.code,
    )
    return _adj_view(session, adj)


def adjust_invoice(
    actor: Actor,
    session: Session,
    *,
    invoice_id: int,
    amount: Decimal | str,
    reason_code: str,
    note: str = "",
) -> AdjustmentView:
    """Lower an open charge by ``amount`` (supervisors, ``Action.ADJUST``)."""
    require(actor, Action.ADJUST)
    return _apply(actor, session, invoice_id, amount, reason_code, note, write_off=False)


def write_off(
    actor: Actor,
    session: Session,
    *,
    invoice_id: int,
    reason_code: str,
    note: str = "",
    amount: Decimal | str | None = None,
) -> AdjustmentView:
    """Write off ``amount`` (None: the whole balance) of an open charge (``Action.WRITE_OFF``)."""
    require(actor, Action.WRITE_OFF)
    return _apply(actor, session, invoice_id, amount, reason_code, note, write_off=True)


def client_adjustments(
    actor: Actor, session: Session, client_id: int, *, limit: int = 100
) -> tuple[AdjustmentView, ...]:
    """Every adjustment on the account's invoices, newest first."""
    require(actor, Action.VIEW)
    rows = session.scalars(
        sa.select(Adjustment)
        .join(Invoice, Invoice.id == Adjustment.invoice_id)
        .where(Invoice.client_id == client_id)
        .order_by(Adjustment.created_at.desc(), Adjustment.id.desc())
        .limit(max(1, min(limit, 1000)))
    ).all()
    return tuple(_adj_view(session, a) for a in rows)
