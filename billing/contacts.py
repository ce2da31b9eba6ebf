"""Contact log and promises to pay (SPEC §3.7).

* Every attempt is a row: channel (phone call, letter, email, SMS, visit), direction, outcome,
  notes, and optionally a promise to pay (amount and date, both or neither; the date not in
  the past). Logged by clerks and supervisors (``Action.CONTACT_LOG``); never edited.
* A promise's state is computed, never stored, so it cannot drift from the money:
  *kept* when the client's own payments received from the day the promise was made up to
  its date (and posted after it was made) reach the amount; *broken* when the day asked about
  is after the promise date and it was not kept; *cancelled* when a clerk withdrew it (with a
  reason); otherwise *pending*.
* ``broken_promises(as_of)`` is the query the work-item generator uses: promises whose date
  passed before ``as_of`` unkept, one page at a time.
* Correcting contact data (phone, address, …) is ``billing.clients.edit_client``, which keeps
  the history (``billing.clients.contact_history``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from db.models import Channel, ContactDirection, ContactOutcome
from db.rights import Actor


class PromiseState(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ContactView:
    id: int
    client_id: int
    at: dt.datetime  # UTC
    made_by: int
    made_by_login: str
    channel: Channel
    direction: ContactDirection
    outcome: ContactOutcome
    notes: str
    promise_amount: Decimal | None
    promise_date: dt.date | None
    promise_state: PromiseState | None  # None when there was no promise
    promise_paid: Decimal  # paid towards the promise so far (0 without one)
    cancel_reason: str


@dataclass(frozen=True)
class ContactKey:
    """Keyset cursor of ``list_contacts``: newest first by (at, id)."""

    at: dt.datetime
    id: int


@dataclass(frozen=True)
class ContactPage:
    rows: tuple[ContactView, ...]
    next_after: ContactKey | None


@dataclass(frozen=True)
class PromiseRow:
    contact_id: int
    client_id: int
    account_number: str
    client_name: str
    owner_id: int | None  # the account's owner: whose work item it becomes
    made_by_login: str
    promise_amount: Decimal
    promise_date: dt.date
    paid: Decimal


@dataclass(frozen=True)
class PromisePage:
    rows: tuple[PromiseRow, ...]
    next_after: int | None  # contact id


@dataclass(frozen=True)
class KeptRate:
    login: str
    promises: int  # promises whose date has passed (kept + broken)
    kept: int

    @property
    def percent(self) -> int | None:
        return None if self.promises == 0 else round(100 * self.kept / self.promises)


def log_contact(
    actor: Actor,
    session: Session,
    *,
    client_id: int,
    channel: Channel | str,
    direction: ContactDirection | str,
    outcome: ContactOutcome | str,
    notes: str = "",
    promise_amount: Decimal | str | None = None,
    promise_date: dt.date | None = None,
) -> ContactView:
    """Record one contact attempt (``Action.CONTACT_LOG``). A promise needs both an amount more
    than zero and a date from today on; ``outcome`` becomes ``promise_to_pay`` with one."""
    raise NotImplementedError


def list_contacts(
    actor: Actor,
    session: Session,
    client_id: int,
    *,
    after: ContactKey | None = None,
    limit: int = 50,
    as_of: dt.date | None = None,
) -> ContactPage:
    """An account's contact log, newest first, one page; promise states as of ``as_of``."""
    raise NotImplementedError


def get_contact(
    actor: Actor, session: Session, contact_id: int, *, as_of: dt.date | None = None
) -> ContactView:
    raise NotImplementedError


def cancel_promise(actor: Actor, session: Session, contact_id: int, *, reason: str) -> ContactView:
    """Withdraw a pending promise (``Action.CONTACT_LOG``, reason required)."""
    raise NotImplementedError


def open_promise(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> ContactView | None:
    """The account's latest pending promise, if any (for the collections row)."""
    raise NotImplementedError


def broken_promises(
    actor: Actor,
    session: Session,
    *,
    as_of: dt.date,
    after: int | None = None,
    limit: int = 200,
    owner_id: int | None = None,
) -> PromisePage:
    """Promises broken as of ``as_of`` (date before it, not kept, not cancelled), by contact id."""
    raise NotImplementedError


def promise_kept_rates(
    actor: Actor, session: Session, *, since: dt.date, as_of: dt.date | None = None
) -> tuple[KeptRate, ...]:
    """Per clerk who took them: promises made since ``since`` whose date passed, and kept."""
    raise NotImplementedError
