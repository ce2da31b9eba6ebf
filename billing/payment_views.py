"""Read-only figures for the payment, batch and plan screens (docs/payments.md).

The posting itself is ``billing.payments`` / ``billing.plans``; this module only gathers what a
clerk must see before saving: the party's open items and credit, where a payment would go
invoice by invoice (balance before and after), and what a plan would finance. Nothing here
writes; every function checks the right the matching write needs (or VIEW), like a service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, payments, plans
from billing.catalog import list_payers
from billing.clients import get_client
from db.errors import NotFound, ValidationError
from db.models import Client, ClientStatus, Invoice, InvoiceStatus, PayerSide, PlanInterval, PlanStatus
from db.money import ZERO
from db.rights import Action, Actor, require
from db.settings import get_setting, office_timezone
from db.timeutil import office_today

OPEN_ITEMS_SHOWN = 100  # a payer may have thousands open; the screen lists the oldest ones


@dataclass(frozen=True)
class PayerChoice:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class DeskContext:
    """What every payment screen needs once: today, the currency symbol, the payers."""

    today: dt.date
    symbol: str
    payers: tuple[PayerChoice, ...]


def desk_context(actor: Actor, session: Session) -> DeskContext:
    require(actor, Action.PAYMENT_POST)
    return DeskContext(
        today=office_today(office_timezone(session)),
        symbol=str(get_setting(session, "office.currency_symbol")),
        payers=tuple(PayerChoice(p.id, p.name, p.kind.value) for p in list_payers(actor, session)),
    )


@dataclass(frozen=True)
class ClientBrief:
    id: int
    account_number: str
    name: str
    status: ClientStatus


def client_brief(actor: Actor, session: Session, client_id: int) -> ClientBrief:
    c = get_client(actor, session, client_id)
    return ClientBrief(c.id, c.account_number, c.display_name, c.status)


# --------------------------------------------------------------------------- a party's open items


@dataclass(frozen=True)
class PartySummary:
    side: PayerSide
    client_id: int | None
    payer_id: int | None
    open_count: int  # every open item, even beyond ``items``
    open_total: Decimal
    credit: Decimal  # account credit this party holds
    items: tuple[ledger.LedgerInvoice, ...]  # oldest first, at most OPEN_ITEMS_SHOWN
    more: bool
    plan_number: str  # the client's open plan ("" for none or a payer)
    plan_status: PlanStatus | None
    # Payer side: whose invoice each one is (invoice id → "A00012 Doe, Jane"), for remittances.
    clients: dict[int, str] = field(default_factory=dict)


def party_summary(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    client_id: int | None = None,
    payer_id: int | None = None,
    limit: int = OPEN_ITEMS_SHOWN,
) -> PartySummary:
    """Open items (disputed ones too: a clerk may name one) in the order money is applied."""
    require(actor, Action.PAYMENT_POST)
    s = PayerSide(side)
    if s == PayerSide.CLIENT and client_id is None:
        raise ValidationError.from_fields({"client": "is required"})
    if s == PayerSide.PAYER and payer_id is None:
        raise ValidationError.from_fields({"payer": "is required"})
    items = ledger.open_items(
        actor, session, side=s, client_id=client_id, payer_id=payer_id, include_disputed=True, limit=limit
    )
    plan = plans.current_plan(actor, session, client_id) if s == PayerSide.CLIENT and client_id else None
    whose: dict[int, str] = {}
    if s == PayerSide.PAYER and items.items:
        rows = session.execute(
            sa.select(Invoice.id, Client.account_number, Client.last_name, Client.first_name)
            .join(Client, Client.id == Invoice.client_id)
            .where(Invoice.id.in_([i.id for i in items.items]))
        ).all()
        whose = {iid: f"{acct} {last}, {first}".strip(", ") for iid, acct, last, first in rows}
    return PartySummary(
        side=s,
        client_id=client_id,
        payer_id=payer_id,
        open_count=items.count,
        open_total=items.total,
        credit=ledger.account_credit(session, s, client_id=client_id, payer_id=payer_id),
        items=items.items,
        more=items.more,
        plan_number=plan.number if plan else "",
        plan_status=plan.status if plan else None,
        clients=whose,
    )


# --------------------------------------------------------------------------- where a payment would go


@dataclass(frozen=True)
class AllocationLine:
    invoice_id: int
    number: str
    due_date: dt.date | None
    balance_before: Decimal
    amount: Decimal
    installments: tuple[int, ...]  # plan installment numbers this money pays

    @property
    def balance_after(self) -> Decimal:
        return self.balance_before - self.amount

    @property
    def status_after(self) -> InvoiceStatus:
        return InvoiceStatus.PAID if self.balance_after <= 0 else InvoiceStatus.PARTIALLY_PAID


@dataclass(frozen=True)
class PaymentExplanation:
    amount: Decimal
    lines: tuple[AllocationLine, ...]
    credit: Decimal  # what becomes account credit
    plan_number: str  # the plan whose installments are paid, or ""


def explain_payment(
    actor: Actor,
    session: Session,
    *,
    side: PayerSide | str,
    amount: Decimal | str,
    client_id: int | None = None,
    payer_id: int | None = None,
    invoice_id: int | None = None,
) -> PaymentExplanation:
    """Invoice by invoice, what posting this payment now would do. Changes nothing."""
    preview = payments.preview_payment(
        actor,
        session,
        side=side,
        amount=amount,
        client_id=client_id,
        payer_id=payer_id,
        invoice_id=invoice_id,
    )
    by_invoice: dict[int, list[payments.AllocationView]] = {}
    for a in preview.allocations:
        by_invoice.setdefault(a.invoice_id, []).append(a)
    lines: list[AllocationLine] = []
    for iid, parts in by_invoice.items():
        inv = session.get(Invoice, iid)
        assert inv is not None  # the preview just read it
        lines.append(
            AllocationLine(
                invoice_id=iid,
                number=parts[0].invoice_number,
                due_date=inv.due_date,
                balance_before=inv.balance,
                amount=sum((p.amount for p in parts), ZERO),
                installments=tuple(p.installment_seq for p in parts if p.installment_seq is not None),
            )
        )
    plan_number = ""
    if any(line.installments for line in lines) and client_id is not None:
        plan = plans.current_plan(actor, session, client_id)
        plan_number = plan.number if plan else ""
    total = sum((line.amount for line in lines), ZERO) + preview.credit
    return PaymentExplanation(total, tuple(lines), preview.credit, plan_number)


def find_invoice_id(actor: Actor, session: Session, number: str) -> int:
    """The id of the invoice with this number (as typed on a check stub)."""
    require(actor, Action.VIEW)
    text = (number or "").strip().upper()
    if not text:
        raise ValidationError.from_fields({"invoice": "is required"})
    try:
        return ledger.resolve_invoice(session, text)
    except NotFound:
        raise ValidationError.from_fields({"invoice": f"no invoice numbered {number.strip()!r}"}) from None


# --------------------------------------------------------------------------- what a plan would finance


@dataclass(frozen=True)
class PlanContext:
    """The plan set-up screen's header: what would be financed, or why no plan can be made."""

    client_id: int
    account_number: str
    name: str
    today: dt.date
    symbol: str
    financeable: Decimal  # open balance on the client's own bills, not on dispute hold
    disputed: Decimal  # on dispute hold: not financed
    credit: Decimal  # account credit; must be applied before a plan is made
    open_plan: str  # number of the open plan ("" for none)
    open_plan_status: PlanStatus | None
    closed: bool
    grace_days: int
    default_after: int

    @property
    def blocked(self) -> str:
        """Why no plan can be made now ("" when one can)."""
        if self.closed:
            return f"account {self.account_number} is closed"
        if self.open_plan:
            status = self.open_plan_status.value if self.open_plan_status else "open"
            return (
                f"account {self.account_number} already has an open plan ({self.open_plan}, {status}); "
                "a supervisor must cancel it before a new one is made"
            )
        if self.credit > 0:
            return "the account has credit: apply it to the open bills first"
        if self.financeable <= 0:
            return "the client owes nothing on their own bills that can be financed"
        return ""


def plan_context(actor: Actor, session: Session, client_id: int) -> PlanContext:
    require(actor, Action.PLAN_CREATE)
    client = get_client(actor, session, client_id)
    total = ledger.client_balance(session, client_id, include_disputed=True)
    free = ledger.client_balance(session, client_id, include_disputed=False)
    plan = plans.current_plan(actor, session, client_id)
    grace, default_after = plans.plan_settings(session)
    return PlanContext(
        client_id=client.id,
        account_number=client.account_number,
        name=client.display_name,
        today=office_today(office_timezone(session)),
        symbol=str(get_setting(session, "office.currency_symbol")),
        financeable=free,
        disputed=total - free,
        credit=ledger.account_credit(session, PayerSide.CLIENT, client_id=client_id),
        open_plan=plan.number if plan else "",
        open_plan_status=plan.status if plan else None,
        closed=client.status == ClientStatus.CLOSED,
        grace_days=grace,
        default_after=default_after,
    )


def schedule_problems(
    count: int, interval: PlanInterval | str, first_due: dt.date, today: dt.date, amount: Decimal
) -> dict[str, str]:
    """The same checks ``plans.create_plan`` makes on the terms, for a live preview (pure)."""
    errors: dict[str, str] = {}
    if not 1 <= count <= plans.MAX_INSTALLMENTS:
        errors["count"] = f"must be between 1 and {plans.MAX_INSTALLMENTS}"
    try:
        PlanInterval(interval)
    except ValueError:
        errors["interval"] = "must be weekly, biweekly or monthly"
    if first_due < today:
        errors["first_due"] = f"is in the past (today is {today.isoformat()})"
    elif first_due > today + dt.timedelta(days=plans.MAX_FIRST_DUE_DAYS):
        errors["first_due"] = "is more than a year away"
    if "count" not in errors and amount > 0 and amount < Decimal(count) * Decimal("0.01"):
        errors["count"] = f"{count} installments would be less than one cent each"
    return errors
