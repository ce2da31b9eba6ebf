"""Read-only helpers for the clerk's billing screens: what issuing a build of drafts will do.

``issue_preview`` answers the confirmation dialog's questions before anything is written:
which documents, to whom, for how much, due when, and which numbers they are expected to get.
The numbers are read from the ``number_sequences`` counters without locking them (nothing is
taken): the real numbers are assigned by ``billing.invoices.issue_drafts`` in the issuing
transaction, so if another clerk issues in between, the next free numbers are used instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.invoices import NUMBER_DIGITS, Problem, check_invoice, get_invoice_row, invoice_view, terms_days
from db.models import BillTo, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, NumberSequence
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import office_today


@dataclass(frozen=True)
class IssueItem:
    """One draft as it will be issued."""

    invoice_id: int
    draft_label: str  # "draft #12"
    kind: InvoiceKind
    bill_to: BillTo
    party: str  # payer name, or the client's name for a statement
    member_id: str
    coverage_id: int | None
    total: Decimal
    expected_number: str
    issue_date: dt.date
    due_date: dt.date
    terms_days: int
    problems: tuple[Problem, ...]  # every failed check (see ``blocking``)
    blocking: tuple[Problem, ...]  # the ones that stop the issue when the drafts go together


@dataclass(frozen=True)
class IssuePreview:
    items: tuple[IssueItem, ...]  # in issue order: payer invoices first, then statements

    @property
    def blocking(self) -> tuple[tuple[IssueItem, Problem], ...]:
        return tuple((i, p) for i in self.items for p in i.blocking)

    @property
    def ok(self) -> bool:
        return bool(self.items) and not self.blocking


def issue_preview(actor: Actor, session: Session, invoice_ids: Sequence[int]) -> IssuePreview:
    """What ``issue_drafts(invoice_ids)`` would do today, without doing it.

    An "order" problem (a statement waits for a payer draft) is not blocking when that payer
    draft is issued together with it: ``issue_drafts`` issues payer invoices first.
    """
    require(actor, Action.VIEW)
    invs = [get_invoice_row(session, i) for i in invoice_ids]
    invs.sort(key=lambda i: (i.bill_to != BillTo.PAYER, i.id))
    together = {i.id for i in invs}
    today = office_today(office_timezone(session))
    counters = {
        name: (row.next_value if row is not None else 1)
        for name in ("invoice", "credit_note")
        for row in [session.get(NumberSequence, name)]
    }
    prefix = {
        "invoice": str(get_setting(session, "billing.invoice_prefix")),
        "credit_note": str(get_setting(session, "billing.credit_note_prefix")),
    }
    items: list[IssueItem] = []
    for inv in invs:
        view = invoice_view(session, inv)
        problems = check_invoice(actor, session, inv.id) if inv.status == InvoiceStatus.DRAFT else ()
        # A statement waiting for payer drafts is fine when those go first in the same issue.
        waits_ok = any(p.check == "order" for p in problems) and _waiting_on(session, inv.id) <= together
        blocking = tuple(p for p in problems if not (p.check == "order" and waits_ok))
        if inv.status != InvoiceStatus.DRAFT:
            blocking = (Problem("order", None, f"{view.label} is already {inv.status.value}"),)
        seq = "credit_note" if inv.kind == InvoiceKind.CREDIT_NOTE else "invoice"
        number = f"{prefix[seq]}{counters[seq]:0{NUMBER_DIGITS}d}"
        counters[seq] += 1
        days = terms_days(session, inv)
        items.append(
            IssueItem(
                invoice_id=inv.id,
                draft_label=view.label,
                kind=inv.kind,
                bill_to=inv.bill_to,
                party=view.bill_to_name,
                member_id=view.member_id,
                coverage_id=inv.coverage_id,
                total=view.total,
                expected_number=number,
                issue_date=today,
                due_date=today + dt.timedelta(days=days),
                terms_days=days,
                problems=tuple(problems),
                blocking=blocking,
            )
        )
    return IssuePreview(tuple(items))


def _waiting_on(session: Session, invoice_id: int) -> set[int]:
    """Payer drafts that bill the same services as this (statement) draft."""
    services = sa.select(InvoiceLine.service_id).where(
        InvoiceLine.invoice_id == invoice_id, InvoiceLine.service_id.is_not(None)
    )
    return set(
        session.scalars(
            sa.select(Invoice.id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(
                InvoiceLine.service_id.in_(services),
                Invoice.status == InvoiceStatus.DRAFT,
                Invoice.bill_to == BillTo.PAYER,
                Invoice.id != invoice_id,
            )
        )
    )
