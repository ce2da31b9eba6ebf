"""The collections worklist and the one collections row per account (SPEC §3.7).

* The worklist lists accounts with a past-due balance on their own bills that are not placed
  with an agency, by priority: a broken promise first, then the oldest past-due item (days
  past due), then the past-due amount, then the account number. Paged by key (the priority
  figures and the client id of the last row), never OFFSET.
* ``owner_id`` limits it to one clerk's accounts (the clerk's own list); ``filter_text`` keeps
  accounts whose account number or folded name starts with it.
* ``collections_row`` is the same figures for one account, for the account header: aging,
  dunning level, last contact, open promise, open disputes, agency status. Its figures are
  the ledger's (``billing.aging`` as of today), to the cent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from billing.aging import BucketAmounts
from db.models import Channel, ClientStatus
from db.rights import Actor


@dataclass(frozen=True)
class WorklistKey:
    """Where a worklist page ended (pass back as ``after``)."""

    broken: int  # 1 when the account has a broken promise
    days_past_due: int
    past_due_cents: int
    client_id: int


@dataclass(frozen=True)
class WorklistRow:
    client_id: int
    account_number: str
    client_name: str
    owner_login: str
    status: ClientStatus
    past_due: Decimal  # own bills past due today
    balance: Decimal  # own bills open
    days_past_due: int  # of the oldest past-due item
    dunning_level: int  # highest level fired on an open item (0: none)
    last_contact_at: dt.datetime | None
    last_contact_channel: Channel | None
    broken_promise: bool
    open_promise_date: dt.date | None  # a pending promise's date
    open_disputes: int
    key: WorklistKey


@dataclass(frozen=True)
class WorklistPage:
    rows: tuple[WorklistRow, ...]
    next_after: WorklistKey | None


@dataclass(frozen=True)
class CollectionsRow:
    """One account's collections picture."""

    client_id: int
    as_of: dt.date
    client: BucketAmounts
    payer: BucketAmounts
    dunning_level: int
    dunning_level_name: str
    last_contact_at: dt.datetime | None
    last_contact_outcome: str
    open_promise_amount: Decimal | None
    open_promise_date: dt.date | None
    broken_promises: int
    open_disputes: int
    agency_name: str  # "" when not placed
    placed_on: dt.date | None
    paused_until: dt.date | None  # account-wide dunning pause
    in_current_plan: bool
    next_action: str  # plain words: "call: promise broken on 2026-11-30", "wait for agency", …


def collections_worklist(
    actor: Actor,
    session: Session,
    *,
    after: WorklistKey | None = None,
    limit: int = 50,
    filter_text: str = "",
    owner_id: int | None = None,
    as_of: dt.date | None = None,
) -> WorklistPage:
    """One page of overdue accounts by priority (``Action.VIEW``)."""
    raise NotImplementedError


def collections_row(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> CollectionsRow:
    """The account's collections row (``Action.VIEW``)."""
    raise NotImplementedError
