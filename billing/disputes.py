"""Disputes (SPEC §3.8): a clerk opens, a supervisor decides.

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

from sqlalchemy.orm import Session

from billing.contacts import ContactView
from billing.invoices import InvoiceView
from billing.ledger import ClientLedger
from db.models import DisputeReason, DisputeStatus
from db.rights import Actor

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
    raise NotImplementedError


def get_dispute(actor: Actor, session: Session, dispute_id: int) -> DisputeView:
    raise NotImplementedError


def dispute_detail(actor: Actor, session: Session, dispute_id: int) -> DisputeDetail:
    raise NotImplementedError


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
    raise NotImplementedError


def client_disputes(
    actor: Actor, session: Session, client_id: int, *, limit: int = 100
) -> tuple[DisputeView, ...]:
    """An account's disputes, newest first, decided ones included."""
    raise NotImplementedError


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
    raise NotImplementedError


def decide_confirm(
    actor: Actor, session: Session, dispute_id: int, *, reason: str, version: int
) -> DisputeView:
    """The charge stands; hold released; dunning resumes at the level it had."""
    raise NotImplementedError


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
    raise NotImplementedError
