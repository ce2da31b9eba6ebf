"""Factories for the collections tests: an issued invoice with lines, written as rows."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal

import pendulum
from sqlalchemy.orm import Session

from db.models import BillTo, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from db.money import to_money

_numbers = itertools.count(1)


def invoice_with_lines(
    s: Session,
    *,
    client_id: int,
    created_by: int,
    lines: Sequence[str],
    issue_date: dt.date,
    due_date: dt.date,
    number: str | None = None,
    payer_id: int | None = None,
    paid: str = "0.00",
) -> int:
    """An issued statement (or a payer invoice) whose total is the sum of ``lines``."""
    amounts = [to_money(a) for a in lines]
    total = sum(amounts, Decimal("0.00"))
    paid_ = to_money(paid)
    inv = Invoice(
        number=number or f"L-{next(_numbers):06d}",
        kind=InvoiceKind.INVOICE if payer_id is not None else InvoiceKind.STATEMENT,
        client_id=client_id,
        bill_to=BillTo.PAYER if payer_id is not None else BillTo.CLIENT,
        payer_id=payer_id,
        status=InvoiceStatus.PARTIALLY_PAID if paid_ > 0 else InvoiceStatus.ISSUED,
        issue_date=issue_date,
        due_date=due_date,
        total=total,
        amount_paid=paid_,
        created_by=created_by,
        issued_by=created_by,
        issued_at=pendulum.datetime(issue_date.year, issue_date.month, issue_date.day, 15, tz="UTC"),
    )
    for i, amount in enumerate(amounts, start=1):
        inv.lines.append(
            InvoiceLine(
                line_no=i,
                code=f"C{i}",
                description=f"Service {i}",
                service_date=issue_date,
                units=1,
                unit_price=amount,
                amount=amount,
                explain=[{"key": "fee", "label": f"Fee {i}", "amount": f"{amount:.2f}", "ref": None}],
            )
        )
    s.add(inv)
    s.flush()
    return inv.id
