"""Disputes (docs/collections.md): a clerk opens, a supervisor decides.

* Open (``Action.DISPUTE_OPEN``): on an issued, open charge (invoice, statement or fee), on the
  whole invoice or one of its lines, with a reason (not rendered, amount differs, coverage or
  copay question, other) and a description (required for "other"). The invoice goes on
  dispute hold: automatic payment allocation and dunning leave it alone. One open dispute per
  invoice.
* Decide (``Action.DISPUTE_DECIDE``, never by the person who opened it: ``require_not_self``),
  always with a reason, optimistic ``version`` check:
  - waive all or part: a ``waive`` adjustment (linked to the dispute) of at most the balance
    (of the line's amount when the dispute is on a line); hold released;
  - confirm: the charge stands, hold released; dunning resumes at the level it had (the events
    already fired stay, so the next run fires the next level);
  - correct: a credit note for the disputed line (or every line) through
    ``billing.invoices.credit_invoice``, and a new issued invoice with the corrected amounts
    (same party, same lines, new amounts; a line corrected to 0 is left off); hold released.
* Every decision is audited (entity ``dispute``) and listed on the account (``client_disputes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from billing import contacts, ledger
from billing._inputs import check_amount, check_text, clean_notes
from billing.adjustments import book_adjustment
from billing.catalog import office_day
from billing.contacts import ContactView
from billing.invoices import (
    InvoiceView,
    credit_invoice,
    get_invoice_row,
    invoice_view,
    next_number,
    terms_days,
)
from billing.ledger import ClientLedger
from billing.split import Step
from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    AdjustmentKind,
    Client,
    Dispute,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ServiceRendered,
    User,
    name_search_key,
)
from db.money import ZERO, to_money
from db.rights import Action, Actor, require, require_not_self
from db.timeutil import now

MAX_TEXT = 1000

REASON_TEXT: dict[DisputeReason, str] = {
    DisputeReason.NOT_RENDERED: "service not rendered",
    DisputeReason.AMOUNT_DIFFERS: "amount differs from the estimate",
    DisputeReason.COVERAGE_QUESTION: "copay or coverage question",
    DisputeReason.OTHER: "other",
}


@dataclass(frozen=True)
class DisputeView:
    id: int
    invoice_id: int
    invoice_number: str
    invoice_balance: Decimal
    line_no: int | None  # None: the whole invoice
    line_amount: Decimal | None
    client_id: int
    account_number: str
    client_name: str
    reason: DisputeReason
    description: str
    status: DisputeStatus
    opened_by: int
    opened_by_login: str
    opened_at: dt.datetime
    decided_by_login: str
    decided_at: dt.datetime | None
    decision_note: str
    waived_amount: Decimal | None
    credit_note_number: str
    new_invoice_number: str
    version: int

    @property
    def reason_text(self) -> str:
        return REASON_TEXT[self.reason]


@dataclass(frozen=True)
class DisputeKey:
    """Keyset cursor of ``dispute_queue``: oldest first by (opened_at, id)."""

    opened_at: dt.datetime
    id: int


@dataclass(frozen=True)
class DisputePage:
    rows: tuple[DisputeView, ...]
    next_after: DisputeKey | None


@dataclass(frozen=True)
class DisputeDetail:
    """What the supervisor sees before deciding."""

    dispute: DisputeView
    invoice: InvoiceView  # lines carry their explain steps
    ledger: ClientLedger  # the account's recent invoices and payments
    contacts: tuple[ContactView, ...]  # latest contact attempts
    other_disputes: tuple[DisputeView, ...]  # the account's other disputes, newest first


def _label(inv: Invoice) -> str:
    return inv.number or f"draft #{inv.id}"


_Opener = aliased(User)
_Decider = aliased(User)
_Credit = aliased(Invoice)
_NewInv = aliased(Invoice)


def _select() -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(
            Dispute,
            Invoice.number,
            ledger.balance_expr(),
            Invoice.client_id,
            InvoiceLine.line_no,
            InvoiceLine.amount,
            Client.account_number,
            Client.last_name,
            Client.first_name,
            _Opener.login,
            _Decider.login,
            _Credit.number,
            _NewInv.number,
        )
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .join(Client, Client.id == Invoice.client_id)
        .join(_Opener, _Opener.id == Dispute.opened_by)
        .outerjoin(_Decider, _Decider.id == Dispute.decided_by)
        .outerjoin(InvoiceLine, InvoiceLine.id == Dispute.invoice_line_id)
        .outerjoin(_Credit, _Credit.id == Dispute.credit_note_id)
        .outerjoin(_NewInv, _NewInv.id == Dispute.new_invoice_id)
    )


def _view(row: Any) -> DisputeView:
    d, number, bal, cid, line_no, line_amount, acct, last, first, opener, decider, credit, new = row
    return DisputeView(
        d.id,
        d.invoice_id,
        number or "",
        bal,
        line_no,
        line_amount,
        cid,
        acct,
        f"{last}, {first}".strip(", "),
        d.reason,
        d.description,
        d.status,
        d.opened_by,
        opener,
        d.opened_at,
        decider or "",
        d.decided_at,
        d.decision_note,
        d.waived_amount,
        credit or "",
        new or "",
        d.version,
    )


def _get_view(session: Session, dispute_id: int) -> DisputeView:
    row = session.execute(_select().where(Dispute.id == dispute_id)).first()
    if row is None:
        raise NotFound(f"no dispute #{dispute_id}")
    return _view(row)


def open_dispute(
    actor: Actor,
    session: Session,
    *,
    invoice_id: int,
    reason: DisputeReason | str,
    description: str = "",
    line_no: int | None = None,
) -> DisputeView:
    """Open a dispute and put the invoice on dispute hold."""
    require(actor, Action.DISPUTE_OPEN)
    inv = get_invoice_row(session, invoice_id, lock=True)
    errors: dict[str, str] = {}
    try:
        reason_ = DisputeReason(reason)
    except ValueError:
        errors["reason"] = "must be one of " + ", ".join(r.value for r in DisputeReason)
        reason_ = DisputeReason.OTHER
    text = check_text(
        clean_notes(description), "description", MAX_TEXT, errors, required=reason_ == DisputeReason.OTHER
    )
    if inv.status not in ledger.OPEN_STATUSES or inv.kind not in ledger.PAYABLE_KINDS or inv.balance <= 0:
        errors["invoice"] = (
            f"{_label(inv)} is {inv.status.value.replace('_', ' ')} with nothing open; only an open charge can be disputed"
        )
    line: InvoiceLine | None = None
    if line_no is not None:
        line = next((ln for ln in inv.lines if ln.line_no == line_no), None)
        if line is None:
            errors["line"] = f"{_label(inv)} has no line {line_no}"
    if errors:
        raise ValidationError.from_fields(errors)
    if session.scalar(
        sa.select(Dispute.id).where(Dispute.invoice_id == inv.id, Dispute.status == DisputeStatus.OPEN)
    ):
        raise ConflictError(f"{_label(inv)} already has an open dispute")
    d = Dispute(
        invoice_id=inv.id,
        invoice_line_id=line.id if line is not None else None,
        reason=reason_,
        description=text,
        opened_by=actor.user_id,
        opened_at=now(),
    )
    session.add(d)
    inv.dispute_hold = True
    session.flush()
    audit.record(
        session,
        actor,
        "dispute",
        d.id,
        "open",
        None,
        {"invoice": inv.number, "line_no": line_no, "reason": reason_, "description": text},
    )
    return _get_view(session, d.id)


def get_dispute(actor: Actor, session: Session, dispute_id: int) -> DisputeView:
    require(actor, Action.VIEW)
    return _get_view(session, dispute_id)


def dispute_detail(actor: Actor, session: Session, dispute_id: int) -> DisputeDetail:
    require(actor, Action.VIEW)
    view = _get_view(session, dispute_id)
    inv = invoice_view(session, get_invoice_row(session, view.invoice_id))
    led = ledger.client_ledger(actor, session, view.client_id, limit=20)
    recent = contacts.list_contacts(actor, session, view.client_id, limit=10).rows
    others = tuple(d for d in client_disputes(actor, session, view.client_id, limit=20) if d.id != view.id)
    return DisputeDetail(view, inv, led, recent, others)


def dispute_queue(
    actor: Actor,
    session: Session,
    *,
    status: DisputeStatus | str | None = DisputeStatus.OPEN,
    after: DisputeKey | None = None,
    limit: int = 50,
    filter_text: str = "",
) -> DisputePage:
    """Disputes oldest first, one page (``status=None``: all). ``filter_text`` matches the start of
    the account number, the invoice number or the client's folded name."""
    require(actor, Action.VIEW)
    limit = max(1, min(int(limit), 500))
    stmt = _select()
    if status is not None:
        try:
            stmt = stmt.where(Dispute.status == DisputeStatus(status))
        except ValueError:
            raise ValidationError.from_fields(
                {"status": "must be one of " + ", ".join(s.value for s in DisputeStatus)}
            ) from None
    text = filter_text.strip()
    if text:
        stmt = stmt.where(
            sa.or_(
                Client.account_number.startswith(text, autoescape=True),
                Invoice.number.startswith(text.upper(), autoescape=True),
                Client.search_name.startswith(name_search_key(text, ""), autoescape=True),
            )
        )
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                Dispute.opened_at > after.opened_at,
                sa.and_(Dispute.opened_at == after.opened_at, Dispute.id > after.id),
            )
        )
    rows = session.execute(stmt.order_by(Dispute.opened_at, Dispute.id).limit(limit + 1)).all()
    views = tuple(_view(r) for r in rows[:limit])
    nxt = DisputeKey(views[-1].opened_at, views[-1].id) if len(rows) > limit else None
    return DisputePage(views, nxt)


def client_disputes(
    actor: Actor, session: Session, client_id: int, *, limit: int = 100
) -> tuple[DisputeView, ...]:
    """An account's disputes, newest first, decided ones included."""
    require(actor, Action.VIEW)
    rows = session.execute(
        _select()
        .where(Invoice.client_id == client_id)
        .order_by(Dispute.opened_at.desc(), Dispute.id.desc())
        .limit(max(1, min(limit, 1000)))
    ).all()
    return tuple(_view(r) for r in rows)


def _for_decision(
    actor: Actor, session: Session, dispute_id: int, version: int, reason: str
) -> tuple[Dispute, Invoice, str]:
    require(actor, Action.DISPUTE_DECIDE)
    d = session.scalars(
        ledger.for_update(session, sa.select(Dispute).where(Dispute.id == dispute_id))
    ).one_or_none()
    if d is None:
        raise NotFound(f"no dispute #{dispute_id}")
    require_not_self(actor, d.opened_by, "decide a dispute on")
    if d.status != DisputeStatus.OPEN:
        raise ConflictError(f"dispute #{d.id} was already decided ({d.status.value})")
    if d.version != version:
        raise ConflictError(f"dispute #{d.id} was changed by someone else; reload and try again")
    errors: dict[str, str] = {}
    text = check_text(clean_notes(reason), "reason", MAX_TEXT, errors, required=True)
    if errors:
        raise ValidationError.from_fields(errors)
    inv = get_invoice_row(session, d.invoice_id, lock=True)
    return d, inv, text


def _close(
    actor: Actor,
    session: Session,
    d: Dispute,
    inv: Invoice,
    status: DisputeStatus,
    note: str,
    extra: dict[str, Any],
) -> DisputeView:
    before = {"status": d.status, "dispute_hold": inv.dispute_hold}
    d.status = status
    d.decided_by = actor.user_id
    d.decided_at = now()
    d.decision_note = note
    inv.dispute_hold = False
    session.flush()
    audit.record(
        session,
        actor,
        "dispute",
        d.id,
        f"decide.{status.value}",
        before,
        {"status": status, "dispute_hold": False, "reason": note, **extra},
    )
    return _get_view(session, d.id)


def _disputed_amount(session: Session, d: Dispute, inv: Invoice) -> Decimal:
    """What may be waived: the balance, or the line's amount when it is within the balance."""
    if d.invoice_line_id is None:
        return inv.balance
    line = session.get(InvoiceLine, d.invoice_line_id)
    assert line is not None
    return min(line.amount, inv.balance)


def decide_waive(
    actor: Actor,
    session: Session,
    dispute_id: int,
    *,
    reason: str,
    version: int,
    amount: Decimal | str | None = None,
) -> DisputeView:
    """Waive the disputed amount (``amount=None``: all of it) as an adjustment; hold released."""
    d, inv, note = _for_decision(actor, session, dispute_id, version, reason)
    cap = _disputed_amount(session, d, inv)
    errors: dict[str, str] = {}
    value = cap if amount in (None, "") else check_amount(amount, "amount", errors)
    if value is not None and value > cap:
        errors["amount"] = f"is more than the disputed {cap}"
    if value is not None and value <= 0:
        errors["amount"] = "nothing is left to waive"
    if errors:
        raise ValidationError.from_fields(errors)
    assert value is not None
    book_adjustment(
        actor,
        session,
        inv,
        kind=AdjustmentKind.WAIVE,
        amount=value,
        reason=f"dispute #{d.id}: {note}",
        dispute_id=d.id,
    )
    d.waived_amount = value
    return _close(actor, session, d, inv, DisputeStatus.WAIVED, note, {"waived": value})


def decide_confirm(
    actor: Actor, session: Session, dispute_id: int, *, reason: str, version: int
) -> DisputeView:
    """The charge stands; hold released; dunning resumes at the level it had."""
    d, inv, note = _for_decision(actor, session, dispute_id, version, reason)
    return _close(actor, session, d, inv, DisputeStatus.CONFIRMED, note, {})


def decide_correct(
    actor: Actor,
    session: Session,
    dispute_id: int,
    *,
    reason: str,
    version: int,
    amounts: Mapping[int, Decimal | str],
) -> DisputeView:
    """Credit note plus a corrected invoice. ``amounts`` maps line number → corrected amount
    (lines not named keep their amount on the new invoice; a dispute on a line may only
    correct that line)."""
    d, inv, note = _for_decision(actor, session, dispute_id, version, reason)
    by_no = {ln.line_no: ln for ln in inv.lines}
    errors: dict[str, str] = {}
    line_no = None
    if d.invoice_line_id is not None:
        line_no = next(n for n, ln in by_no.items() if ln.id == d.invoice_line_id)
    wanted: dict[int, Decimal] = {}
    if not amounts:
        errors["amounts"] = "name at least one line and its corrected amount"
    for n, value in dict(amounts).items():
        key = f"line {n}"
        if n not in by_no:
            errors[key] = f"{_label(inv)} has no line {n}"
            continue
        if line_no is not None and n != line_no:
            errors[key] = f"the dispute is on line {line_no} only"
            continue
        try:
            money = to_money(value)
        except (ValueError, TypeError, ArithmeticError):
            errors[key] = f"{value!r} is not an amount"
            continue
        if money < 0:
            errors[key] = "may not be negative"
        elif money >= by_no[n].amount:
            errors[key] = f"a correction lowers the line (now {by_no[n].amount}); confirm the dispute instead"
        else:
            wanted[n] = money
    if errors:
        raise ValidationError.from_fields(errors)
    note_doc = credit_invoice(
        actor, session, inv.id, reason=f"dispute #{d.id}: {note}", lines=dict.fromkeys(wanted)
    )
    new: Invoice | None = None
    kept = [(n, v) for n, v in sorted(wanted.items()) if v > 0]
    if kept:
        today = office_day(session)
        new = Invoice(
            kind=inv.kind,
            client_id=inv.client_id,
            bill_to=inv.bill_to,
            payer_id=inv.payer_id,
            coverage_id=inv.coverage_id,
            status=InvoiceStatus.ISSUED,
            number=next_number(session, inv.kind),
            issue_date=today,
            total=sum((v for _, v in kept), ZERO),
            created_by=actor.user_id,
            issued_by=actor.user_id,
            issued_at=now(),
        )
        new.due_date = today + dt.timedelta(days=terms_days(session, new))
        for i, (n, value) in enumerate(kept, start=1):
            ln = by_no[n]
            new.lines.append(
                InvoiceLine(
                    line_no=i,
                    service_id=ln.service_id,
                    code=ln.code,
                    description=ln.description,
                    service_date=ln.service_date,
                    units=ln.units,
                    unit_price=ln.unit_price,
                    amount=value,
                    explain=[
                        Step("correction.original", f"{_label(inv)} line {n}", ln.amount).to_json(),
                        Step("correction.amount", f"Corrected (dispute #{d.id}): {note}", value).to_json(),
                    ],
                )
            )
        session.add(new)
        session.flush()
        # The credit note released the services it credited in full; the new invoice bills them.
        ids = [ln.service_id for ln in new.lines if ln.service_id is not None]
        if ids:
            session.execute(sa.update(ServiceRendered).where(ServiceRendered.id.in_(ids)).values(billed=True))
        audit.record(
            session,
            actor,
            "invoice",
            new.id,
            "issue_correction",
            None,
            {"number": new.number, "total": new.total, "dispute_id": d.id, "replaces": inv.number},
        )
    d.credit_note_id = note_doc.id
    d.new_invoice_id = new.id if new is not None else None
    return _close(
        actor,
        session,
        d,
        inv,
        DisputeStatus.CORRECTED,
        note,
        {"credit_note": note_doc.number, "new_invoice": new.number if new is not None else None},
    )
