"""ORM-level factories for the payment and plan tests: clients, payers, issued invoices.

They write rows directly (no services), so these tests do not depend on the invoice
services' timing; the figures are exactly what a test gives.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.engine import Database
from db.models import (
    BillTo,
    Client,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    PayerKind,
    Payment,
    PaymentPlan,
)
from db.money import to_money

_numbers = itertools.count(1)


def make_client(
    s: Session, account: str = "A-1001", first: str = "Jane", last: str = "Doe", **kw: object
) -> int:
    c = Client(account_number=account, first_name=first, last_name=last, **kw)
    s.add(c)
    s.flush()
    return c.id


def make_payer(s: Session, name: str = "Acme Health", terms_days: int = 30) -> int:
    p = Payer(name=name, kind=PayerKind.INSURER, terms_days=terms_days)
    s.add(p)
    s.flush()
    return p.id


def make_invoice(
    s: Session,
    *,
    client_id: int,
    created_by: int,
    total: str | Decimal,
    issue_date: dt.date,
    due_date: dt.date | None = None,
    number: str | None = None,
    payer_id: int | None = None,
    status: InvoiceStatus = InvoiceStatus.ISSUED,
    kind: InvoiceKind | None = None,
    paid: str | Decimal = "0.00",
    adjusted: str | Decimal = "0.00",
    dispute_hold: bool = False,
) -> int:
    """An issued invoice (to ``payer_id`` if given, else a client statement)."""
    bill_to = BillTo.PAYER if payer_id is not None else BillTo.CLIENT
    inv = Invoice(
        number=number or f"T-{next(_numbers):06d}",
        kind=kind or (InvoiceKind.INVOICE if payer_id is not None else InvoiceKind.STATEMENT),
        client_id=client_id,
        bill_to=bill_to,
        payer_id=payer_id,
        status=status,
        issue_date=issue_date,
        due_date=due_date or issue_date + dt.timedelta(days=30),
        total=to_money(total),
        amount_paid=to_money(paid),
        amount_adjusted=to_money(adjusted),
        dispute_hold=dispute_hold,
        created_by=created_by,
        issued_by=created_by if status != InvoiceStatus.DRAFT else None,
        issued_at=pendulum.datetime(issue_date.year, issue_date.month, issue_date.day, 15, tz="UTC")
        if status != InvoiceStatus.DRAFT
        else None,
    )
    if status == InvoiceStatus.DRAFT:
        inv.number = None
    s.add(inv)
    s.flush()
    return inv.id


# --------------------------------------------------------------------------- read-backs for assertions


def invoice_figures(db: Database, invoice_id: int) -> tuple[Decimal, InvoiceStatus]:
    """(amount paid, status) straight from the database."""

    def go(s: Session) -> tuple[Decimal, InvoiceStatus]:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        return inv.amount_paid, inv.status

    return db.read(go)


def count_rows(db: Database, model: type) -> int:
    return db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def payments_total(db: Database) -> Decimal:
    def go(s: Session) -> Decimal:
        return sum((p.amount for p in s.scalars(sa.select(Payment))), Decimal("0.00"))

    return db.read(go)


def installment_figures(db: Database, plan_id: int) -> list[tuple[int, Decimal, str]]:
    def go(s: Session) -> list[tuple[int, Decimal, str]]:
        rows = s.scalars(
            sa.select(Installment).where(Installment.plan_id == plan_id).order_by(Installment.seq)
        )
        return [(i.seq, i.paid_amount, i.status.value) for i in rows]

    return db.read(go)


def plan_status(db: Database, plan_id: int) -> str:
    return db.read(lambda s: s.get(PaymentPlan, plan_id).status.value)  # type: ignore[union-attr]
