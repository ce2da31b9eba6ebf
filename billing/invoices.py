"""Invoices and statements: build, check, number, issue, credit, void, list (docs/billing.md).

Life of a bill
--------------
``build_invoices`` turns a client's unbilled services into *drafts*, one per party: an invoice
to the primary payer, one to the secondary payer, and a client statement for what is left to
the client (``billing.split``). Services with no coverage in force go on the statement at the
catalog fee. Building marks the services billed, so a second build cannot take them again; the
drafts of one build stand or fall together (``discard_draft`` discards them all and releases
the services).

``issue_invoice`` runs the accuracy checks (``check_invoice``), then assigns the next number,
sets the issue date (office today) and the due date (payer's terms; statements:
``billing.statement_terms_days``), takes the deductible it used off the coverage, and freezes
the invoice. A statement that depends on a payer invoice of the same build is issued after it.

Numbers are gap-free and never reused: the ``invoice`` (or ``credit_note``) row of
``number_sequences`` is locked by the issuing transaction (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), so concurrent issuers queue, and
a rolled-back issue gives its number back with the rollback.

Issued invoices are never edited: services refuse with ``FrozenError``, and a ``before_flush``
guard refuses any change to an issued invoice's frozen fields or lines from any code path.
Corrections are credit notes (``credit_invoice``: negative lines referencing the credited
lines, own number, booked on the original as a ``correction`` adjustment); ``void_invoice``
(supervisors, with a reason) keeps the number and is refused once payments are allocated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from billing.catalog import Price, office_day, pin, pinned_get, price_for, setting
from billing.clients import get_client_row, locked, take_sequence_value
from billing.coverage import active_coverages, eligibility_status, in_force
from billing.split import CoverageTerms, ServiceSplit, Step, coverage_figure, parse_steps, split_service
from db import audit
from db.coltypes import Money
from db.errors import ConflictError, FrozenError, NotFound, ValidationError
from db.models import (
    Adjustment,
    AdjustmentKind,
    Allocation,
    BillTo,
    Client,
    Coverage,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payer,
    ServiceCode,
    ServiceRendered,
)
from db.money import ZERO, to_money
from db.rights import Action, Actor, require
from db.timeutil import now

NUMBER_DIGITS = 6
HEADER_FIELDS = (
    "number",
    "kind",
    "client_id",
    "bill_to",
    "payer_id",
    "coverage_id",
    "credits_invoice_id",
    "status",
    "issue_date",
    "due_date",
    "total",
    "void_reason",
)
# Fields an issued invoice keeps forever. Money received, adjustments, status and the dispute
# hold move on (payments, collections), everything that was printed does not.
FROZEN_FIELDS = (
    "number",
    "kind",
    "client_id",
    "bill_to",
    "payer_id",
    "coverage_id",
    "credits_invoice_id",
    "issue_date",
    "due_date",
    "total",
    "created_by",
    "issued_by",
    "issued_at",
)
CREDITABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class LineView:
    id: int
    line_no: int
    service_id: int | None
    code: str  # as the bill-to party knows it
    description: str
    service_date: dt.date | None
    units: int
    unit_price: Decimal  # price basis per unit (payer's allowed amount or catalog fee)
    charge: Decimal  # units × unit price
    amount: Decimal  # this party's part of the charge
    explain: tuple[Step, ...]
    credits_line_id: int | None


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str | None
    kind: InvoiceKind
    status: InvoiceStatus
    client_id: int
    account_number: str
    client_name: str
    bill_to: BillTo
    payer_id: int | None
    payer_name: str
    coverage_id: int | None
    member_id: str
    credits_invoice_id: int | None
    issue_date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    amount_paid: Decimal
    amount_adjusted: Decimal
    balance: Decimal
    dispute_hold: bool
    void_reason: str
    version: int
    lines: tuple[LineView, ...]

    @property
    def label(self) -> str:
        return self.number or f"draft #{self.id}"

    @property
    def bill_to_name(self) -> str:
        return self.payer_name if self.bill_to == BillTo.PAYER else self.client_name


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    kind: InvoiceKind
    status: InvoiceStatus
    client_id: int
    account_number: str
    client_name: str
    bill_to_name: str
    issue_date: dt.date | None
    due_date: dt.date | None
    total: Decimal
    balance: Decimal
    dispute_hold: bool


@dataclass(frozen=True)
class InvoicePage:
    rows: tuple[InvoiceRow, ...]
    next_after: int | None  # invoice id; pass back as ``after``


@dataclass(frozen=True)
class Problem:
    """One failed accuracy check."""

    check: (
        str  # coverage, eligibility, mapping, deductible, billed_twice, duplicate, totals, client_data, order
    )
    line_no: int | None
    message: str  # names the line: "line 2 (G0008, 2026-11-02): …"


class IssueRefused(ValidationError):
    """The accuracy checks failed; ``problems`` lists every failure."""

    def __init__(self, label: str, problems: Sequence[Problem]) -> None:
        msg = f"{label} cannot be issued: " + "; ".join(p.message for p in problems)
        super().__init__(msg, {f"line {p.line_no}" if p.line_no else p.check: p.message for p in problems})
        self.problems = tuple(problems)


@dataclass(frozen=True)
class BuildResult:
    drafts: tuple[InvoiceView, ...]  # payer invoices first, then the statement
    services: int  # services billed


# --------------------------------------------------------------------------- view builders


def _line_view(line: InvoiceLine) -> LineView:
    return LineView(
        id=line.id,
        line_no=line.line_no,
        service_id=line.service_id,
        code=line.code,
        description=line.description,
        service_date=line.service_date,
        units=line.units,
        unit_price=line.unit_price,
        charge=(line.unit_price * line.units).quantize(Decimal("0.01")),
        amount=line.amount,
        explain=parse_steps(line.explain),
        credits_line_id=line.credits_line_id,
    )


def invoice_view(session: Session, inv: Invoice) -> InvoiceView:
    client = pinned_get(session, Client, inv.client_id)
    assert client is not None
    payer = pinned_get(session, Payer, inv.payer_id) if inv.payer_id else None
    cov = pinned_get(session, Coverage, inv.coverage_id) if inv.coverage_id else None
    return InvoiceView(
        id=inv.id,
        number=inv.number,
        kind=inv.kind,
        status=inv.status,
        client_id=inv.client_id,
        account_number=client.account_number,
        client_name=client.display_name,
        bill_to=inv.bill_to,
        payer_id=inv.payer_id,
        payer_name=payer.name if payer else "",
        coverage_id=inv.coverage_id,
        member_id=cov.member_id if cov else "",
        credits_invoice_id=inv.credits_invoice_id,
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        total=inv.total,
        amount_paid=inv.amount_paid,
        amount_adjusted=inv.amount_adjusted,
        balance=inv.balance,
        dispute_hold=inv.dispute_hold,
        void_reason=inv.void_reason,
        version=inv.version,
        lines=tuple(_line_view(ln) for ln in inv.lines),
    )


def _label(inv: Invoice) -> str:
    return inv.number or f"draft #{inv.id}"


def _line_label(line: InvoiceLine) -> str:
    when = f", {line.service_date}" if line.service_date else ""
    return f"line {line.line_no} ({line.code}{when})"


def _snapshot(inv: Invoice) -> dict[str, Any]:
    data = audit.snapshot(inv, HEADER_FIELDS)
    data["lines"] = [
        {"no": ln.line_no, "service": ln.service_id, "code": ln.code, "units": ln.units, "amount": ln.amount}
        for ln in inv.lines
    ]
    return data


def _today(session: Session) -> dt.date:
    return office_day(session)


def get_invoice_row(session: Session, invoice_id: int, *, lock: bool = False) -> Invoice:
    stmt = sa.select(Invoice).where(Invoice.id == invoice_id)
    inv = session.scalars(locked(session, stmt) if lock else stmt).one_or_none()
    if inv is None:
        raise NotFound(f"no invoice with id {invoice_id}")
    return inv


def find_invoice(session: Session, number: str) -> Invoice:
    inv = session.scalars(sa.select(Invoice).where(Invoice.number == number.strip().upper())).one_or_none()
    if inv is None:
        raise NotFound(f"no invoice numbered {number.strip()!r}")
    return inv


def get_invoice(actor: Actor, session: Session, invoice_id: int) -> InvoiceView:
    require(actor, Action.VIEW)
    return invoice_view(session, get_invoice_row(session, invoice_id))


def get_invoice_by_number(actor: Actor, session: Session, number: str) -> InvoiceView:
    require(actor, Action.VIEW)
    return invoice_view(session, find_invoice(session, number))


# --------------------------------------------------------------------------- live lines


def _credited(session: Session, line_ids: Sequence[int]) -> dict[int, tuple[int, Decimal]]:
    """line id → (number of credit lines, amount credited) on credit notes that are not void."""
    if not line_ids:
        return {}
    rows = session.execute(
        sa.select(
            InvoiceLine.credits_line_id,
            sa.func.count(),
            sa.type_coerce(sa.func.sum(InvoiceLine.amount), Money),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.credits_line_id.in_(list(line_ids)), Invoice.status != InvoiceStatus.VOID)
        .group_by(InvoiceLine.credits_line_id)
    ).all()
    # credits_line_id IS NOT NULL by the in_() filter; the test narrows the type.
    return {lid: (n, -(amount if amount is not None else ZERO)) for lid, n, amount in rows if lid is not None}


def _fully_credited(line: InvoiceLine, credited: Mapping[int, tuple[int, Decimal]]) -> bool:
    n, amount = credited.get(line.id, (0, ZERO))
    return n > 0 and amount >= line.amount


def live_lines(
    session: Session, service_ids: Sequence[int], *, exclude_invoice_id: int | None = None
) -> list[tuple[InvoiceLine, Invoice]]:
    """Lines billing these services on drafts or issued documents that are not void and not fully
    credited (credit notes themselves excluded)."""
    if not service_ids:
        return []
    stmt = (
        sa.select(InvoiceLine, Invoice)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.service_id.in_(list(service_ids)),
            Invoice.kind != InvoiceKind.CREDIT_NOTE,
            Invoice.status != InvoiceStatus.VOID,
        )
    )
    if exclude_invoice_id is not None:
        stmt = stmt.where(Invoice.id != exclude_invoice_id)
    rows = [(ln, inv) for ln, inv in session.execute(stmt).all()]
    credited = _credited(session, [ln.id for ln, _ in rows])
    return [(ln, inv) for ln, inv in rows if not _fully_credited(ln, credited)]


def _release_services(session: Session, service_ids: Sequence[int]) -> list[int]:
    """Services no longer on any live document become unbilled again (to be rebilled)."""
    still = {ln.service_id for ln, _ in live_lines(session, service_ids)}
    released = [sid for sid in service_ids if sid not in still]
    if released:
        for svc in session.scalars(sa.select(ServiceRendered).where(ServiceRendered.id.in_(released))):
            svc.billed = False
    return released


# --------------------------------------------------------------------------- build


@dataclass
class _Draft:
    kind: InvoiceKind
    bill_to: BillTo
    payer_id: int | None
    coverage_id: int | None
    lines: list[dict[str, Any]]


def _planned_deductible(session: Session, coverage_id: int) -> Decimal:
    """Deductible that other, not yet issued drafts for this coverage mean to use."""
    rows = session.execute(
        sa.select(InvoiceLine.explain)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.coverage_id == coverage_id, Invoice.status == InvoiceStatus.DRAFT)
    ).all()
    return sum((coverage_figure(r[0], "deductible", coverage_id) for r in rows), ZERO)


def _copay_taken(session: Session, coverage_id: int, day: dt.date) -> Decimal:
    """Copay already taken for this coverage's visit on ``day`` by live lines of earlier builds."""
    rows = session.execute(
        sa.select(InvoiceLine, Invoice)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.coverage_id == coverage_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status != InvoiceStatus.VOID,
            InvoiceLine.service_date == day,
        )
    ).all()
    credited = _credited(session, [ln.id for ln, _ in rows])
    return sum(
        (
            coverage_figure(ln.explain, "copay", coverage_id)
            for ln, _ in rows
            if not _fully_credited(ln, credited)
        ),
        ZERO,
    )


def _terms(cov: Coverage, price: Price, copay_due: Decimal, ded: Decimal) -> tuple[CoverageTerms, Price]:
    terms = CoverageTerms(
        payer_name=cov.payer.name,
        unit_price=price.unit_price,
        copay_due=copay_due,
        coinsurance_bp=cov.coinsurance_bp,
        deductible_remaining=ded,
        ref=cov.id,
        price_source=price.source,
    )
    return terms, price


def build_invoices(
    actor: Actor, session: Session, client_id: int, *, service_ids: Sequence[int] | None = None
) -> BuildResult:
    """Draft the bills for a client's unbilled services (all, or the ones named)."""
    require(actor, Action.INVOICE_BUILD)
    client = get_client_row(session, client_id)
    stmt = (
        sa.select(ServiceRendered)
        .where(
            ServiceRendered.client_id == client.id,
            ServiceRendered.billed.is_(False),
            ServiceRendered.voided.is_(False),
        )
        .order_by(ServiceRendered.service_date, ServiceRendered.id)
    )
    if service_ids is not None:
        stmt = stmt.where(ServiceRendered.id.in_(list(service_ids)))
    # Locked on PostgreSQL: a second clerk building the same client waits, then finds them billed.
    services = session.scalars(locked(session, stmt)).all()
    if service_ids is not None:
        missing = sorted(set(service_ids) - {s.id for s in services})
        if missing:
            raise ValidationError.from_fields(
                {
                    "services": f"not unbilled services of {client.account_number}: {', '.join(map(str, missing))}"
                }
            )
    if not services:
        raise ValidationError.from_fields({"services": f"{client.account_number} has no unbilled services"})

    client_covs = active_coverages(session, client.id)
    prices: dict[tuple[int, int], Price] = {}
    deductible_left: dict[int, Decimal] = {}
    copay_taken: dict[tuple[int, dt.date], Decimal] = {}
    drafts: dict[tuple[str, int | None], _Draft] = {}

    def draft_for(cov: Coverage | None) -> _Draft:
        key = ("payer", cov.id) if cov is not None else ("client", None)
        if key not in drafts:
            if cov is None:
                drafts[key] = _Draft(InvoiceKind.STATEMENT, BillTo.CLIENT, None, None, [])
            else:
                drafts[key] = _Draft(InvoiceKind.INVOICE, BillTo.PAYER, cov.payer_id, cov.id, [])
        return drafts[key]

    def terms_for(cov: Coverage, code: ServiceCode, day: dt.date) -> tuple[CoverageTerms, Any]:
        if cov.id not in deductible_left:
            deductible_left[cov.id] = max(
                cov.deductible_remaining - _planned_deductible(session, cov.id), ZERO
            )
        visit = (cov.id, day)
        if visit not in copay_taken:
            copay_taken[visit] = _copay_taken(session, cov.id, day)
        key = (cov.payer_id, code.id)
        if key not in prices:
            prices[key] = price_for(session, cov.payer_id, code)
        return _terms(cov, prices[key], max(cov.copay - copay_taken[visit], ZERO), deductible_left[cov.id])

    def take(cov: Coverage, day: dt.date, split_steps: tuple[Step, ...]) -> None:
        deductible_left[cov.id] -= coverage_figure(split_steps, "deductible", cov.id)
        copay_taken[(cov.id, day)] += coverage_figure(split_steps, "copay", cov.id)

    for svc in services:
        code = svc.code
        covs = [c for c in client_covs if in_force(c, svc.service_date)]
        line_base = {
            "service_id": svc.id,
            "description": code.description,
            "service_date": svc.service_date,
            "units": svc.units,
        }
        split: ServiceSplit
        if not covs:
            split = split_service(svc.units, code.fee)
            draft_for(None).lines.append(
                {
                    **line_base,
                    "code": code.code,
                    "unit_price": code.fee,
                    "amount": split.client,
                    "explain": split,
                }
            )
            continue
        primary = covs[0]
        secondary = covs[1] if len(covs) > 1 else None
        t1, p1 = terms_for(primary, code, svc.service_date)
        t2, p2 = terms_for(secondary, code, svc.service_date) if secondary else (None, None)
        split = split_service(svc.units, code.fee, t1, t2)
        take(primary, svc.service_date, split.steps)
        assert split.primary is not None
        draft_for(primary).lines.append(
            {
                **line_base,
                "code": p1.code,
                "unit_price": p1.unit_price,
                "amount": split.primary.pays,
                "explain": split,
            }
        )
        if secondary is not None and split.secondary is not None:
            assert p2 is not None  # priced above whenever there is a secondary coverage
            take(secondary, svc.service_date, split.steps)
            draft_for(secondary).lines.append(
                {
                    **line_base,
                    "code": p2.code,
                    "unit_price": p2.unit_price,
                    "amount": split.secondary.pays,
                    "explain": split,
                }
            )
        if split.client > 0:
            draft_for(None).lines.append(
                {
                    **line_base,
                    "code": code.code,
                    "unit_price": t1.unit_price,
                    "amount": split.client,
                    "explain": split,
                }
            )

    created: list[Invoice] = []
    # Payer invoices first (they are issued first), the statement last.
    for key in sorted(drafts, key=lambda k: (k[0] != "payer", k[1] or 0)):
        d = drafts[key]
        inv = Invoice(
            kind=d.kind,
            client_id=client.id,
            bill_to=d.bill_to,
            payer_id=d.payer_id,
            coverage_id=d.coverage_id,
            status=InvoiceStatus.DRAFT,
            total=sum((ln["amount"] for ln in d.lines), ZERO),
            created_by=actor.user_id,
        )
        for n, ln in enumerate(d.lines, start=1):
            split = ln.pop("explain")
            inv.lines.append(InvoiceLine(line_no=n, explain=split.steps_json(), **ln))
        session.add(inv)
        created.append(inv)
    for svc in services:
        svc.billed = True
    session.flush()
    for inv in created:
        audit.record(session, actor, "invoice", inv.id, "build", None, _snapshot(inv))
    return BuildResult(tuple(invoice_view(session, inv) for inv in created), len(services))


def discard_draft(actor: Actor, session: Session, invoice_id: int) -> tuple[int, ...]:
    """Throw away a draft and the other drafts of its build; their services become unbilled.

    Drafts have no number and were never sent, so they are removed (the audit log keeps them).
    """
    require(actor, Action.INVOICE_BUILD)
    inv = get_invoice_row(session, invoice_id, lock=True)
    if inv.status != InvoiceStatus.DRAFT:
        raise FrozenError(
            f"{_label(inv)} is {inv.status.value}; issued invoices are never changed or removed"
        )
    group: dict[int, Invoice] = {inv.id: inv}
    frontier = [inv]
    while frontier:  # drafts that share a service with one in the group
        sids = [ln.service_id for d in frontier for ln in d.lines if ln.service_id is not None]
        frontier = []
        if sids:
            for other in session.scalars(
                sa.select(Invoice)
                .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                .where(InvoiceLine.service_id.in_(sids), Invoice.status == InvoiceStatus.DRAFT)
                .distinct()
            ):
                if other.id not in group:
                    group[other.id] = other
                    frontier.append(other)
    service_ids = sorted(
        {ln.service_id for d in group.values() for ln in d.lines if ln.service_id is not None}
    )
    for d in group.values():
        audit.record(session, actor, "invoice", d.id, "discard", _snapshot(d), None)
        session.delete(d)
    session.flush()
    _release_services(session, service_ids)
    session.flush()
    return tuple(sorted(group))


# --------------------------------------------------------------------------- accuracy checks


def _client_problems(client: Client, inv: Invoice, cov: Coverage | None) -> list[Problem]:
    out: list[Problem] = []
    if not client.last_name.strip() or not client.first_name.strip():
        out.append(
            Problem("client_data", None, f"client {client.account_number}: first and last name are required")
        )
    if inv.bill_to == BillTo.PAYER:
        if client.date_of_birth is None:
            out.append(
                Problem(
                    "client_data",
                    None,
                    f"client {client.account_number}: date of birth is required by the payer",
                )
            )
        if cov is not None and not cov.member_id.strip():
            out.append(
                Problem("client_data", None, f"coverage of {client.account_number}: member id is missing")
            )
    elif not (client.address_line1.strip() and client.city.strip() and client.postal_code.strip()):
        out.append(
            Problem(
                "client_data",
                None,
                f"client {client.account_number}: a mailing address (street, city, postal code) is needed "
                "to send a statement",
            )
        )
    return out


def _problems(session: Session, inv: Invoice, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    client = pinned_get(session, Client, inv.client_id)
    assert client is not None
    lines = list(inv.lines)
    if not lines:
        problems.append(Problem("totals", None, "the invoice has no lines"))

    # Totals consistent.
    line_sum = sum((ln.amount for ln in lines), ZERO)
    if line_sum != inv.total:
        problems.append(
            Problem("totals", None, f"totals: the lines add up to {line_sum} but the total is {inv.total}")
        )
    for ln in lines:
        charge = (ln.unit_price * ln.units).quantize(Decimal("0.01"))
        if ln.amount < 0:
            problems.append(
                Problem("totals", ln.line_no, f"{_line_label(ln)}: amount {ln.amount} is negative")
            )
        elif ln.amount > charge:
            problems.append(
                Problem(
                    "totals",
                    ln.line_no,
                    f"{_line_label(ln)}: amount {ln.amount} is more than units × price {charge}",
                )
            )

    cov = (
        session.scalars(
            locked(session, sa.select(Coverage).where(Coverage.id == inv.coverage_id))
        ).one_or_none()
        if inv.coverage_id
        else None
    )
    if cov is not None:
        pin(session, cov)
    payer = pinned_get(session, Payer, inv.payer_id) if inv.payer_id else None
    problems += _client_problems(client, inv, cov)

    services = {
        s.id: s
        for s in session.scalars(
            sa.select(ServiceRendered).where(
                ServiceRendered.id.in_([ln.service_id for ln in lines if ln.service_id is not None])
            )
        )
    }

    if inv.bill_to == BillTo.PAYER:
        assert payer is not None
        if cov is None:
            problems.append(Problem("coverage", None, f"no coverage is named for {payer.name}"))
        else:
            who = f"{payer.name} (member {cov.member_id})"
            for ln in lines:
                if ln.service_date is not None and not in_force(cov, ln.service_date):
                    problems.append(
                        Problem(
                            "coverage",
                            ln.line_no,
                            f"{_line_label(ln)}: coverage {who} was not in force on {ln.service_date}",
                        )
                    )
            elig = eligibility_status(session, cov.id, today)
            if not elig.ok_to_bill:
                problems.append(
                    Problem(
                        "eligibility",
                        None,
                        f"lines 1-{len(lines)}: {who}: {elig.message}; record a fresh check "
                        "or ask a supervisor for an override",
                    )
                )
            needed = sum((coverage_figure(ln.explain, "deductible", cov.id) for ln in lines), ZERO)
            if needed > cov.deductible_remaining:
                problems.append(
                    Problem(
                        "deductible",
                        None,
                        f"deductible: the lines use {needed} of the {payer.name} deductible but only "
                        f"{cov.deductible_remaining} remains (another invoice used it since this draft was "
                        "built); discard and rebuild the draft",
                    )
                )
        # Every code mapped for a payer that keeps a crosswalk.
        for ln in lines:
            svc = services.get(ln.service_id) if ln.service_id else None
            if svc is None:
                continue
            price = price_for(session, payer.id, svc.code)
            if price.payer_requires_mapping and not price.mapped:
                problems.append(
                    Problem(
                        "mapping",
                        ln.line_no,
                        f"{_line_label(ln)}: {payer.name} has no crosswalk entry for code {svc.code.code}; "
                        "a supervisor must map it before this payer can be billed",
                    )
                )
            elif price.code != ln.code:
                problems.append(
                    Problem(
                        "mapping",
                        ln.line_no,
                        f"{_line_label(ln)}: {payer.name} now takes {svc.code.code} as {price.code}, "
                        f"the draft says {ln.code}; discard and rebuild the draft",
                    )
                )
    else:
        # A client's share depends on what the payers of the same services were billed.
        payer_drafts = session.execute(
            sa.select(InvoiceLine.service_id, Invoice.id, Payer.name)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .join(Payer, Payer.id == Invoice.payer_id)
            .where(
                InvoiceLine.service_id.in_(list(services)),
                Invoice.status == InvoiceStatus.DRAFT,
                Invoice.bill_to == BillTo.PAYER,
            )
        ).all()
        waiting = {sid: (iid, name) for sid, iid, name in payer_drafts}
        for ln in lines:
            if ln.service_id in waiting:
                iid, name = waiting[ln.service_id]
                problems.append(
                    Problem(
                        "order",
                        ln.line_no,
                        f"{_line_label(ln)}: the client's share depends on draft #{iid} to {name}; issue that first",
                    )
                )

    # No service billed twice (to the same party), and services still valid.
    seen: dict[int, int] = {}
    others = live_lines(session, list(services), exclude_invoice_id=inv.id)
    for ln in lines:
        if ln.service_id is None:
            continue
        svc = services.get(ln.service_id)
        if svc is None or svc.client_id != inv.client_id:
            problems.append(
                Problem("billed_twice", ln.line_no, f"{_line_label(ln)}: the service is not this client's")
            )
            continue
        if svc.voided:
            problems.append(
                Problem("billed_twice", ln.line_no, f"{_line_label(ln)}: service #{svc.id} was voided")
            )
        if ln.service_id in seen:
            problems.append(
                Problem(
                    "billed_twice",
                    ln.line_no,
                    f"{_line_label(ln)}: service #{svc.id} is also on line {seen[ln.service_id]} of this invoice",
                )
            )
        seen[ln.service_id] = ln.line_no
        for other_ln, other in others:
            same_party = (
                other.bill_to == inv.bill_to and other.payer_id == inv.payer_id and other.kind == inv.kind
            )
            if other_ln.service_id == ln.service_id and same_party:
                problems.append(
                    Problem(
                        "billed_twice",
                        ln.line_no,
                        f"{_line_label(ln)}: service #{svc.id} ({svc.code.code} on {svc.service_date}) is already "
                        f"billed on {_label(other)}",
                    )
                )
    problems += _duplicate_problems(session, inv, lines, services)
    return problems


_DUPLICATE_HINT = "if it was given twice record it once with 2 units, else void the duplicate"


def _duplicate_problems(
    session: Session, inv: Invoice, lines: Sequence[InvoiceLine], services: Mapping[int, ServiceRendered]
) -> list[Problem]:
    """The same code on the same day for the client twice (two service records): on this
    invoice, or on another live document to the same party. Names both lines."""
    out: list[Problem] = []
    first: dict[tuple[int, dt.date], tuple[InvoiceLine, int]] = {}
    for ln in lines:
        svc = services.get(ln.service_id) if ln.service_id is not None else None
        if svc is None or svc.voided:
            continue
        key = (svc.service_code_id, svc.service_date)
        if key in first and first[key][1] != svc.id:
            other_ln, other_id = first[key]
            out.append(
                Problem(
                    "duplicate",
                    ln.line_no,
                    f"{_line_label(ln)}: same code on the same day as line {other_ln.line_no} "
                    f"(services #{other_id} and #{svc.id}); {_DUPLICATE_HINT}",
                )
            )
        first.setdefault(key, (ln, svc.id))
    if not first:
        return out
    ours = {s.id for s in services.values()}
    twins = session.scalars(
        sa.select(ServiceRendered).where(
            ServiceRendered.client_id == inv.client_id,
            ServiceRendered.voided.is_(False),
            sa.or_(
                *(
                    sa.and_(ServiceRendered.service_code_id == code, ServiceRendered.service_date == day)
                    for code, day in first
                )
            ),
        )
    ).all()
    twin_of = {t.id: (t.service_code_id, t.service_date) for t in twins if t.id not in ours}
    for other_ln, other in live_lines(session, list(twin_of), exclude_invoice_id=inv.id):
        if not (other.bill_to == inv.bill_to and other.payer_id == inv.payer_id and other.kind == inv.kind):
            continue
        assert other_ln.service_id is not None
        ln, sid = first[twin_of[other_ln.service_id]]
        out.append(
            Problem(
                "duplicate",
                ln.line_no,
                f"{_line_label(ln)}: same code on the same day as {_label(other)} line {other_ln.line_no} "
                f"(services #{sid} and #{other_ln.service_id}); {_DUPLICATE_HINT}",
            )
        )
    return out


def check_invoice(actor: Actor, session: Session, invoice_id: int) -> tuple[Problem, ...]:
    """The accuracy checks a draft must pass before it is issued (empty when all pass)."""
    require(actor, Action.VIEW)
    inv = get_invoice_row(session, invoice_id)
    if inv.status != InvoiceStatus.DRAFT:
        return ()
    return tuple(_problems(session, inv, _today(session)))


# --------------------------------------------------------------------------- numbers and issue


def next_number(session: Session, kind: InvoiceKind) -> str:
    """Take the next document number (gap-free) inside the caller's transaction."""
    if kind == InvoiceKind.CREDIT_NOTE:
        seq, prefix = "credit_note", setting(session, "billing.credit_note_prefix")
    else:
        seq, prefix = "invoice", setting(session, "billing.invoice_prefix")
    return f"{prefix}{take_sequence_value(session, seq):0{NUMBER_DIGITS}d}"


def terms_days(session: Session, inv: Invoice) -> int:
    if inv.bill_to == BillTo.PAYER and inv.payer_id is not None:
        payer = pinned_get(session, Payer, inv.payer_id)
        assert payer is not None
        return payer.terms_days
    return int(setting(session, "billing.statement_terms_days"))


def issue_invoice(
    actor: Actor, session: Session, invoice_id: int, *, expected_version: int | None = None
) -> InvoiceView:
    """Check, number, date and freeze a draft; take the deductible it uses off the coverage."""
    require(actor, Action.INVOICE_ISSUE)
    inv = get_invoice_row(session, invoice_id, lock=True)
    if inv.status != InvoiceStatus.DRAFT:
        raise FrozenError(
            f"{_label(inv)} is already {inv.status.value.replace('_', ' ')}; issued invoices are never "
            "changed (correct with a credit note)"
        )
    if expected_version is not None and inv.version != expected_version:
        raise ConflictError(f"{_label(inv)} was changed by someone else; reload and try again")
    today = _today(session)
    problems = _problems(session, inv, today)
    if problems:
        raise IssueRefused(_label(inv), problems)
    before = _snapshot(inv)
    used = ZERO
    if inv.coverage_id is not None:
        cov = pinned_get(session, Coverage, inv.coverage_id)
        assert cov is not None
        used = sum((coverage_figure(ln.explain, "deductible", cov.id) for ln in inv.lines), ZERO)
        cov.deductible_remaining -= used  # locked by the checks; never below zero (checked)
    inv.number = next_number(session, inv.kind)
    inv.issue_date = today
    inv.due_date = today + dt.timedelta(days=terms_days(session, inv))
    inv.status = InvoiceStatus.ISSUED
    inv.issued_by = actor.user_id
    inv.issued_at = now()
    session.flush()
    after = _snapshot(inv)
    if used:
        after["deductible_used"] = used  # the coverage change rides on the issue's audit row
    audit.record(session, actor, "invoice", inv.id, "issue", before, after)
    return invoice_view(session, inv)


def issue_drafts(actor: Actor, session: Session, invoice_ids: Sequence[int]) -> tuple[InvoiceView, ...]:
    """Issue several drafts in one transaction, payer invoices before statements (all or none)."""
    rows = session.execute(
        sa.select(Invoice.id, Invoice.bill_to).where(Invoice.id.in_(list(invoice_ids)))
    ).all()
    missing = set(invoice_ids) - {r.id for r in rows}
    if missing:
        raise NotFound(f"no invoice with id {min(missing)}")
    order = sorted(rows, key=lambda r: (r.bill_to != BillTo.PAYER, r.id))
    return tuple(issue_invoice(actor, session, r.id) for r in order)


# --------------------------------------------------------------------------- credit notes and void


def _restore_deductible(session: Session, actor: Actor, inv: Invoice, lines: Sequence[InvoiceLine]) -> None:
    if inv.coverage_id is None:
        return
    cov = session.scalars(locked(session, sa.select(Coverage).where(Coverage.id == inv.coverage_id))).one()
    back = sum((coverage_figure(ln.explain, "deductible", cov.id) for ln in lines), ZERO)
    if back:
        cov.deductible_remaining = min(cov.deductible, cov.deductible_remaining + back)
        audit.record(
            session,
            actor,
            "coverage",
            cov.id,
            "deductible_restored",
            None,
            {"invoice_id": inv.id, "restored": back, "remaining": cov.deductible_remaining},
        )


def credit_invoice(
    actor: Actor,
    session: Session,
    invoice_id: int,
    *,
    reason: str,
    lines: Mapping[int, Decimal | str | None] | None = None,
) -> InvoiceView:
    """Issue a credit note against an issued invoice.

    ``lines`` maps line number → amount to credit (``None`` = all that is left of it); without
    ``lines`` every line is credited in full. The credit may not exceed the invoice's open
    balance (money already received is refunded through payments, not here). A line credited
    in full gives its deductible back to the coverage, and its service becomes unbilled when no
    other live document bills it.
    """
    require(actor, Action.INVOICE_CREDIT)
    orig = get_invoice_row(session, invoice_id, lock=True)
    if orig.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError.from_fields({"invoice": f"{_label(orig)} is itself a credit note"})
    if orig.status not in CREDITABLE:
        raise ValidationError.from_fields(
            {
                "invoice": f"{_label(orig)} is {orig.status.value.replace('_', ' ')}; only open invoices can be credited"
            }
        )
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "is required: say what is being corrected"
    by_no = {ln.line_no: ln for ln in orig.lines}
    already = _credited(session, [ln.id for ln in orig.lines])
    wanted: dict[int, Decimal] = {}
    requested = dict(lines) if lines is not None else {n: None for n in by_no}
    for n, amount in requested.items():
        ln = by_no.get(n)
        if ln is None:
            errors[f"line {n}"] = f"{_label(orig)} has no line {n}"
            continue
        left = ln.amount - already.get(ln.id, (0, ZERO))[1]
        if amount is None:
            value = left
        else:
            try:
                value = to_money(amount)
            except (ValueError, TypeError):
                errors[f"line {n}"] = f"{amount!r} is not an amount"
                continue
            if value <= 0:
                errors[f"line {n}"] = "the amount to credit must be more than zero"
                continue
        if value > left:
            errors[f"line {n}"] = f"at most {left} of line {n} is left to credit"
            continue
        if left <= 0 and already.get(ln.id, (0, ZERO))[0] > 0:
            continue  # credited in full before; nothing left
        wanted[n] = value
    total = sum(wanted.values(), ZERO)
    if not errors and not wanted:
        errors["lines"] = "nothing left to credit"
    if not errors and total > orig.balance:
        errors["lines"] = (
            f"the credit {total} is more than the open balance {orig.balance}; refund received money through payments"
        )
    if errors:
        raise ValidationError.from_fields(errors)

    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        client_id=orig.client_id,
        bill_to=orig.bill_to,
        payer_id=orig.payer_id,
        coverage_id=orig.coverage_id,
        credits_invoice_id=orig.id,
        status=InvoiceStatus.ISSUED,
        total=-total,
        created_by=actor.user_id,
        issued_by=actor.user_id,
        issued_at=now(),
    )
    today = _today(session)
    note.number = next_number(session, InvoiceKind.CREDIT_NOTE)
    note.issue_date = today
    note.due_date = today
    for i, (n, value) in enumerate(sorted(wanted.items()), start=1):
        ln = by_no[n]
        note.lines.append(
            InvoiceLine(
                line_no=i,
                service_id=ln.service_id,
                code=ln.code,
                description=ln.description,
                service_date=ln.service_date,
                units=ln.units,
                unit_price=ln.unit_price,
                amount=-value,
                credits_line_id=ln.id,
                explain=[
                    Step("credit.original", f"{_label(orig)} line {n}", ln.amount).to_json(),
                    Step("credit.amount", f"Credited: {reason.strip()}", -value).to_json(),
                ],
            )
        )
    session.add(note)
    session.flush()
    before = _snapshot(orig)
    orig.amount_adjusted += total
    if orig.balance == 0 and orig.amount_paid > 0:
        orig.status = InvoiceStatus.PAID
    session.add(
        Adjustment(
            invoice_id=orig.id,
            kind=AdjustmentKind.CORRECTION,
            amount=total,
            reason=f"credit note {note.number}: {reason.strip()}",
            made_by=actor.user_id,
        )
    )
    session.flush()
    now_credited = _credited(session, [ln.id for ln in orig.lines])
    full = [by_no[n] for n in wanted if _fully_credited(by_no[n], now_credited)]
    _restore_deductible(session, actor, orig, full)
    _release_services(session, [ln.service_id for ln in full if ln.service_id is not None])
    session.flush()
    audit.record(session, actor, "invoice", note.id, "credit_note", None, _snapshot(note))
    audit.record(session, actor, "invoice", orig.id, "credited", before, _snapshot(orig))
    return invoice_view(session, note)


def void_invoice(actor: Actor, session: Session, invoice_id: int, *, reason: str) -> InvoiceView:
    """Void an issued invoice (supervisors): it keeps its number, owes nothing, and its services
    become unbilled when no other live document bills them."""
    require(actor, Action.INVOICE_VOID)
    inv = get_invoice_row(session, invoice_id, lock=True)
    if not reason.strip():
        raise ValidationError.from_fields({"reason": "is required: say why the invoice is void"})
    if inv.status == InvoiceStatus.DRAFT:
        raise ValidationError.from_fields({"invoice": f"{_label(inv)} is a draft: discard it instead"})
    if inv.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError.from_fields({"invoice": f"{_label(inv)} is a credit note and cannot be voided"})
    if inv.status != InvoiceStatus.ISSUED:
        raise ConflictError(f"{_label(inv)} is {inv.status.value.replace('_', ' ')} and cannot be voided")
    allocated = session.scalar(sa.select(sa.func.count()).where(Allocation.invoice_id == inv.id)) or 0
    if allocated or inv.amount_paid != 0:
        raise ConflictError(f"{_label(inv)} has payments allocated to it; it cannot be voided")
    if inv.amount_adjusted != 0:
        raise ConflictError(f"{_label(inv)} has credit notes or adjustments; it cannot be voided")
    before = _snapshot(inv)
    inv.status = InvoiceStatus.VOID
    inv.void_reason = reason.strip()
    session.flush()
    _restore_deductible(session, actor, inv, list(inv.lines))
    _release_services(session, [ln.service_id for ln in inv.lines if ln.service_id is not None])
    session.flush()
    audit.record(session, actor, "invoice", inv.id, "void", before, _snapshot(inv))
    return invoice_view(session, inv)


# --------------------------------------------------------------------------- lists


def _list_stmt(
    *,
    client_id: int | None,
    status: InvoiceStatus | str | None,
    kind: InvoiceKind | str | None,
    payer_id: int | None,
) -> sa.Select[*tuple[Any, ...]]:
    stmt = (
        sa.select(Invoice, Client.account_number, Client.last_name, Client.first_name, Payer.name)
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
    )
    if client_id is not None:
        stmt = stmt.where(Invoice.client_id == client_id)
    if status is not None:
        stmt = stmt.where(Invoice.status == InvoiceStatus(status))
    if kind is not None:
        stmt = stmt.where(Invoice.kind == InvoiceKind(kind))
    if payer_id is not None:
        stmt = stmt.where(Invoice.payer_id == payer_id)
    return stmt


def _inv_row(r: Any) -> InvoiceRow:
    inv, acct, last, first, payer_name = r
    name = f"{last}, {first}".strip(", ")
    return InvoiceRow(
        id=inv.id,
        number=inv.number,
        kind=inv.kind,
        status=inv.status,
        client_id=inv.client_id,
        account_number=acct,
        client_name=name,
        bill_to_name=payer_name if inv.bill_to == BillTo.PAYER else name,
        issue_date=inv.issue_date,
        due_date=inv.due_date,
        total=inv.total,
        balance=inv.balance,
        dispute_hold=inv.dispute_hold,
    )


def list_invoices(
    actor: Actor,
    session: Session,
    *,
    client_id: int | None = None,
    status: InvoiceStatus | str | None = None,
    kind: InvoiceKind | str | None = None,
    payer_id: int | None = None,
    after: int | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> InvoicePage:
    """One page of invoices (drafts included), by id, paged by key."""
    require(actor, Action.VIEW)
    limit = max(1, min(limit, 1000))
    stmt = _list_stmt(client_id=client_id, status=status, kind=kind, payer_id=payer_id)
    if newest_first:
        stmt = stmt.order_by(Invoice.id.desc())
        if after is not None:
            stmt = stmt.where(Invoice.id < after)
    else:
        stmt = stmt.order_by(Invoice.id)
        if after is not None:
            stmt = stmt.where(Invoice.id > after)
    rows = session.execute(stmt.limit(limit + 1)).all()
    out = tuple(_inv_row(r) for r in rows[:limit])
    return InvoicePage(out, out[-1].id if len(rows) > limit else None)


def iter_invoices(
    actor: Actor,
    session: Session,
    *,
    client_id: int | None = None,
    status: InvoiceStatus | str | None = None,
    kind: InvoiceKind | str | None = None,
    payer_id: int | None = None,
    batch: int = 500,
) -> Iterator[InvoiceRow]:
    """Every matching invoice, oldest first, fetched a page at a time (for exports).

    Between pages it empties the session (``expunge_all``) so memory stays flat: use it in a
    session of its own, as the CLI does."""
    after: int | None = None
    while True:
        page = list_invoices(
            actor,
            session,
            client_id=client_id,
            status=status,
            kind=kind,
            payer_id=payer_id,
            after=after,
            limit=batch,
            newest_first=False,
        )
        yield from page.rows
        session.expunge_all()  # keep memory flat over millions of rows
        if page.next_after is None:
            return
        after = page.next_after


def unissued_drafts(actor: Actor, session: Session, client_id: int) -> tuple[InvoiceView, ...]:
    require(actor, Action.VIEW)
    invs = session.scalars(
        sa.select(Invoice)
        .options(selectinload(Invoice.lines))
        .where(Invoice.client_id == client_id, Invoice.status == InvoiceStatus.DRAFT)
        .order_by(Invoice.id)
    ).all()
    return tuple(invoice_view(session, i) for i in invs)


# --------------------------------------------------------------------------- the freeze guard


def _original_status(inv: Invoice) -> InvoiceStatus | None:
    hist = sa.inspect(inv).attrs.status.history
    if hist.deleted:
        return InvoiceStatus(hist.deleted[0])
    return inv.status


def _guard_frozen(session: Session, _ctx: Any, _instances: Any) -> None:
    """Refuse, at flush, any edit of what an issued invoice printed — whichever code tries it."""
    with session.no_autoflush:
        for obj in session.dirty:
            if isinstance(obj, Invoice) and _original_status(obj) != InvoiceStatus.DRAFT:
                state = sa.inspect(obj)
                changed = [f for f in FROZEN_FIELDS if state.attrs[f].history.has_changes()]
                if changed:
                    raise FrozenError(f"{_label(obj)} is issued; {', '.join(changed)} cannot change")
            elif isinstance(obj, InvoiceLine) and session.is_modified(obj):
                parent = session.get(Invoice, obj.invoice_id)
                if parent is not None and _original_status(parent) != InvoiceStatus.DRAFT:
                    raise FrozenError(f"{_label(parent)} is issued; its lines cannot change")
        for obj in session.deleted:
            if isinstance(obj, Invoice) and _original_status(obj) != InvoiceStatus.DRAFT:
                raise FrozenError(f"{_label(obj)} is issued and can never be removed")
            if isinstance(obj, InvoiceLine):
                parent = session.get(Invoice, obj.invoice_id)
                if (
                    parent is not None
                    and parent not in session.deleted
                    and _original_status(parent) != InvoiceStatus.DRAFT
                ):
                    raise FrozenError(f"{_label(parent)} is issued; its lines cannot change")
        for obj in session.new:
            if isinstance(obj, InvoiceLine):
                parent = obj.invoice
                if (
                    parent is not None
                    and sa.inspect(parent).persistent
                    and _original_status(parent) != InvoiceStatus.DRAFT
                ):
                    raise FrozenError(f"{_label(parent)} is issued; lines cannot be added")


sa.event.listen(Session, "before_flush", _guard_frozen)


# For the dunning fees and other documents that are not built from services: nothing else
# needed; a draft FEE invoice with lines goes through ``issue_invoice`` like any other.
__all__ = [
    "BuildResult",
    "InvoicePage",
    "InvoiceRow",
    "InvoiceView",
    "IssueRefused",
    "LineView",
    "Problem",
    "build_invoices",
    "check_invoice",
    "credit_invoice",
    "discard_draft",
    "get_invoice",
    "get_invoice_by_number",
    "issue_drafts",
    "issue_invoice",
    "iter_invoices",
    "list_invoices",
    "next_number",
    "unissued_drafts",
    "void_invoice",
]
