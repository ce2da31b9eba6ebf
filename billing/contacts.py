"""Contact log and promises to pay (docs/collections.md).

* Every attempt is a row: channel (phone call, letter, email, SMS, visit), direction, outcome,
  notes, and optionally a promise to pay (amount and date, both or neither; the date not in
  the past). Logged by clerks and supervisors (``Action.CONTACT_LOG``); never edited.
* A promise's state is computed, never stored, so it cannot drift from the money:
  *kept* when the client's own payments posted after the promise was made and received by its
  date reach the amount; *broken* when the day asked about is after the promise date and it
  was not kept; *cancelled* when a clerk withdrew it (with a reason); otherwise *pending*.
* ``broken_promises(as_of)`` is the query the work-item generator uses: promises whose date
  passed before ``as_of`` unkept, one page at a time (``newly=True``: only those whose date
  was the day before, i.e. broken since yesterday morning).
* Correcting contact data (phone, address, …) is ``billing.clients.edit_client``, which keeps
  the history (``billing.clients.contact_history``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing._inputs import check_amount, check_date, check_text, clean_notes
from billing.catalog import office_day
from db import audit
from db.coltypes import Money
from db.errors import NotFound, ValidationError
from db.models import (
    Channel,
    Client,
    ContactAttempt,
    ContactDirection,
    ContactOutcome,
    PayerSide,
    Payment,
    User,
)
from db.money import ZERO
from db.rights import Action, Actor, require
from db.timeutil import now

MAX_NOTES = 2000
MAX_PROMISE_DAYS = 366


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


def _paid_expr() -> sa.ScalarSelect[Any]:
    """Per contact row: the client's own payments posted after it and received by the promise date."""
    return (
        sa.select(sa.type_coerce(sa.func.coalesce(sa.func.sum(Payment.amount), 0), Money))
        .where(
            Payment.side == PayerSide.CLIENT,
            Payment.client_id == ContactAttempt.client_id,
            Payment.posted_at >= ContactAttempt.at,
            Payment.received_on <= ContactAttempt.promise_date,
        )
        .correlate(ContactAttempt)
        .scalar_subquery()
    )


def _state(c: ContactAttempt, paid: Decimal, day: dt.date) -> PromiseState | None:
    if c.promise_date is None or c.promise_amount is None:
        return None
    if c.promise_cancelled_at is not None:
        return PromiseState.CANCELLED
    if paid >= c.promise_amount:
        return PromiseState.KEPT
    if day > c.promise_date:
        return PromiseState.BROKEN
    return PromiseState.PENDING


def _view(c: ContactAttempt, login: str, paid: Decimal | None, day: dt.date) -> ContactView:
    paid_ = paid if paid is not None and c.promise_date is not None else ZERO
    return ContactView(
        c.id,
        c.client_id,
        c.at,
        c.made_by,
        login,
        c.channel,
        c.direction,
        c.outcome,
        c.notes,
        c.promise_amount,
        c.promise_date,
        _state(c, paid_, day),
        paid_,
        c.promise_cancel_reason,
    )


def _select() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(ContactAttempt, User.login, _paid_expr()).join(User, User.id == ContactAttempt.made_by)


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
    require(actor, Action.CONTACT_LOG)
    if session.get(Client, client_id) is None:
        raise NotFound(f"no client with id {client_id}")
    errors: dict[str, str] = {}
    enums: dict[str, Any] = {}
    for name, cls, value in (
        ("channel", Channel, channel),
        ("direction", ContactDirection, direction),
        ("outcome", ContactOutcome, outcome),
    ):
        try:
            enums[name] = cls(value)
        except ValueError:
            errors[name] = "must be one of " + ", ".join(m.value for m in cls)
    text = check_text(clean_notes(notes), "notes", MAX_NOTES, errors, required=False)
    amount: Decimal | None = None
    day: dt.date | None = None
    has_amount = promise_amount not in (None, "")
    if has_amount or promise_date is not None:
        if not has_amount:
            errors["promise_amount"] = "is required with a promise date"
        else:
            amount = check_amount(promise_amount, "promise_amount", errors)
        if promise_date is None:
            errors["promise_date"] = "is required with a promise amount"
        else:
            day = check_date(promise_date, "promise_date", errors)
            today = office_day(session)
            if day is not None and day < today:
                errors["promise_date"] = f"is in the past (today is {today.isoformat()})"
            elif day is not None and day > today + dt.timedelta(days=MAX_PROMISE_DAYS):
                errors["promise_date"] = "is more than a year away"
        if "outcome" not in errors:
            enums["outcome"] = ContactOutcome.PROMISE_TO_PAY
    elif enums.get("outcome") == ContactOutcome.PROMISE_TO_PAY:
        errors["promise_amount"] = "is required for a promise to pay"
    if errors:
        raise ValidationError.from_fields(errors)
    c = ContactAttempt(
        client_id=client_id,
        at=now(),
        made_by=actor.user_id,
        channel=enums["channel"],
        direction=enums["direction"],
        outcome=enums["outcome"],
        notes=text,
        promise_amount=amount,
        promise_date=day,
    )
    session.add(c)
    session.flush()
    audit.record(
        session,
        actor,
        "contact",
        c.id,
        "log",
        None,
        {
            "client_id": client_id,
            "channel": c.channel,
            "direction": c.direction,
            "outcome": c.outcome,
            "notes": text,
            "promise_amount": amount,
            "promise_date": day,
        },
    )
    return _view(c, actor.login, ZERO, office_day(session))


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
    require(actor, Action.VIEW)
    day = as_of or office_day(session)
    limit = max(1, min(int(limit), 500))
    stmt = _select().where(ContactAttempt.client_id == client_id)
    if after is not None:
        stmt = stmt.where(
            sa.or_(
                ContactAttempt.at < after.at,
                sa.and_(ContactAttempt.at == after.at, ContactAttempt.id < after.id),
            )
        )
    rows = session.execute(
        stmt.order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc()).limit(limit + 1)
    ).all()
    views = [_view(c, login, paid, day) for c, login, paid in rows[:limit]]
    nxt = ContactKey(views[-1].at, views[-1].id) if len(rows) > limit else None
    return ContactPage(tuple(views), nxt)


def get_contact(
    actor: Actor, session: Session, contact_id: int, *, as_of: dt.date | None = None
) -> ContactView:
    require(actor, Action.VIEW)
    row = session.execute(_select().where(ContactAttempt.id == contact_id)).first()
    if row is None:
        raise NotFound(f"no contact #{contact_id}")
    return _view(row[0], row[1], row[2], as_of or office_day(session))


def cancel_promise(actor: Actor, session: Session, contact_id: int, *, reason: str) -> ContactView:
    """Withdraw a pending promise (``Action.CONTACT_LOG``, reason required)."""
    require(actor, Action.CONTACT_LOG)
    view = get_contact(actor, session, contact_id)
    errors: dict[str, str] = {}
    text = check_text(reason, "reason", 500, errors, required=True)
    if view.promise_state is None:
        errors["contact"] = "has no promise to pay"
    elif view.promise_state != PromiseState.PENDING:
        errors["contact"] = (
            f"the promise is {view.promise_state.value}; only a pending promise can be cancelled"
        )
    if errors:
        raise ValidationError.from_fields(errors)
    c = session.get(ContactAttempt, contact_id)
    assert c is not None
    c.promise_cancelled_at = now()
    c.promise_cancel_reason = text
    session.flush()
    audit.record(session, actor, "contact", c.id, "cancel_promise", None, {"reason": text})
    return get_contact(actor, session, contact_id)


def open_promise(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> ContactView | None:
    """The account's latest pending promise, if any (for the collections row)."""
    require(actor, Action.VIEW)
    day = as_of or office_day(session)
    rows = session.execute(
        _select()
        .where(
            ContactAttempt.client_id == client_id,
            ContactAttempt.promise_date.is_not(None),
            ContactAttempt.promise_date >= day,
            ContactAttempt.promise_cancelled_at.is_(None),
        )
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
        .limit(20)
    ).all()
    for c, login, paid in rows:
        v = _view(c, login, paid, day)
        if v.promise_state == PromiseState.PENDING:
            return v
    return None


def broken_promises(
    actor: Actor,
    session: Session,
    *,
    as_of: dt.date,
    after: int | None = None,
    limit: int = 200,
    owner_id: int | None = None,
    newly: bool = False,
    client_id: int | None = None,
) -> PromisePage:
    """Promises broken as of ``as_of`` (date before it, not kept, not cancelled), by contact id.
    ``newly``: only those whose date was the day before ``as_of``."""
    require(actor, Action.VIEW)
    limit = max(1, min(int(limit), 1000))
    paid = _paid_expr()
    stmt = (
        sa.select(
            ContactAttempt,
            Client.account_number,
            Client.last_name,
            Client.first_name,
            Client.owner_id,
            User.login,
            paid,
        )
        .join(Client, Client.id == ContactAttempt.client_id)
        .join(User, User.id == ContactAttempt.made_by)
        .where(
            ContactAttempt.promise_date.is_not(None),
            ContactAttempt.promise_cancelled_at.is_(None),
            paid < ContactAttempt.promise_amount,
        )
        .order_by(ContactAttempt.id)
    )
    if newly:
        stmt = stmt.where(ContactAttempt.promise_date == as_of - dt.timedelta(days=1))
    else:
        stmt = stmt.where(ContactAttempt.promise_date < as_of)
    if owner_id is not None:
        stmt = stmt.where(Client.owner_id == owner_id)
    if client_id is not None:
        stmt = stmt.where(ContactAttempt.client_id == client_id)
    if after is not None:
        stmt = stmt.where(ContactAttempt.id > after)
    rows = session.execute(stmt.limit(limit + 1)).all()
    out = tuple(
        PromiseRow(
            c.id,
            c.client_id,
            acct,
            f"{last}, {first}".strip(", "),
            owner,
            login,
            c.promise_amount,
            c.promise_date,
            p,
        )
        for c, acct, last, first, owner, login, p in rows[:limit]
    )
    return PromisePage(out, out[-1].contact_id if len(rows) > limit else None)


def promise_kept_rates(
    actor: Actor, session: Session, *, since: dt.date, as_of: dt.date | None = None
) -> tuple[KeptRate, ...]:
    """Per clerk who took them: promises due from ``since`` whose date has passed, and how many were kept."""
    require(actor, Action.VIEW)
    day = as_of or office_day(session)
    rows = session.execute(
        _select().where(
            ContactAttempt.promise_date.is_not(None),
            ContactAttempt.promise_date < day,
            ContactAttempt.promise_date >= since,
            ContactAttempt.promise_cancelled_at.is_(None),
        )
    ).all()
    by: dict[str, list[int]] = {}
    for c, login, paid in rows:
        st = _state(c, paid, day)
        counts = by.setdefault(login, [0, 0])
        counts[0] += 1
        counts[1] += 1 if st == PromiseState.KEPT else 0
    return tuple(KeptRate(login, n, k) for login, (n, k) in sorted(by.items()))
