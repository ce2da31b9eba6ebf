"""Aging of receivables (docs/collections.md): how long what is owed has been past due.

* Buckets by days past due on the "as of" day: current (not yet due), 1–30, 31–60, 61–90,
  91–120, over 120. Client receivables (the client's own bills: statements, client invoices,
  dunning fees) and payer receivables (invoices to payers) are always kept apart.
* An invoice counts when it is a charge (never a credit note: a credit note's effect is the
  adjustment it books on the invoice it credits), was issued on or before the day, and is not
  void (a voided invoice never owed anything). Its balance as of the day is its total less the
  allocations of payments received on or before the day and posted before the day ended, less
  the adjustments (waivers, write-offs, credit notes, agency fees) booked before the day ended.
  Later invoices and later money are ignored, so a past day's report does not change.
* Plan installments are aged by their own due dates: the part of a client's own balance that
  an open payment plan still finances (what its installments have left as of the day) is taken
  out of the client's oldest buckets and put in the installments' buckets. The buckets still
  sum to the balance.
* The figures come from SQL aggregates over the (status, due date) and client indexes; the
  as-of path only reads invoices open now or touched after the day.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.catalog import office_day
from billing.ledger import PAYABLE_KINDS
from db.coltypes import Money
from db.errors import NotFound, ValidationError
from db.models import (
    Adjustment,
    Allocation,
    BillTo,
    Client,
    Installment,
    Invoice,
    InvoiceStatus,
    Payer,
    Payment,
    PaymentPlan,
    PlanStatus,
    name_search_key,
)
from db.money import ZERO
from db.rights import Action, Actor, require
from db.settings import office_timezone
from db.timeutil import local_instant


class Bucket(enum.StrEnum):
    CURRENT = "current"
    D1_30 = "1-30"
    D31_60 = "31-60"
    D61_90 = "61-90"
    D91_120 = "91-120"
    OVER_120 = "120+"


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)
# Lower bound (days past due) of each bucket after "current".
BUCKET_FLOORS: dict[Bucket, int] = {
    Bucket.CURRENT: -(10**6),
    Bucket.D1_30: 1,
    Bucket.D31_60: 31,
    Bucket.D61_90: 61,
    Bucket.D91_120: 91,
    Bucket.OVER_120: 121,
}
BUCKET_LABELS: dict[Bucket, str] = {
    Bucket.CURRENT: "Current",
    Bucket.D1_30: "1–30",
    Bucket.D31_60: "31–60",
    Bucket.D61_90: "61–90",
    Bucket.D91_120: "91–120",
    Bucket.OVER_120: "Over 120",
}


class Side(enum.StrEnum):
    CLIENT = "client"
    PAYER = "payer"


def bucket_of(days_past_due: int) -> Bucket:
    """0 or less → current; 1–30 → 1–30; …; 121 and more → over 120."""
    if days_past_due <= 0:
        return Bucket.CURRENT
    if days_past_due <= 30:
        return Bucket.D1_30
    if days_past_due <= 60:
        return Bucket.D31_60
    if days_past_due <= 90:
        return Bucket.D61_90
    if days_past_due <= 120:
        return Bucket.D91_120
    return Bucket.OVER_120


@dataclass(frozen=True)
class BucketAmounts:
    """Six amounts, one per bucket, in ``BUCKETS`` order; ``total`` is their sum."""

    current: Decimal = ZERO
    d1_30: Decimal = ZERO
    d31_60: Decimal = ZERO
    d61_90: Decimal = ZERO
    d91_120: Decimal = ZERO
    over_120: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.current + self.d1_30 + self.d31_60 + self.d61_90 + self.d91_120 + self.over_120

    @property
    def past_due(self) -> Decimal:
        return self.total - self.current

    def get(self, bucket: Bucket) -> Decimal:
        return self.as_tuple()[BUCKETS.index(bucket)]

    def as_tuple(self) -> tuple[Decimal, ...]:
        return (self.current, self.d1_30, self.d31_60, self.d61_90, self.d91_120, self.over_120)

    @classmethod
    def from_tuple(cls, values: tuple[Decimal, ...] | list[Decimal]) -> BucketAmounts:
        return cls(*values)


@dataclass(frozen=True)
class OfficeAging:
    as_of: dt.date
    client: BucketAmounts  # the clients' own bills
    payer: BucketAmounts  # invoices to payers
    client_accounts: int  # clients with a client-side balance
    payer_accounts: int  # clients with a payer-side balance


@dataclass(frozen=True)
class AgedInvoice:
    invoice_id: int
    number: str
    kind: str
    side: Side
    payer_name: str  # "" on the client side
    issue_date: dt.date
    due_date: dt.date
    total: Decimal
    balance: Decimal  # as of the day
    days_past_due: int
    bucket: Bucket
    dispute_hold: bool


@dataclass(frozen=True)
class AgedInstallment:
    plan_id: int
    seq: int
    due_date: dt.date
    remaining: Decimal  # as of the day
    days_past_due: int
    bucket: Bucket


@dataclass(frozen=True)
class ClientAging:
    client_id: int
    account_number: str
    client_name: str
    as_of: dt.date
    client: BucketAmounts  # plan installments aged by their own due dates
    payer: BucketAmounts
    invoices: tuple[AgedInvoice, ...]  # every invoice with a balance as of the day, oldest first
    installments: tuple[AgedInstallment, ...]  # open plan installments with something left


@dataclass(frozen=True)
class PayerAgingRow:
    payer_id: int
    payer_name: str
    buckets: BucketAmounts
    accounts: int  # clients with a balance at this payer


@dataclass(frozen=True)
class AgingAccountKey:
    """Keyset cursor of ``accounts_in_bucket``: (account number, client id)."""

    account_number: str
    client_id: int


@dataclass(frozen=True)
class AgingAccountRow:
    client_id: int
    account_number: str
    client_name: str
    amount: Decimal  # this account's amount in the bucket (side as asked)
    total: Decimal  # this account's whole balance on that side


@dataclass(frozen=True)
class AgingAccountPage:
    rows: tuple[AgingAccountRow, ...]
    next_after: AgingAccountKey | None  # None on the last page


def _day_end(session: Session, day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the office zone (UTC): what was booked before it counts."""
    return local_instant(day + dt.timedelta(days=1), dt.time(0, 0), office_timezone(session))


def _resolve_day(session: Session, as_of: dt.date | None) -> tuple[dt.date, bool]:
    """(the day, whether it is today or later: then the invoices' own figures are the answer)."""
    today = office_day(session)
    day = as_of if as_of is not None else today
    if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
        day = dt.date(day.year, day.month, day.day)  # plain date: pendulum's subtraction is slow
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError.from_fields({"as_of": "must be a date"})
    return day, day >= today


def _later(session: Session, day: dt.date) -> sa.Subquery:
    """Per invoice: the money and adjustments booked after ``day`` (to add back to its balance).

    An allocation counts as later when it was posted after the day ended or its payment was
    received after the day; the two halves never overlap, so nothing is added twice.
    """
    end = _day_end(session, day)
    a_late = sa.select(Allocation.invoice_id.label("invoice_id"), Allocation.amount.label("amount")).where(
        Allocation.created_at >= end
    )
    a_recv = (
        sa.select(Allocation.invoice_id, Allocation.amount)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Payment.received_on > day, Allocation.created_at < end)
    )
    adj = sa.select(Adjustment.invoice_id, Adjustment.amount).where(Adjustment.created_at >= end)
    u = sa.union_all(a_late, a_recv, adj).subquery()
    return (
        sa.select(u.c.invoice_id, sa.func.sum(u.c.amount).label("back")).group_by(u.c.invoice_id).subquery()
    )


_OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
_NEVER_OWED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


def _aged(session: Session, day: dt.date, current: bool) -> tuple[sa.Select[*tuple[Any, ...]], Any]:
    """SELECT of invoices with their balance as of ``day`` (columns id, client_id, bill_to,
    due, bal), and the balance expression, to add filters to."""
    raw = Invoice.total - Invoice.amount_paid - Invoice.amount_adjusted
    due = sa.func.coalesce(Invoice.due_date, Invoice.issue_date)
    if current:
        bal = raw
        stmt = sa.select(
            Invoice.id, Invoice.client_id, Invoice.bill_to, due.label("due"), bal.label("bal")
        ).where(
            Invoice.status.in_(_OPEN), Invoice.kind.in_(PAYABLE_KINDS), bal > 0, Invoice.issue_date <= day
        )
        return stmt, bal
    later = _later(session, day)
    bal = raw + sa.func.coalesce(later.c.back, 0)
    stmt = (
        sa.select(Invoice.id, Invoice.client_id, Invoice.bill_to, due.label("due"), bal.label("bal"))
        .outerjoin(later, later.c.invoice_id == Invoice.id)
        .where(
            Invoice.kind.in_(PAYABLE_KINDS),
            Invoice.status.not_in(_NEVER_OWED),
            Invoice.issue_date <= day,
            sa.or_(Invoice.status.in_(_OPEN), later.c.invoice_id.is_not(None)),
            bal > 0,
        )
    )
    return stmt, bal


def _bucket_cases(day: dt.date, due: Any, bal: Any) -> list[Any]:
    """Six SUM(CASE …) columns, one per bucket, on a subquery's ``due`` and ``bal``."""
    edges = [day - dt.timedelta(days=n) for n in (0, 30, 60, 90, 120)]
    cols: list[Any] = [sa.func.sum(sa.case((due >= edges[0], bal), else_=0))]
    for hi, lo in itertools.pairwise(edges):
        cols.append(sa.func.sum(sa.case((sa.and_(due < hi, due >= lo), bal), else_=0)))
    cols.append(sa.func.sum(sa.case((due < edges[-1], bal), else_=0)))
    return [sa.type_coerce(sa.func.coalesce(c, 0), Money) for c in cols]


def _amounts(row: Sequence[Any]) -> BucketAmounts:
    return BucketAmounts.from_tuple([v if v is not None else ZERO for v in row])


def _plan_installments(
    session: Session, day: dt.date, current: bool, client_ids: Iterable[int] | None = None
) -> dict[int, list[tuple[int, int, dt.date, Decimal]]]:
    """Client id → [(plan id, seq, due date, remaining as of the day)] of plans that were agreed
    by the day's end and not cancelled; installments with nothing left are left out."""
    end = _day_end(session, day)
    stmt = (
        sa.select(
            PaymentPlan.client_id, Installment.id, PaymentPlan.id, Installment.seq, Installment.due_date
        )
        .add_columns(sa.type_coerce(Installment.amount - Installment.paid_amount, Money))
        .join(Installment, Installment.plan_id == PaymentPlan.id)
        .where(PaymentPlan.status != PlanStatus.CANCELLED, PaymentPlan.created_at < end)
        .order_by(PaymentPlan.client_id, Installment.due_date, Installment.seq)
    )
    if current:
        stmt = stmt.where(PaymentPlan.status != PlanStatus.COMPLETED)
    if client_ids is not None:
        ids = list(client_ids)
        if not ids:
            return {}
        stmt = stmt.where(PaymentPlan.client_id.in_(ids))
    rows = session.execute(stmt).all()
    back: dict[int, Decimal] = {}
    if not current and rows:
        later = (
            sa.select(Allocation.installment_id, sa.type_coerce(sa.func.sum(Allocation.amount), Money))
            .join(Payment, Payment.id == Allocation.payment_id)
            .where(
                Allocation.installment_id.in_([r[1] for r in rows]),
                sa.or_(Allocation.created_at >= end, Payment.received_on > day),
            )
            .group_by(Allocation.installment_id)
        )
        back = {iid: amt for iid, amt in session.execute(later) if iid is not None}  # in_() above: never NULL
    out: dict[int, list[tuple[int, int, dt.date, Decimal]]] = {}
    for cid, iid, pid, seq, due, left in rows:
        left = left + back.get(iid, ZERO)
        if left > 0:
            out.setdefault(cid, []).append((pid, seq, due, left))
    return out


def _with_plan(
    day: dt.date, invoice_buckets: BucketAmounts, insts: Sequence[tuple[int, int, dt.date, Decimal]]
) -> tuple[BucketAmounts, tuple[AgedInstallment, ...]]:
    """Move the part a plan finances out of the oldest invoice buckets into the installments'
    buckets (installments oldest first, up to the balance). The total does not change."""
    values = list(invoice_buckets.as_tuple())
    room = sum(values, ZERO)
    moved: list[AgedInstallment] = []
    for pid, seq, due, left in insts:
        take = min(left, room)
        if take <= 0:
            break
        room -= take
        days = (day - due).days
        moved.append(AgedInstallment(pid, seq, due, take, days, bucket_of(days)))
    need = sum((m.remaining for m in moved), ZERO)
    for i in range(len(values) - 1, -1, -1):  # oldest bucket first
        cut = min(values[i], need)
        values[i] -= cut
        need -= cut
    for m in moved:
        values[BUCKETS.index(m.bucket)] += m.remaining
    return BucketAmounts.from_tuple(values), tuple(moved)


def _client_buckets(
    session: Session, day: dt.date, current: bool, client_ids: Sequence[int]
) -> dict[int, BucketAmounts]:
    """Client-side invoice buckets (no plan shift) per client, for the given clients."""
    stmt, _ = _aged(session, day, current)
    sub = stmt.where(Invoice.bill_to == BillTo.CLIENT, Invoice.client_id.in_(list(client_ids))).subquery()
    q = sa.select(sub.c.client_id, *_bucket_cases(day, sub.c.due, sub.c.bal)).group_by(sub.c.client_id)
    return {r[0]: _amounts(r[1:]) for r in session.execute(q)}


def _add(a: BucketAmounts, b: BucketAmounts, sign: int = 1) -> BucketAmounts:
    return BucketAmounts.from_tuple([x + sign * y for x, y in zip(a.as_tuple(), b.as_tuple(), strict=True)])


def office_aging(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> OfficeAging:
    """The office's aging, client and payer side. ``as_of`` defaults to the office's today."""
    require(actor, Action.VIEW)
    day, current = _resolve_day(session, as_of)
    stmt, _ = _aged(session, day, current)
    sub = stmt.subquery()
    q = sa.select(
        sub.c.bill_to, sa.func.count(sa.distinct(sub.c.client_id)), *_bucket_cases(day, sub.c.due, sub.c.bal)
    ).group_by(sub.c.bill_to)
    sides: dict[BillTo, tuple[int, BucketAmounts]] = {}
    for r in session.execute(q):
        sides[BillTo(r[0])] = (int(r[1]), _amounts(r[2:]))
    n_client, client = sides.get(BillTo.CLIENT, (0, BucketAmounts()))
    n_payer, payer = sides.get(BillTo.PAYER, (0, BucketAmounts()))
    plans = _plan_installments(session, day, current)
    if plans:
        ids = list(plans)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            for cid, plain in _client_buckets(session, day, current, part).items():
                shifted, _ = _with_plan(day, plain, plans[cid])
                client = _add(_add(client, plain, -1), shifted)
    return OfficeAging(day, client, payer, n_client, n_payer)


def payer_aging(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> tuple[PayerAgingRow, ...]:
    """The payer side by payer (one row per payer with a balance), by payer name."""
    require(actor, Action.VIEW)
    day, current = _resolve_day(session, as_of)
    stmt, _ = _aged(session, day, current)
    sub = (
        stmt.add_columns(Invoice.payer_id.label("payer_id")).where(Invoice.bill_to == BillTo.PAYER).subquery()
    )
    q = (
        sa.select(
            Payer.id,
            Payer.name,
            sa.func.count(sa.distinct(sub.c.client_id)),
            *_bucket_cases(day, sub.c.due, sub.c.bal),
        )
        .join(sub, sub.c.payer_id == Payer.id)
        .group_by(Payer.id, Payer.name)
        .order_by(Payer.name)
    )
    return tuple(PayerAgingRow(r[0], r[1], _amounts(r[3:]), int(r[2])) for r in session.execute(q))


def _aged_invoices(
    session: Session, day: dt.date, current: bool, client_id: int, side: Side | None
) -> tuple[AgedInvoice, ...]:
    stmt, _ = _aged(session, day, current)
    stmt = stmt.where(Invoice.client_id == client_id)
    if side is not None:
        stmt = stmt.where(Invoice.bill_to == (BillTo.CLIENT if side == Side.CLIENT else BillTo.PAYER))
    sub = stmt.subquery()
    rows = session.execute(
        sa.select(
            Invoice.id,
            Invoice.number,
            Invoice.kind,
            Invoice.bill_to,
            Payer.name,
            Invoice.issue_date,
            sub.c.due,
            Invoice.total,
            sa.type_coerce(sub.c.bal, Money),
            Invoice.dispute_hold,
        )
        .join(sub, sub.c.id == Invoice.id)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .order_by(sub.c.due, Invoice.issue_date, Invoice.number, Invoice.id)
    ).all()
    out = []
    for iid, number, kind, bill_to, payer_name, issued, due, total, bal, hold in rows:
        days = (day - due).days
        out.append(
            AgedInvoice(
                iid,
                number or "",
                str(kind.value if hasattr(kind, "value") else kind),
                Side.CLIENT if bill_to == BillTo.CLIENT else Side.PAYER,
                payer_name or "",
                issued,
                due,
                total,
                bal,
                days,
                bucket_of(days),
                bool(hold),
            )
        )
    return tuple(out)


def _sum_invoices(invoices: Iterable[AgedInvoice]) -> BucketAmounts:
    values = [ZERO] * len(BUCKETS)
    for inv in invoices:
        values[BUCKETS.index(inv.bucket)] += inv.balance
    return BucketAmounts.from_tuple(values)


def client_aging(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> ClientAging:
    """One account's aging with the invoices (and plan installments) behind it."""
    require(actor, Action.VIEW)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    day, current = _resolve_day(session, as_of)
    invoices = _aged_invoices(session, day, current, client_id, None)
    own = _sum_invoices(i for i in invoices if i.side == Side.CLIENT)
    payer = _sum_invoices(i for i in invoices if i.side == Side.PAYER)
    insts = _plan_installments(session, day, current, [client_id]).get(client_id, [])
    own, moved = _with_plan(day, own, insts)
    return ClientAging(
        client_id, client.account_number, client.display_name, day, own, payer, invoices, moved
    )


def _parse_side(side: Side | str) -> Side:
    try:
        return Side(side)
    except ValueError:
        raise ValidationError.from_fields({"side": f"must be client or payer, not {side!r}"}) from None


def _parse_bucket(bucket: Bucket | str) -> Bucket:
    try:
        return Bucket(bucket)
    except ValueError:
        names = ", ".join(b.value for b in BUCKETS)
        raise ValidationError.from_fields({"bucket": f"must be one of {names}, not {bucket!r}"}) from None


def accounts_in_bucket(
    actor: Actor,
    session: Session,
    *,
    side: Side | str,
    bucket: Bucket | str,
    as_of: dt.date | None = None,
    after: AgingAccountKey | None = None,
    limit: int = 50,
    filter_text: str = "",
) -> AgingAccountPage:
    """Accounts with an amount in one bucket, by account number, one page from ``after``.

    ``filter_text`` keeps accounts whose account number or folded name starts with it.
    """
    require(actor, Action.VIEW)
    side_, bucket_ = _parse_side(side), _parse_bucket(bucket)
    limit = max(1, min(int(limit), 500))
    day, current = _resolve_day(session, as_of)
    stmt, _ = _aged(session, day, current)
    bill_to = BillTo.CLIENT if side_ == Side.CLIENT else BillTo.PAYER
    sub = stmt.where(Invoice.bill_to == bill_to).subquery()
    cases = _bucket_cases(day, sub.c.due, sub.c.bal)
    col = cases[BUCKETS.index(bucket_)]
    total = sa.type_coerce(sa.func.sum(sub.c.bal), Money)
    plan_clients: set[int] = set()
    if side_ == Side.CLIENT:
        plan_clients = set(_plan_installments(session, day, current))
    q = (
        sa.select(Client.id, Client.account_number, Client.last_name, Client.first_name, *cases, total)
        .join(sub, sub.c.client_id == Client.id)
        .group_by(Client.id, Client.account_number, Client.last_name, Client.first_name)
        .order_by(Client.account_number, Client.id)
    )
    having = col > ZERO
    if plan_clients:
        having = sa.or_(having, Client.id.in_(plan_clients))
    q = q.having(having)
    text = filter_text.strip()
    if text:
        folded = name_search_key(text, "")
        q = q.where(
            sa.or_(
                Client.account_number.startswith(text, autoescape=True),
                Client.search_name.startswith(folded, autoescape=True),
            )
        )
    rows: list[AgingAccountRow] = []
    cursor = after
    while len(rows) < limit:
        page_q = q
        if cursor is not None:
            page_q = page_q.where(
                sa.tuple_(Client.account_number, Client.id)
                > sa.tuple_(cursor.account_number, cursor.client_id)
            )
        fetched = session.execute(page_q.limit(limit + 1)).all()
        if not fetched:
            cursor = None
            break
        for r in fetched:
            cid, acct, last, first = r[0], r[1], r[2], r[3]
            amounts, tot = _amounts(r[4:10]), r[10]
            if cid in plan_clients:
                amounts, _ = _with_plan(day, amounts, _plan_installments(session, day, current, [cid])[cid])
            cursor = AgingAccountKey(acct, cid)
            if amounts.get(bucket_) > 0:
                if len(rows) == limit:
                    return AgingAccountPage(
                        tuple(rows), AgingAccountKey(rows[-1].account_number, rows[-1].client_id)
                    )
                rows.append(
                    AgingAccountRow(cid, acct, f"{last}, {first}".strip(", "), amounts.get(bucket_), tot)
                )
        if len(fetched) <= limit:
            cursor = None
            break
    return AgingAccountPage(tuple(rows), None)


def invoices_of_account(
    actor: Actor, session: Session, client_id: int, *, side: Side | str, as_of: dt.date | None = None
) -> tuple[AgedInvoice, ...]:
    """The invoices of one account on one side with a balance as of the day, oldest first."""
    require(actor, Action.VIEW)
    day, current = _resolve_day(session, as_of)
    return _aged_invoices(session, day, current, client_id, _parse_side(side))
