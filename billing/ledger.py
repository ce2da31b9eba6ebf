"""Balances, open items and account credit: what a client or a payer owes (docs/payments.md).

An invoice is *open* (can take money) when it is issued or partially paid, is a real charge
(invoice, statement or dunning fee; never a credit note) and has a balance left. Void,
written-off, in-collections and draft invoices never take money here. Balance is
``total - amount_paid - amount_adjusted``.

Oldest first means: due date, then issue date, then number (then id, so the order is total
and every writer locks rows in the same order: no deadlocks between two payments).

The query helpers at the top are shared by ``billing.payments`` and ``billing.plans``; the
``client_ledger`` and ``open_items`` services at the bottom are for screens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.coltypes import Money
from db.errors import NotFound
from db.models import (
    Allocation,
    BillTo,
    Client,
    ClientStatus,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    PayerSide,
    Payment,
    PaymentMethod,
    PaymentPlan,
    PlanStatus,
)
from db.money import ZERO
from db.rights import Action, Actor, require

# The columns a statement selects: helpers that add clauses give back the same row shape.
_Row = TypeVarTuple("_Row")

OPEN_STATUSES: tuple[InvoiceStatus, ...] = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
PAYABLE_KINDS: tuple[InvoiceKind, ...] = (InvoiceKind.INVOICE, InvoiceKind.STATEMENT, InvoiceKind.FEE)
# Plans that still take money: a late or defaulted plan can still be paid off (→ completed).
OPEN_PLAN_STATUSES: tuple[PlanStatus, ...] = (PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.DEFAULTED)

# Rows locked per round trip while allocating across a payer's (possibly many) open invoices.
LOCK_CHUNK = 200


# --------------------------------------------------------------------------- query helpers


def balance_expr() -> sa.ColumnElement[Decimal]:
    """``total - paid - adjusted`` in SQL, typed as Money (integer cents in the database)."""
    return sa.type_coerce(Invoice.total - Invoice.amount_paid - Invoice.amount_adjusted, Money)


def open_invoices(
    side: PayerSide,
    *,
    client_id: int | None = None,
    payer_id: int | None = None,
    include_disputed: bool = False,
) -> sa.Select[Invoice]:
    """The party's open invoices, oldest first.

    Client side: the client's own bills (statements, client invoices, fees). Payer side: the
    payer's invoices, limited to one client when ``client_id`` is given. Items on dispute hold
    are left out unless ``include_disputed`` (automatic allocation never pays a contested item).
    """
    stmt = sa.select(Invoice).where(
        Invoice.status.in_(OPEN_STATUSES),
        Invoice.kind.in_(PAYABLE_KINDS),
        balance_expr() > ZERO,
    )
    if side == PayerSide.CLIENT:
        if client_id is None:
            raise ValueError("a client-side query needs client_id")
        stmt = stmt.where(Invoice.bill_to == BillTo.CLIENT, Invoice.client_id == client_id)
    else:
        if payer_id is None:
            raise ValueError("a payer-side query needs payer_id")
        stmt = stmt.where(Invoice.bill_to == BillTo.PAYER, Invoice.payer_id == payer_id)
        if client_id is not None:
            stmt = stmt.where(Invoice.client_id == client_id)
    if not include_disputed:
        stmt = stmt.where(Invoice.dispute_hold.is_(False))
    return oldest_first(stmt)


def oldest_first(stmt: sa.Select[*_Row]) -> sa.Select[*_Row]:
    return stmt.order_by(
        Invoice.due_date.asc().nulls_last(),
        Invoice.issue_date.asc().nulls_last(),
        Invoice.number.asc(),
        Invoice.id.asc(),
    )


def for_update(session: Session, stmt: sa.Select[*_Row]) -> sa.Select[*_Row]:
    """Lock the selected rows until commit on PostgreSQL and reload them from the database.

    SQLite has no row locks and needs none: every writing transaction starts with
    ``BEGIN IMMEDIATE``, so writers are already serialised.
    """
    stmt = stmt.execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return stmt


def client_balance(session: Session, client_id: int, *, include_disputed: bool = True) -> Decimal:
    """What the client owes on their own bills (open client-side balances)."""
    stmt = open_invoices(PayerSide.CLIENT, client_id=client_id, include_disputed=include_disputed)
    return _sum_balances(session, stmt)


def payer_balance(session: Session, payer_id: int, *, client_id: int | None = None) -> Decimal:
    stmt = open_invoices(PayerSide.PAYER, payer_id=payer_id, client_id=client_id, include_disputed=True)
    return _sum_balances(session, stmt)


def _sum_balances(session: Session, stmt: sa.Select[Invoice]) -> Decimal:
    sub = stmt.order_by(None).with_only_columns(balance_expr().label("b")).subquery()
    total = session.scalar(sa.select(sa.type_coerce(sa.func.coalesce(sa.func.sum(sub.c.b), 0), Money)))
    return total if total is not None else ZERO


def credit_filter(
    side: PayerSide, *, client_id: int | None, payer_id: int | None, spendable: bool = False
) -> sa.ColumnElement[bool]:
    """Which payments' unapplied money is this party's account credit.

    With ``spendable``: the credit that may go to this party's invoices now. A payer's payment
    that was limited to one client stays with that client: it is spendable only when that
    client is named; a payer's unlimited payment may go to any of the payer's invoices.
    """
    if side == PayerSide.CLIENT:
        return sa.and_(Payment.side == PayerSide.CLIENT, Payment.client_id == client_id)
    cond = sa.and_(Payment.side == PayerSide.PAYER, Payment.payer_id == payer_id)
    if spendable:
        limit: sa.ColumnElement[bool] = Payment.client_id.is_(None)
        if client_id is not None:
            limit = sa.or_(limit, Payment.client_id == client_id)
        return sa.and_(cond, limit)
    if client_id is not None:
        cond = sa.and_(cond, Payment.client_id == client_id)
    return cond


def account_credit(
    session: Session, side: PayerSide, *, client_id: int | None = None, payer_id: int | None = None
) -> Decimal:
    """Unapplied money (overpayments) the party has on account."""
    total = session.scalar(
        sa.select(sa.type_coerce(sa.func.coalesce(sa.func.sum(Payment.unapplied), 0), Money)).where(
            credit_filter(side, client_id=client_id, payer_id=payer_id), Payment.unapplied > ZERO
        )
    )
    return total if total is not None else ZERO


def resolve_client(session: Session, account_number: str) -> int:
    cid = session.scalar(sa.select(Client.id).where(Client.account_number == account_number.strip()))
    if cid is None:
        raise NotFound(f"no client with account number {account_number!r}")
    return cid


def resolve_payer(session: Session, name: str) -> int:
    pid = session.scalar(sa.select(Payer.id).where(Payer.name == name.strip()))
    if pid is None:
        # Forgive letter case, but only when it names exactly one payer.
        ids = session.scalars(
            sa.select(Payer.id).where(sa.func.lower(Payer.name) == name.strip().lower())
        ).all()
        if len(ids) != 1:
            raise NotFound(f"no payer named {name!r}")
        pid = ids[0]
    return pid


def resolve_invoice(session: Session, number: str) -> int:
    iid = session.scalar(sa.select(Invoice.id).where(Invoice.number == number.strip()))
    if iid is None:
        raise NotFound(f"no invoice numbered {number!r}")
    return iid


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class LedgerInvoice:
    id: int
    number: str
    kind: InvoiceKind
    bill_to: BillTo
    payer_name: str  # "" for the client's own bills
    issue_date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    amount_paid: Decimal
    amount_adjusted: Decimal
    balance: Decimal
    status: InvoiceStatus
    dispute_hold: bool

    def overdue(self, as_of: dt.date) -> bool:
        return (
            self.status in OPEN_STATUSES
            and self.balance > 0
            and self.due_date is not None
            and self.due_date < as_of
        )


@dataclass(frozen=True)
class LedgerAllocation:
    invoice_id: int
    invoice_number: str
    amount: Decimal
    installment_seq: int | None


@dataclass(frozen=True)
class LedgerPayment:
    id: int
    side: PayerSide
    payer_name: str
    amount: Decimal
    unapplied: Decimal
    method: PaymentMethod
    received_on: dt.date
    reference: str
    # Only the parts that went to this client's invoices (a payer's check may cover many clients).
    allocations: tuple[LedgerAllocation, ...]


@dataclass(frozen=True)
class ClientLedger:
    client_id: int
    account_number: str
    name: str
    status: ClientStatus
    client_balance: Decimal  # open balance on the client's own bills
    payer_balance: Decimal  # open balance on invoices to payers for this client
    account_credit: Decimal  # the client's unapplied payments
    plan_id: int | None  # the open payment plan, if any
    plan_status: PlanStatus | None
    invoices: tuple[LedgerInvoice, ...]  # newest first
    payments: tuple[LedgerPayment, ...]  # newest first
    more_invoices: bool  # True when the list was cut at ``limit``
    more_payments: bool


@dataclass(frozen=True)
class OpenItems:
    items: tuple[LedgerInvoice, ...]  # oldest first (the order money is applied in)
    count: int  # all open items, even beyond ``limit``
    total: Decimal  # their balance
    more: bool


def _ledger_invoice(inv: Invoice, payer_name: str | None) -> LedgerInvoice:
    return LedgerInvoice(
        id=inv.id,
        number=inv.number or "",
        kind=inv.kind,
        bill_to=inv.bill_to,
        payer_name=payer_name or "",
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        total=inv.total,
        amount_paid=inv.amount_paid,
        amount_adjusted=inv.amount_adjusted,
        balance=inv.balance,
        status=inv.status,
        dispute_hold=inv.dispute_hold,
    )


# --------------------------------------------------------------------------- services for screens


def client_ledger(actor: Actor, session: Session, client_id: int, *, limit: int = 100) -> ClientLedger:
    """One client's account: invoices with balances, payments with allocations, credit, plan."""
    require(actor, Action.VIEW)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    limit = max(1, min(limit, 1000))

    inv_rows = session.execute(
        sa.select(Invoice, Payer.name)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .where(Invoice.client_id == client_id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.issue_date.desc().nulls_last(), Invoice.id.desc())
        .limit(limit + 1)
    ).all()
    invoices = tuple(_ledger_invoice(inv, pname) for inv, pname in inv_rows[:limit])

    client_invoice_ids = sa.select(Invoice.id).where(Invoice.client_id == client_id).scalar_subquery()
    touching = sa.select(Allocation.payment_id).where(Allocation.invoice_id.in_(client_invoice_ids))
    pay_rows = session.execute(
        sa.select(Payment, Payer.name)
        .outerjoin(Payer, Payer.id == Payment.payer_id)
        .where(sa.or_(Payment.client_id == client_id, Payment.id.in_(touching)))
        .order_by(Payment.received_on.desc(), Payment.id.desc())
        .limit(limit + 1)
    ).all()
    shown = pay_rows[:limit]
    allocs: dict[int, list[LedgerAllocation]] = {p.id: [] for p, _ in shown}
    if shown:
        rows = session.execute(
            sa.select(
                Allocation.payment_id,
                Allocation.invoice_id,
                Invoice.number,
                Allocation.amount,
                Installment.seq,
            )
            .join(Invoice, Invoice.id == Allocation.invoice_id)
            .outerjoin(Installment, Installment.id == Allocation.installment_id)
            .where(Allocation.payment_id.in_(list(allocs)), Invoice.client_id == client_id)
            .order_by(Allocation.payment_id, Allocation.id)
        ).all()
        for pid, iid, number, amount, seq in rows:
            allocs[pid].append(LedgerAllocation(iid, number or "", amount, seq))
    payments = tuple(
        LedgerPayment(
            id=p.id,
            side=p.side,
            payer_name=pname or "",
            amount=p.amount,
            unapplied=p.unapplied,
            method=p.method,
            received_on=p.received_on,
            reference=p.reference,
            allocations=tuple(allocs[p.id]),
        )
        for p, pname in shown
    )

    plan = session.execute(
        sa.select(PaymentPlan.id, PaymentPlan.status)
        .where(PaymentPlan.client_id == client_id, PaymentPlan.status.in_(OPEN_PLAN_STATUSES))
        .order_by(PaymentPlan.id.desc())
        .limit(1)
    ).first()
    payer_total = _sum_balances(
        session,
        sa.select(Invoice).where(
            Invoice.client_id == client_id,
            Invoice.bill_to == BillTo.PAYER,
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.kind.in_(PAYABLE_KINDS),
            balance_expr() > ZERO,
        ),
    )
    return ClientLedger(
        client_id=client.id,
        account_number=client.account_number,
        name=client.display_name,
        status=client.status,
        client_balance=client_balance(session, client_id),
        payer_balance=payer_total,
        account_credit=account_credit(session, PayerSide.CLIENT, client_id=client_id),
        plan_id=plan[0] if plan else None,
        plan_status=plan[1] if plan else None,
        invoices=invoices,
        payments=payments,
        more_invoices=len(inv_rows) > limit,
        more_payments=len(pay_rows) > limit,
    )


def open_items(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    client_id: int | None = None,
    payer_id: int | None = None,
    include_disputed: bool = True,
    limit: int = 100,
) -> OpenItems:
    """The party's open invoices in the order a payment would be applied, with count and total."""
    require(actor, Action.VIEW)
    side = PayerSide(side)
    stmt = open_invoices(side, client_id=client_id, payer_id=payer_id, include_disputed=include_disputed)
    limit = max(1, min(limit, 1000))
    rows = session.execute(
        stmt.add_columns(Payer.name).outerjoin(Payer, Payer.id == Invoice.payer_id).limit(limit + 1)
    ).all()
    count = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return OpenItems(
        items=tuple(_ledger_invoice(inv, pname) for inv, pname in rows[:limit]),
        count=count,
        total=_sum_balances(session, stmt),
        more=len(rows) > limit,
    )


def open_invoice_ids(session: Session, stmt: sa.Select[Invoice]) -> Sequence[int]:
    """Ids only (for tests and previews of small parties)."""
    return session.scalars(stmt.with_only_columns(Invoice.id)).all()
