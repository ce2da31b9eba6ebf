"""Payments (docs/payments.md): post once per idempotency key, allocate oldest first, account credit.

Posting
* A payment comes from a payer (``side=payer``; optionally limited to one client's invoices)
  or from a client (``side=client``). The idempotency key makes a re-post harmless: the same
  key with the same figures returns the payment already recorded (``duplicate=True``); the
  same key with different figures is a ``ConflictError``.
* Allocation, unless the clerk names an invoice: the party's open invoices oldest first (due
  date, issue date, number; see ``billing.ledger``). Void, written-off, in-collections and
  draft invoices and credit notes never take money; items on dispute hold are skipped by the
  automatic allocation but may be named. Money beyond the open balances (or beyond the named
  invoice's balance) stays on the payment as ``unapplied``: the party's account credit, which
  ``apply_credit`` later applies oldest first.
* Invoice status follows the money: issued → partially_paid → paid.
* Client money also pays the client's open payment plan, installments in due-date order
  (``Allocation.installment_id``), and moves the plan's state (``billing.plans``).

Concurrency: two clerks paying the same invoice at once must not both spend its balance.
SQLite: every writing transaction is ``BEGIN IMMEDIATE``, so they are serialised. PostgreSQL:
the invoices are locked ``FOR UPDATE`` (always oldest-first order, then the plan row, so two
payments never deadlock; the audit head is locked last, at commit, by ``db.audit``) and re-read
after the lock; the second payment sees the first one's
allocations. The ``version`` column would also catch a missed lock (as a StaleDataError), but
the lock makes the second clerk wait a moment instead of failing. A re-post of the same key
racing the first is settled by the unique index on the key (savepoint, then the duplicate path).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, plans
from db import audit
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    Allocation,
    BillTo,
    Client,
    Installment,
    Invoice,
    InvoiceStatus,
    Payer,
    PayerSide,
    Payment,
    PaymentBatch,
    PaymentMethod,
    PaymentPlan,
    Placement,
    User,
)
from db.money import CENT, MAX_ABS, ZERO, fmt_money
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.text import has_control_chars
from db.timeutil import office_today

MAX_KEY = 120
MAX_BATCH_KEY = 100  # leaves room for "#<line>"
MAX_REFERENCE = 80
MAX_BATCH_ITEMS = 1000
FIRST_CHUNK = 4  # open invoices a payer's payment loads (and locks) first

# Digits with optional thousands commas and an optional "$"; decimals checked separately.
_AMOUNT_RE = re.compile(r"^\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$", re.ASCII)  # no Unicode digits


# --------------------------------------------------------------------------- typed input


def parse_amount(text: str, field_name: str = "amount") -> Decimal:
    """A typed amount: "12.34", "$1,234.50". More than two decimals is refused, not rounded.

    Refuses empty, negative or zero amounts, exponents ("1e400") and anything beyond the
    office's largest figure, each with a message that says how to write it.
    """
    s = (text or "").strip()
    if not s:
        raise ValidationError.from_fields({field_name: "is required"})
    if s.startswith("-") or s.startswith("(") or s.startswith("$-"):
        raise ValidationError.from_fields({field_name: "must be more than zero"})
    m = _AMOUNT_RE.match(s)
    if m is None:
        raise ValidationError.from_fields(
            {field_name: f"{text.strip()!r} is not an amount; write digits and a point, e.g. 12.34"}
        )
    decimals = m.group(1)
    if decimals is not None and len(decimals) > 2:
        raise ValidationError.from_fields(
            {field_name: f"{text.strip()} has more than 2 decimals; amounts are in whole cents"}
        )
    value = Decimal(s.lstrip("$").replace(",", "") or "0")
    if value <= 0:
        raise ValidationError.from_fields({field_name: "must be more than zero"})
    if value > MAX_ABS:
        raise ValidationError.from_fields({field_name: f"is larger than {fmt_money(MAX_ABS)}"})
    return value.quantize(CENT)


def _check_amount(value: object, field_name: str, errors: dict[str, str]) -> Decimal | None:
    if isinstance(value, str):
        try:
            return parse_amount(value, field_name)
        except ValidationError as e:
            errors.update(e.fields)
            return None
    if not isinstance(value, Decimal):
        errors[field_name] = "must be an amount in dollars and cents"
    elif not value.is_finite():
        errors[field_name] = "is not an amount"
    elif value <= 0:
        errors[field_name] = "must be more than zero"
    elif value > MAX_ABS:  # before quantize, which fails on absurd exponents
        errors[field_name] = f"is larger than {fmt_money(MAX_ABS)}"
    elif value != value.quantize(CENT):
        errors[field_name] = f"{value} has more than 2 decimals; amounts are in whole cents"
    else:
        return value.quantize(CENT)
    return None


def _check_text(
    value: object, field_name: str, max_len: int, errors: dict[str, str], *, required: bool
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field_name] = "must be text"
        return ""
    text = value.strip()
    if required and not text:
        errors[field_name] = "is required"
    elif len(text) > max_len:
        errors[field_name] = f"is longer than {max_len} characters"
    elif has_control_chars(text):
        errors[field_name] = "has control characters"
    return text


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class AllocationView:
    payment_id: int
    invoice_id: int
    invoice_number: str
    amount: Decimal
    installment_id: int | None = None
    installment_seq: int | None = None


@dataclass(frozen=True)
class InvoiceState:
    """An invoice as it stands after the money went to it."""

    invoice_id: int
    number: str
    total: Decimal
    amount_paid: Decimal
    balance: Decimal
    status: InvoiceStatus


@dataclass(frozen=True)
class PaymentView:
    id: int
    side: PayerSide
    client_id: int | None
    account_number: str  # "" when a payer's payment is not limited to one client
    client_name: str
    payer_id: int | None
    payer_name: str
    amount: Decimal
    unapplied: Decimal  # account credit still on this payment
    method: PaymentMethod
    received_on: dt.date
    reference: str
    idempotency_key: str
    batch_id: int | None
    posted_by: str  # login
    posted_at: dt.datetime
    allocations: tuple[AllocationView, ...]

    @property
    def applied(self) -> Decimal:
        return self.amount - self.unapplied

    @property
    def party(self) -> str:
        if self.side == PayerSide.PAYER:
            return self.payer_name + (f" for {self.account_number}" if self.account_number else "")
        return f"{self.client_name} ({self.account_number})"


@dataclass(frozen=True)
class PostResult:
    payment: PaymentView
    duplicate: bool  # True: this key was posted before; nothing was changed now
    invoices: tuple[InvoiceState, ...]  # the invoices the payment went to, as they stand now
    plan_change: plans.PlanChange | None = None

    def describe(self, symbol: str = "$") -> str:
        p = self.payment
        if self.duplicate:
            return (
                f"already posted as payment #{p.id} (key {p.idempotency_key}, "
                f"{fmt_money(p.amount, symbol)} on {p.received_on.isoformat()}); nothing changed"
            )
        parts = [f"payment #{p.id} posted: {fmt_money(p.amount, symbol)} from {p.party}"]
        spent: dict[str, Decimal] = {}
        for a in p.allocations:
            spent[a.invoice_number] = spent.get(a.invoice_number, ZERO) + a.amount
        status = {i.number: i.status.value.replace("_", " ") for i in self.invoices}
        if spent:
            parts.append(
                "applied to "
                + ", ".join(f"{n} {fmt_money(v, symbol)} ({status.get(n, '')})" for n, v in spent.items())
            )
        if p.unapplied > 0:
            parts.append(f"account credit {fmt_money(p.unapplied, symbol)}")
        if self.plan_change is not None and self.plan_change.before != self.plan_change.after:
            parts.append(f"plan now {self.plan_change.after.value}")
        return "; ".join(parts)


@dataclass(frozen=True)
class CreditResult:
    applied: Decimal
    allocations: tuple[AllocationView, ...]
    invoices: tuple[InvoiceState, ...]
    credit_left: Decimal
    plan_change: plans.PlanChange | None = None


@dataclass(frozen=True)
class PaymentPreview:
    """What posting would do now (for the confirmation screen); nothing is written."""

    allocations: tuple[AllocationView, ...]  # payment_id is 0
    credit: Decimal


@dataclass(frozen=True)
class BatchItem:
    """One check in a stack: who pays, how much, and optionally which invoice."""

    side: PayerSide | str
    amount: Decimal | str
    client_id: int | None = None
    payer_id: int | None = None
    reference: str = ""
    invoice_id: int | None = None
    method: PaymentMethod | str = PaymentMethod.CHECK


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    control_total: Decimal
    count: int
    duplicate: bool  # the whole batch had been posted before; nothing changed
    payments: tuple[PaymentView, ...]

    @property
    def credit_added(self) -> Decimal:
        return sum((p.unapplied for p in self.payments), ZERO)


@dataclass(frozen=True)
class PaymentRow:
    id: int
    side: PayerSide
    party: str
    amount: Decimal
    unapplied: Decimal
    method: PaymentMethod
    received_on: dt.date
    reference: str
    posted_by: str


@dataclass(frozen=True)
class PaymentCursor:
    """Where a page ended: newest first by (received date, id)."""

    received_on: dt.date
    id: int


@dataclass(frozen=True)
class PaymentPage:
    rows: tuple[PaymentRow, ...]
    next_cursor: PaymentCursor | None  # None on the last page


# --------------------------------------------------------------------------- allocation planning (pure)


@dataclass(frozen=True)
class Split:
    invoice_id: int
    amount: Decimal
    installment_id: int | None = None
    installment_seq: int | None = None


@dataclass
class Allocator:
    """Spends money over invoices in the order given, and over installments by due date.

    ``installments`` are ``[id, seq, remaining]`` lists in due-date order; their remaining
    amounts go down as money is spent, across several payments (apply_credit funds it again).
    """

    left: Decimal
    installments: list[list[Any]] = field(default_factory=list)
    _k: int = 0

    def fund(self, amount: Decimal) -> None:
        self.left = amount

    def take(self, invoice_id: int, balance: Decimal) -> list[Split]:
        amount = min(self.left, balance)
        if amount <= 0:
            return []
        self.left -= amount
        out: list[Split] = []
        while amount > 0 and self._k < len(self.installments):
            iid, seq, remaining = self.installments[self._k]
            part = min(amount, remaining)
            if part > 0:
                out.append(Split(invoice_id, part, iid, seq))
            amount -= part
            self.installments[self._k][2] = remaining - part
            if self.installments[self._k][2] <= 0:
                self._k += 1
        if amount > 0:
            out.append(Split(invoice_id, amount))
        return out


def plan_allocation(
    amount: Decimal,
    balances: Sequence[tuple[int, Decimal]],
    installments: Sequence[tuple[int, int, Decimal]] = (),
) -> tuple[list[Split], Decimal]:
    """Splits of ``amount`` over ``(invoice_id, balance)`` in order; returns (splits, credit)."""
    alloc = Allocator(amount, [[i, s, r] for i, s, r in installments if r > 0])
    splits: list[Split] = []
    for invoice_id, balance in balances:
        if alloc.left <= 0:
            break
        splits.extend(alloc.take(invoice_id, balance))
    return splits, alloc.left


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Request:
    side: PayerSide
    client_id: int | None
    payer_id: int | None
    amount: Decimal
    method: PaymentMethod
    received_on: dt.date
    reference: str
    key: str
    invoice_id: int | None
    placement_id: int | None

    def figures(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "client_id": self.client_id,
            "payer_id": self.payer_id,
            "amount": self.amount,
            "method": self.method,
            "received_on": self.received_on,
            "reference": self.reference,
        }


def _figures(p: Payment) -> dict[str, Any]:
    return {
        "side": p.side,
        "client_id": p.client_id,
        "payer_id": p.payer_id,
        "amount": p.amount,
        "method": p.method,
        "received_on": p.received_on,
        "reference": p.reference,
    }


def _check_party(
    session: Session,
    side: object,
    client_id: int | None,
    payer_id: int | None,
    errors: dict[str, str],
) -> PayerSide | None:
    try:
        s = PayerSide(str(side))  # not a str (None, a number): refused like a wrong word
    except ValueError:
        errors["side"] = "must be payer or client"
        return None
    if s == PayerSide.CLIENT:
        if payer_id is not None:
            errors["payer"] = "a client's own payment has no payer (post it on the payer's side)"
        if client_id is None:
            errors["client"] = "is required"
    elif payer_id is None:
        errors["payer"] = "is required"
    if client_id is not None and session.get(Client, client_id) is None:
        errors["client"] = f"no client with id {client_id}"
    if payer_id is not None and session.get(Payer, payer_id) is None:
        errors["payer"] = f"no payer with id {payer_id}"
    return s


def _validate(
    session: Session,
    *,
    side: object,
    amount: object,
    method: object,
    received_on: object,
    reference: object,
    key: object,
    client_id: int | None,
    payer_id: int | None,
    invoice_id: int | None,
    placement_id: int | None,
) -> tuple[_Request | None, dict[str, str]]:
    """Everything that can be checked without locks. The named invoice is checked later, locked."""
    errors: dict[str, str] = {}
    s = _check_party(session, side, client_id, payer_id, errors)
    value = _check_amount(amount, "amount", errors)
    m: PaymentMethod | None = None
    try:
        m = PaymentMethod(str(method))
    except ValueError:
        errors["method"] = "must be one of " + ", ".join(x.value for x in PaymentMethod)
    day: dt.date | None = None
    if isinstance(received_on, dt.datetime) or not isinstance(received_on, dt.date):
        errors["date"] = "must be a date"
    else:
        today = office_today(office_timezone(session))
        opened = _office_opened(session)
        if received_on > today:
            errors["date"] = f"is in the future (today is {today.isoformat()})"
        elif received_on < opened:
            errors["date"] = f"is before the office opened ({opened.isoformat()})"
        else:
            day = received_on
    ref = _check_text(reference, "reference", MAX_REFERENCE, errors, required=False)
    k = _check_text(key, "key", MAX_KEY, errors, required=True)
    if invoice_id is not None and session.get(Invoice, invoice_id) is None:
        errors["invoice"] = f"no invoice with id {invoice_id}"
    if placement_id is not None:
        placement = session.get(Placement, placement_id)
        if placement is None:
            errors["placement"] = f"no placement with id {placement_id}"
        elif client_id is not None and placement.client_id != client_id:
            errors["placement"] = "belongs to another client"
    if errors:
        return None, errors
    assert s is not None and value is not None and m is not None and day is not None
    return _Request(s, client_id, payer_id, value, m, day, ref, k, invoice_id, placement_id), errors


def _office_opened(session: Session) -> dt.date:
    try:
        return dt.date.fromisoformat(str(get_setting(session, "office.opened")))
    except ValueError:
        return dt.date(2000, 1, 1)


def _require_account(actor: Actor) -> None:
    """Money is posted by a person with a ClerkDesk account (root and system have none)."""
    if not actor.user_id:
        raise PermissionDenied(
            f"{actor.login} has no ClerkDesk user account; payments are posted by a clerk or supervisor"
        )


def _check_named_invoice(inv: Invoice, req: _Request) -> str | None:
    """Why money from this party cannot go to this invoice, or None."""
    name = inv.number or f"draft #{inv.id}"
    if inv.kind not in ledger.PAYABLE_KINDS:
        return f"{name} is a {inv.kind.value.replace('_', ' ')}, not a bill"
    if inv.status not in ledger.OPEN_STATUSES:
        return f"{name} is {inv.status.value.replace('_', ' ')} and takes no payment"
    if inv.balance <= 0:
        return f"{name} has no balance left"
    if req.side == PayerSide.CLIENT:
        if inv.bill_to != BillTo.CLIENT or inv.client_id != req.client_id:
            return f"{name} is not one of this client's own bills"
    else:
        if inv.bill_to != BillTo.PAYER or inv.payer_id != req.payer_id:
            return f"{name} is not billed to this payer"
        if req.client_id is not None and inv.client_id != req.client_id:
            return f"{name} is for another client"
    return None


# --------------------------------------------------------------------------- applying money (ORM)


@dataclass
class _Applied:
    allocations: list[Allocation] = field(default_factory=list)
    # invoice id → (invoice, amount_paid before, status before)
    invoices: dict[int, tuple[Invoice, Decimal, InvoiceStatus]] = field(default_factory=dict)
    installments: dict[int, Installment] = field(default_factory=dict)


def _spend(session: Session, payment: Payment, inv: Invoice, alloc: Allocator, applied: _Applied) -> Decimal:
    """Apply what the allocator gives to one invoice (and installments); returns the amount."""
    splits = alloc.take(inv.id, inv.balance)
    if not splits:
        return ZERO
    if inv.id not in applied.invoices:
        applied.invoices[inv.id] = (inv, inv.amount_paid, inv.status)
    total = ZERO
    for sp in splits:
        row = Allocation(
            payment_id=payment.id, invoice_id=inv.id, installment_id=sp.installment_id, amount=sp.amount
        )
        session.add(row)
        applied.allocations.append(row)
        total += sp.amount
        if sp.installment_id is not None:
            inst = applied.installments[sp.installment_id]
            inst.paid_amount = inst.paid_amount + sp.amount
    inv.amount_paid = inv.amount_paid + total
    inv.status = InvoiceStatus.PAID if inv.balance <= 0 else InvoiceStatus.PARTIALLY_PAID
    return total


def _targets(
    session: Session, side: PayerSide, client_id: int | None, payer_id: int | None
) -> Iterator[Invoice]:
    """The party's open invoices oldest first, locked. A payer's come in chunks (there may be
    many); a client's all at once, because the plan row is locked after them."""
    stmt = ledger.open_invoices(side, client_id=client_id, payer_id=payer_id)
    if side == PayerSide.CLIENT:
        yield from session.scalars(ledger.for_update(session, stmt)).all()
        return
    # Small chunks first, doubling up to LOCK_CHUNK: most payments touch one or two invoices, and
    # each row loaded is time under the write lock (SQLite) and a row locked (PostgreSQL).
    seen: set[int] = set()
    size = min(FIRST_CHUNK, ledger.LOCK_CHUNK)
    while True:
        rows = session.scalars(ledger.for_update(session, stmt.limit(len(seen) + size))).all()
        fresh = [r for r in rows if r.id not in seen]
        if not fresh:
            return
        seen.update(r.id for r in fresh)
        yield from fresh
        size = min(size * 2, ledger.LOCK_CHUNK)


def _plan_slots(plan: PaymentPlan | None) -> tuple[list[list[Any]], dict[int, Installment]]:
    if plan is None:
        return [], {}
    open_insts = sorted(
        (i for i in plan.installments if i.paid_amount < i.amount), key=lambda i: (i.due_date, i.seq)
    )
    return [[i.id, i.seq, i.amount - i.paid_amount] for i in open_insts], {i.id: i for i in open_insts}


def _finish(
    actor: Actor,
    session: Session,
    applied: _Applied,
    plan: PaymentPlan | None,
    payment_ids: Sequence[int],
) -> plans.PlanChange | None:
    """Flush, move the plan's state, and write the audit rows (after every lock is taken)."""
    session.flush()
    change = None
    if plan is not None and applied.installments:
        change = plans.settle_plan(actor, session, plan, office_today(office_timezone(session)))
    for inv, paid_before, status_before in applied.invoices.values():
        audit.record(
            session,
            actor,
            "invoice",
            inv.id,
            "payment",
            {"amount_paid": paid_before, "status": status_before},
            {"amount_paid": inv.amount_paid, "status": inv.status, "payments": list(payment_ids)},
        )
    return change


def _allocation_views(session: Session, rows: Sequence[Allocation]) -> tuple[AllocationView, ...]:
    if not rows:
        return ()
    numbers = dict(
        session.execute(
            sa.select(Invoice.id, Invoice.number).where(Invoice.id.in_({r.invoice_id for r in rows}))
        ).all()
    )
    inst_ids = {r.installment_id for r in rows if r.installment_id is not None}
    seqs = (
        dict(
            session.execute(
                sa.select(Installment.id, Installment.seq).where(Installment.id.in_(inst_ids))
            ).all()
        )
        if inst_ids
        else {}
    )
    return tuple(
        AllocationView(
            payment_id=r.payment_id,
            invoice_id=r.invoice_id,
            invoice_number=numbers.get(r.invoice_id) or "",
            amount=r.amount,
            installment_id=r.installment_id,
            installment_seq=seqs.get(r.installment_id) if r.installment_id is not None else None,
        )
        for r in rows
    )


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _states_of(invoices: Sequence[Invoice]) -> tuple[InvoiceState, ...]:
    return tuple(
        InvoiceState(inv.id, inv.number or "", inv.total, inv.amount_paid, inv.balance, inv.status)
        for inv in invoices
    )


def _invoice_states(session: Session, invoice_ids: Sequence[int]) -> tuple[InvoiceState, ...]:
    if not invoice_ids:
        return ()
    invs = {i.id: i for i in session.scalars(sa.select(Invoice).where(Invoice.id.in_(set(invoice_ids))))}
    out = []
    for iid in dict.fromkeys(invoice_ids):
        inv = invs[iid]
        out.append(
            InvoiceState(inv.id, inv.number or "", inv.total, inv.amount_paid, inv.balance, inv.status)
        )
    return tuple(out)


def _payment_view(session: Session, p: Payment) -> PaymentView:
    client = session.get(Client, p.client_id) if p.client_id is not None else None
    payer = session.get(Payer, p.payer_id) if p.payer_id is not None else None
    login = session.scalar(sa.select(User.login).where(User.id == p.posted_by)) or ""
    rows = session.scalars(
        sa.select(Allocation).where(Allocation.payment_id == p.id).order_by(Allocation.id)
    ).all()
    return PaymentView(
        id=p.id,
        side=p.side,
        client_id=p.client_id,
        account_number=client.account_number if client else "",
        client_name=client.display_name if client else "",
        payer_id=p.payer_id,
        payer_name=payer.name if payer else "",
        amount=p.amount,
        unapplied=p.unapplied,
        method=p.method,
        received_on=p.received_on,
        reference=p.reference,
        idempotency_key=p.idempotency_key,
        batch_id=p.batch_id,
        posted_by=login,
        posted_at=p.posted_at,
        allocations=_allocation_views(session, rows),
    )


def _by_key(session: Session, key: str) -> Payment | None:
    return session.scalars(sa.select(Payment).where(Payment.idempotency_key == key)).one_or_none()


def _replay(session: Session, existing: Payment, req: _Request) -> PostResult:
    """The same key again: the same figures are a harmless re-post, others a conflict."""
    if _figures(existing) != req.figures():
        theirs = ", ".join(f"{k}={v}" for k, v in _figures(existing).items() if req.figures()[k] != v)
        raise ConflictError(
            f"idempotency key {req.key!r} was already used for payment #{existing.id} with different "
            f"figures ({theirs}); use a new key for a different payment"
        )
    view = _payment_view(session, existing)
    return PostResult(view, True, _invoice_states(session, [a.invoice_id for a in view.allocations]))


def _post(actor: Actor, session: Session, req: _Request, batch_id: int | None = None) -> PostResult:
    existing = _by_key(session, req.key)
    if existing is not None:
        return _replay(session, existing, req)
    named: Invoice | None = None
    if req.invoice_id is not None:
        stmt = sa.select(Invoice).where(Invoice.id == req.invoice_id)
        named = session.scalars(ledger.for_update(session, stmt)).one()
        if _is_pg(session):
            # A twin post of this key may have committed while we waited for the lock.
            existing = _by_key(session, req.key)
            if existing is not None:
                return _replay(session, existing, req)
        why = _check_named_invoice(named, req)
        if why:
            raise ValidationError.from_fields({"invoice": why})

    payment = Payment(
        side=req.side,
        client_id=req.client_id,
        payer_id=req.payer_id,
        amount=req.amount,
        unapplied=req.amount,
        method=req.method,
        received_on=req.received_on,
        reference=req.reference,
        idempotency_key=req.key,
        batch_id=batch_id,
        placement_id=req.placement_id,
        posted_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except sa.exc.IntegrityError:
        # PostgreSQL: the twin post committed between our look-up and our insert.
        existing = _by_key(session, req.key)
        if existing is None:
            raise
        return _replay(session, existing, req)

    applied = _Applied()
    plan: PaymentPlan | None = None
    alloc = Allocator(req.amount)
    if named is not None:
        targets: Iterator[Invoice] = iter([named])
    else:
        targets = _targets(session, req.side, req.client_id, req.payer_id)
    if req.side == PayerSide.CLIENT:
        invoices = list(targets)  # every invoice lock first, then the plan's (one lock order)
        assert req.client_id is not None  # a client's payment names the client (checked before)
        plan = plans.lock_open_plan(session, req.client_id)
        alloc.installments, applied.installments = _plan_slots(plan)
        targets = iter(invoices)
    # Ask for the next invoice only while money is left: each ask may lock another chunk.
    while alloc.left > 0 and (inv := next(targets, None)) is not None:
        _spend(session, payment, inv, alloc, applied)
    payment.unapplied = alloc.left
    change = _finish(actor, session, applied, plan, [payment.id])
    view = _payment_view(session, payment)
    audit.record(
        session,
        actor,
        "payment",
        payment.id,
        "post",
        None,
        {
            **req.figures(),
            "key": req.key,
            "unapplied": payment.unapplied,
            "batch_id": batch_id,
            "placement_id": req.placement_id,
            "named_invoice_id": req.invoice_id,
            "allocations": [[a.invoice_id, a.installment_id, a.amount] for a in view.allocations],
        },
    )
    return PostResult(view, False, _states_of([v[0] for v in applied.invoices.values()]), change)


# --------------------------------------------------------------------------- services


def post_payment(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    amount: Decimal | str,
    method: PaymentMethod | str,
    received_on: dt.date,
    idempotency_key: str,
    client_id: int | None = None,
    payer_id: int | None = None,
    reference: str = "",
    invoice_id: int | None = None,
    placement_id: int | None = None,
) -> PostResult:
    """Record a payment once per key and allocate it (oldest first, or to ``invoice_id``).

    Payer side: ``payer_id`` required; ``client_id`` limits the allocation to that client's
    invoices. Client side: ``client_id`` required. Whatever is not allocated is account credit.
    """
    require(actor, Action.PAYMENT_POST)
    _require_account(actor)
    req, errors = _validate(
        session,
        side=side,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        key=idempotency_key,
        client_id=client_id,
        payer_id=payer_id,
        invoice_id=invoice_id,
        placement_id=placement_id,
    )
    if req is None:
        raise ValidationError.from_fields(errors)
    return _post(actor, session, req)


def preview_payment(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    amount: Decimal | str,
    client_id: int | None = None,
    payer_id: int | None = None,
    invoice_id: int | None = None,
) -> PaymentPreview:
    """Where the money would go if posted now. Changes nothing."""
    require(actor, Action.PAYMENT_POST)
    errors: dict[str, str] = {}
    s = _check_party(session, side, client_id, payer_id, errors)
    value = _check_amount(amount, "amount", errors)
    inv = session.get(Invoice, invoice_id) if invoice_id is not None else None
    if invoice_id is not None and inv is None:
        errors["invoice"] = f"no invoice with id {invoice_id}"
    if errors:
        raise ValidationError.from_fields(errors)
    assert s is not None and value is not None
    req = _Request(s, client_id, payer_id, value, PaymentMethod.CHECK, dt.date.min, "", "-", invoice_id, None)
    if inv is not None:
        why = _check_named_invoice(inv, req)
        if why:
            raise ValidationError.from_fields({"invoice": why})
    slots: list[list[Any]] = []
    if s == PayerSide.CLIENT:
        plan = session.scalars(
            sa.select(PaymentPlan).where(
                PaymentPlan.client_id == client_id, PaymentPlan.status.in_(ledger.OPEN_PLAN_STATUSES)
            )
        ).first()
        slots, _ = _plan_slots(plan)
    alloc = Allocator(value, slots)
    splits: list[Split] = []
    if inv is not None:
        splits = alloc.take(inv.id, inv.balance)
    else:
        stmt = ledger.open_invoices(s, client_id=client_id, payer_id=payer_id)
        offset = 0
        while alloc.left > 0:
            rows = session.scalars(stmt.offset(offset).limit(ledger.LOCK_CHUNK)).all()
            if not rows:
                break
            for row in rows:
                splits.extend(alloc.take(row.id, row.balance))
                if alloc.left <= 0:
                    break
            offset += len(rows)
    numbers = dict(
        session.execute(
            sa.select(Invoice.id, Invoice.number).where(Invoice.id.in_({sp.invoice_id for sp in splits}))
        ).all()
    )
    return PaymentPreview(
        tuple(
            AllocationView(
                0,
                sp.invoice_id,
                numbers.get(sp.invoice_id) or "",
                sp.amount,
                sp.installment_id,
                sp.installment_seq,
            )
            for sp in splits
        ),
        alloc.left,
    )


def apply_credit(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    client_id: int | None = None,
    payer_id: int | None = None,
    invoice_id: int | None = None,
) -> CreditResult:
    """Apply the party's account credit (oldest payment first) to open invoices, oldest first,
    or to one named invoice. With no credit or nothing open, nothing changes (applied = 0).

    A payer's payment that was limited to one client is applied only to that client's
    invoices (name the client); ``credit_left`` is all the party's credit afterwards.
    """
    require(actor, Action.PAYMENT_POST)
    _require_account(actor)
    errors: dict[str, str] = {}
    s = _check_party(session, side, client_id, payer_id, errors)
    if invoice_id is not None and session.get(Invoice, invoice_id) is None:
        errors["invoice"] = f"no invoice with id {invoice_id}"
    if errors:
        raise ValidationError.from_fields(errors)
    assert s is not None
    # Lock order: payments, then invoices, then the plan (posting never locks old payments).
    pays = session.scalars(
        ledger.for_update(
            session,
            sa.select(Payment)
            .where(
                ledger.credit_filter(s, client_id=client_id, payer_id=payer_id, spendable=True),
                Payment.unapplied > ZERO,
            )
            .order_by(Payment.received_on, Payment.id),
        )
    ).all()
    named: Invoice | None = None
    if invoice_id is not None:
        named = session.scalars(
            ledger.for_update(session, sa.select(Invoice).where(Invoice.id == invoice_id))
        ).one()
        probe = _Request(
            s, client_id, payer_id, CENT, PaymentMethod.CHECK, dt.date.min, "", "-", invoice_id, None
        )
        why = _check_named_invoice(named, probe)
        if why:
            raise ValidationError.from_fields({"invoice": why})
    if not pays:
        return CreditResult(
            ZERO, (), (), ledger.account_credit(session, s, client_id=client_id, payer_id=payer_id)
        )
    targets: Iterator[Invoice] = (
        iter([named]) if named is not None else _targets(session, s, client_id, payer_id)
    )
    plan: PaymentPlan | None = None
    alloc = Allocator(ZERO)
    applied = _Applied()
    if s == PayerSide.CLIENT:
        invoices = list(targets)
        assert client_id is not None  # a client's payment names the client (checked before)
        plan = plans.lock_open_plan(session, client_id)
        alloc.installments, applied.installments = _plan_slots(plan)
        targets = iter(invoices)
    before = {p.id: p.unapplied for p in pays}
    k = 0
    while k < len(pays) and (inv := next(targets, None)) is not None:
        while k < len(pays) and inv.balance > 0:
            p = pays[k]
            alloc.fund(p.unapplied)
            _spend(session, p, inv, alloc, applied)
            p.unapplied = alloc.left
            if p.unapplied <= 0:
                k += 1
    touched = [p for p in pays if p.unapplied != before[p.id]]
    change = _finish(actor, session, applied, plan, [p.id for p in touched])
    for p in touched:
        rows = [a for a in applied.allocations if a.payment_id == p.id]
        audit.record(
            session,
            actor,
            "payment",
            p.id,
            "apply_credit",
            {"unapplied": before[p.id]},
            {
                "unapplied": p.unapplied,
                "allocations": [[a.invoice_id, a.installment_id, a.amount] for a in rows],
            },
        )
    applied_total = sum((before[p.id] - p.unapplied for p in touched), ZERO)
    return CreditResult(
        applied=applied_total,
        allocations=_allocation_views(session, applied.allocations),
        invoices=_states_of([v[0] for v in applied.invoices.values()]),
        credit_left=ledger.account_credit(session, s, client_id=client_id, payer_id=payer_id),
        plan_change=change,
    )


def batch_item_key(batch_key: str, line: int) -> str:
    return f"{batch_key}#{line}"


def post_batch(
    actor: Actor,
    session: Session,
    *,
    batch_key: str,
    control_total: Decimal | str,
    count: int,
    received_on: dt.date,
    items: Sequence[BatchItem],
    note: str = "",
) -> BatchResult:
    """Post a stack of checks: all or nothing, only when the items match the control figures.

    The control total and count are what the clerk added up before typing the items. Each
    item's key is ``<batch_key>#<line>``, so posting the same batch again records nothing new.
    Runs in the caller's single transaction: any error leaves nothing saved.
    """
    require(actor, Action.PAYMENT_POST)
    _require_account(actor)
    errors: dict[str, str] = {}
    key = _check_text(batch_key, "batch_key", MAX_BATCH_KEY, errors, required=True)
    control = _check_amount(control_total, "control_total", errors)
    note_text = _check_text(note, "note", 200, errors, required=False)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH_ITEMS:
        errors["count"] = f"must be a whole number from 1 to {MAX_BATCH_ITEMS}"
    elif len(items) != count:
        diff = count - len(items)
        errors["count"] = (
            f"{len(items)} items entered but the control count is {count} "
            f"({abs(diff)} {'missing' if diff > 0 else 'too many'})"
        )
    reqs: list[_Request] = []
    for n, item in enumerate(items, start=1):
        req, item_errors = _validate(
            session,
            side=item.side,
            amount=item.amount,
            method=item.method,
            received_on=received_on,
            reference=item.reference,
            key=batch_item_key(key or "-", n),
            client_id=item.client_id,
            payer_id=item.payer_id,
            invoice_id=item.invoice_id,
            placement_id=None,
        )
        if req is None:
            if "date" in item_errors:  # the same for every line: say it once
                errors["date"] = item_errors.pop("date")
            if item_errors:
                errors[f"line {n}"] = "; ".join(f"{f} {why}" for f, why in item_errors.items())
        else:
            reqs.append(req)
    if control is not None and len(reqs) == len(items):
        total = sum((r.amount for r in reqs), ZERO)
        if total != control:
            errors["control_total"] = (
                f"the items add up to {fmt_money(total)} but the control total is {fmt_money(control)} "
                f"(difference {fmt_money(total - control)})"
            )
    if errors:
        raise ValidationError.from_fields(errors)
    assert control is not None

    keys = [r.key for r in reqs]
    existing = {
        p.idempotency_key: p
        for p in session.scalars(sa.select(Payment).where(Payment.idempotency_key.in_(keys)))
    }
    if existing:
        batch_ids = {p.batch_id for p in existing.values()}
        same = (
            len(existing) == len(reqs)
            and len(batch_ids) == 1
            and all(_figures(existing[r.key]) == r.figures() for r in reqs)
        )
        if not same:
            raise ConflictError(
                f"batch key {key!r} was already used for a different batch or payment; use a new batch key"
            )
        batch_id = batch_ids.pop()
        assert batch_id is not None
        earlier = tuple(_payment_view(session, existing[r.key]) for r in reqs)
        return BatchResult(batch_id, control, count, True, earlier)

    batch = PaymentBatch(
        control_total=control, item_count=count, note=note_text or key, created_by=actor.user_id
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor,
        "payment_batch",
        batch.id,
        "create",
        None,
        {"key": key, "control_total": control, "count": count, "received_on": received_on, "note": note_text},
    )
    views: list[PaymentView] = []
    for n, req in enumerate(reqs, start=1):
        try:
            result = _post(actor, session, req, batch_id=batch.id)
        except ValidationError as e:
            # e.g. an earlier line paid the invoice this line names; the caller rolls back.
            raise ValidationError.from_fields({f"line {n}": str(e)}) from e
        views.append(result.payment)
    return BatchResult(batch.id, control, count, False, tuple(views))


def get_payment(actor: Actor, session: Session, payment_id: int) -> PaymentView:
    require(actor, Action.VIEW)
    p = session.get(Payment, payment_id)
    if p is None:
        raise NotFound(f"no payment #{payment_id}")
    return _payment_view(session, p)


def find_payment_by_key(actor: Actor, session: Session, key: str) -> PaymentView | None:
    require(actor, Action.VIEW)
    p = _by_key(session, key.strip())
    return _payment_view(session, p) if p is not None else None


def list_payments(
    actor: Actor,
    session: Session,
    *,
    client_id: int | None = None,
    payer_id: int | None = None,
    side: PayerSide | str | None = None,
    after: PaymentCursor | None = None,
    limit: int = 50,
) -> PaymentPage:
    """Payments newest first (received date, then id), one page at a time by key."""
    require(actor, Action.VIEW)
    limit = max(1, min(limit, 500))
    stmt = (
        sa.select(Payment, Client.account_number, Client.last_name, Client.first_name, Payer.name, User.login)
        .outerjoin(Client, Client.id == Payment.client_id)
        .outerjoin(Payer, Payer.id == Payment.payer_id)
        .join(User, User.id == Payment.posted_by)
    )
    if client_id is not None:
        stmt = stmt.where(Payment.client_id == client_id)
    if payer_id is not None:
        stmt = stmt.where(Payment.payer_id == payer_id)
    if side is not None:
        stmt = stmt.where(Payment.side == PayerSide(side))
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                Payment.received_on < after.received_on,
                sa.and_(Payment.received_on == after.received_on, Payment.id < after.id),
            )
        )
    rows = session.execute(
        stmt.order_by(Payment.received_on.desc(), Payment.id.desc()).limit(limit + 1)
    ).all()
    out = []
    for p, account, last, first, payer_name, login in rows[:limit]:
        if p.side == PayerSide.PAYER:
            party = (payer_name or "") + (f" for {account}" if account else "")
        else:
            party = f"{last}, {first} ({account})"
        out.append(
            PaymentRow(
                p.id, p.side, party, p.amount, p.unapplied, p.method, p.received_on, p.reference, login
            )
        )
    nxt = PaymentCursor(out[-1].received_on, out[-1].id) if len(rows) > limit else None
    return PaymentPage(tuple(out), nxt)
