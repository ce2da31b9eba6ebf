"""Aging of receivables (SPEC §3.7): how long what is owed has been past due.

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
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from db.money import ZERO
from db.rights import Actor


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


def office_aging(actor: Actor, session: Session, *, as_of: dt.date | None = None) -> OfficeAging:
    """The office's aging, client and payer side. ``as_of`` defaults to the office's today."""
    raise NotImplementedError


def client_aging(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> ClientAging:
    """One account's aging with the invoices (and plan installments) behind it."""
    raise NotImplementedError


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
    raise NotImplementedError


def invoices_of_account(
    actor: Actor, session: Session, client_id: int, *, side: Side | str, as_of: dt.date | None = None
) -> tuple[AgedInvoice, ...]:
    """The invoices of one account on one side with a balance as of the day, oldest first."""
    raise NotImplementedError
