"""The collections worklist and the one collections row per account (docs/collections.md).

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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import aging, contacts, ledger, plans
from billing.aging import BucketAmounts
from billing.catalog import office_day
from db.coltypes import Money
from db.errors import NotFound
from db.models import (
    Agency,
    BillTo,
    Channel,
    Client,
    ClientStatus,
    ContactAttempt,
    Dispute,
    DisputeStatus,
    DunningEvent,
    DunningLevel,
    DunningPause,
    Invoice,
    PayerSide,
    Payment,
    Placement,
    PlacementStatus,
    User,
    name_search_key,
)
from db.money import CENT, ZERO, fmt_money
from db.rights import Action, Actor, require


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


def _plain(day: dt.date) -> dt.date:
    """A plain date (pendulum's date subtraction is slow over thousands of rows)."""
    return dt.date(day.year, day.month, day.day)


def _broken_exists(day: dt.date, client_id: Any) -> Any:
    """EXISTS: the client ``client_id`` (a column) has a promise broken as of ``day``."""
    inner = sa.orm.aliased(ContactAttempt)
    paid = (
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0))
        .where(
            Payment.side == PayerSide.CLIENT,
            Payment.client_id == inner.client_id,
            Payment.posted_at >= inner.at,
            Payment.received_on <= inner.promise_date,
        )
        .correlate(inner)
        .scalar_subquery()
    )
    return (
        sa.select(inner.id)
        .where(
            inner.client_id == client_id,
            inner.promise_date.is_not(None),
            inner.promise_date < day,
            inner.promise_cancelled_at.is_(None),
            paid < inner.promise_amount,
        )
        .exists()
    )


def _agg(day: dt.date) -> sa.Subquery:
    """Per client with something past due on its own bills and not placed: balance, past due,
    oldest past-due date, and 1 when a promise is broken. Grouped first, the per-client tests
    (placement, promises) run once per account, not once per invoice."""
    bal = ledger.balance_expr()
    late = sa.case((Invoice.due_date < day, bal), else_=0)
    grouped = (
        sa.select(
            Invoice.client_id.label("client_id"),
            sa.func.sum(bal).label("balance"),
            sa.func.sum(late).label("past_due"),
            sa.func.min(sa.case((Invoice.due_date < day, Invoice.due_date), else_=None)).label("oldest"),
        )
        .where(
            Invoice.bill_to == BillTo.CLIENT,
            Invoice.status.in_(ledger.OPEN_STATUSES),
            Invoice.kind.in_(ledger.PAYABLE_KINDS),
            bal > ZERO,
        )
        .group_by(Invoice.client_id)
        .having(sa.func.sum(late) > ZERO)
        .subquery()
    )
    placed = (
        sa.select(Placement.id)
        .where(Placement.client_id == grouped.c.client_id, Placement.status == PlacementStatus.ACTIVE)
        .exists()
    )
    return (
        sa.select(
            grouped.c.client_id,
            grouped.c.balance,
            grouped.c.past_due,
            grouped.c.oldest,
            sa.case((_broken_exists(day, grouped.c.client_id), 1), else_=0).label("broken"),
        )
        .where(~placed)
        .subquery()
    )


def _levels(session: Session, client_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Client → (highest level fired on an open own bill, its name)."""
    if not client_ids:
        return {}
    rows = session.execute(
        sa.select(Invoice.client_id, DunningLevel.level, DunningLevel.name)
        .join(DunningEvent, DunningEvent.invoice_id == Invoice.id)
        .join(DunningLevel, DunningLevel.id == DunningEvent.level_id)
        .where(Invoice.client_id.in_(client_ids), Invoice.status.in_(ledger.OPEN_STATUSES))
    ).all()
    out: dict[int, tuple[int, str]] = {}
    for cid, level, name in rows:
        if level > out.get(cid, (0, ""))[0]:
            out[cid] = (level, name)
    return out


def _last_contacts(session: Session, client_ids: list[int]) -> dict[int, ContactAttempt]:
    if not client_ids:
        return {}
    last = (
        sa.select(ContactAttempt.client_id, sa.func.max(ContactAttempt.id).label("id"))
        .where(ContactAttempt.client_id.in_(client_ids))
        .group_by(ContactAttempt.client_id)
        .subquery()
    )
    return {
        c.client_id: c
        for c in session.scalars(sa.select(ContactAttempt).join(last, last.c.id == ContactAttempt.id))
    }


def _open_disputes(session: Session, client_ids: list[int]) -> dict[int, int]:
    if not client_ids:
        return {}
    rows = session.execute(
        sa.select(Invoice.client_id, sa.func.count())
        .join(Dispute, Dispute.invoice_id == Invoice.id)
        .where(Invoice.client_id.in_(client_ids), Dispute.status == DisputeStatus.OPEN)
        .group_by(Invoice.client_id)
    ).all()
    return {cid: int(n) for cid, n in rows}


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
    require(actor, Action.VIEW)
    day = _plain(as_of or office_day(session))
    limit = max(1, min(int(limit), 500))
    agg = _agg(day)
    past_due = sa.type_coerce(agg.c.past_due, Money)
    stmt = (
        sa.select(
            Client.id,
            Client.account_number,
            Client.last_name,
            Client.first_name,
            Client.status,
            User.login,
            sa.type_coerce(agg.c.balance, Money),
            past_due,
            agg.c.oldest,
            agg.c.broken,
        )
        .join(agg, agg.c.client_id == Client.id)
        .outerjoin(User, User.id == Client.owner_id)
    )
    if owner_id is not None:
        stmt = stmt.where(Client.owner_id == owner_id)
    text = filter_text.strip()
    if text:
        stmt = stmt.where(
            sa.or_(
                Client.account_number.startswith(text, autoescape=True),
                Client.search_name.startswith(name_search_key(text, ""), autoescape=True),
            )
        )
    if after is not None:
        oldest = day - dt.timedelta(days=after.days_past_due)
        amount = (Decimal(after.past_due_cents) * CENT).quantize(CENT)
        stmt = stmt.where(
            sa.or_(
                agg.c.broken < after.broken,
                sa.and_(agg.c.broken == after.broken, agg.c.oldest > oldest),
                sa.and_(agg.c.broken == after.broken, agg.c.oldest == oldest, past_due < amount),
                sa.and_(
                    agg.c.broken == after.broken,
                    agg.c.oldest == oldest,
                    past_due == amount,
                    Client.id > after.client_id,
                ),
            )
        )
    stmt = stmt.order_by(agg.c.broken.desc(), agg.c.oldest.asc(), past_due.desc(), Client.id.asc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    page = rows[:limit]
    ids = [r[0] for r in page]
    levels = _levels(session, ids)
    lasts = _last_contacts(session, ids)
    disputes = _open_disputes(session, ids)
    promises: dict[int, dt.date] = {}
    if ids:
        for c in session.scalars(
            sa.select(ContactAttempt).where(
                ContactAttempt.client_id.in_(ids),
                ContactAttempt.promise_date >= day,
                ContactAttempt.promise_cancelled_at.is_(None),
            )
        ):
            if c.promise_date is not None and (
                c.client_id not in promises or c.promise_date < promises[c.client_id]
            ):
                promises[c.client_id] = c.promise_date
    out: list[WorklistRow] = []
    for cid, acct, last, first, status, login, balance, late, oldest, broken in page:
        days = (day - oldest).days
        key = WorklistKey(int(broken), days, int((late / CENT).to_integral_value()), cid)
        contact = lasts.get(cid)
        out.append(
            WorklistRow(
                cid,
                acct,
                f"{last}, {first}".strip(", "),
                login or "",
                status,
                late,
                balance,
                days,
                levels.get(cid, (0, ""))[0],
                contact.at if contact else None,
                contact.channel if contact else None,
                bool(broken),
                promises.get(cid),
                disputes.get(cid, 0),
                key,
            )
        )
    return WorklistPage(tuple(out), out[-1].key if len(rows) > limit else None)


def collections_row(
    actor: Actor, session: Session, client_id: int, *, as_of: dt.date | None = None
) -> CollectionsRow:
    """The account's collections row (``Action.VIEW``)."""
    require(actor, Action.VIEW)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    day = _plain(as_of or office_day(session))
    ag = aging.client_aging(actor, session, client_id, as_of=day)
    level, level_name = _levels(session, [client_id]).get(client_id, (0, ""))
    contact = _last_contacts(session, [client_id]).get(client_id)
    promise = contacts.open_promise(actor, session, client_id, as_of=day)
    n_broken = len(contacts.broken_promises(actor, session, as_of=day, client_id=client_id, limit=1000).rows)
    disputes = _open_disputes(session, [client_id]).get(client_id, 0)
    placement = session.scalars(
        sa.select(Placement).where(
            Placement.client_id == client_id, Placement.status == PlacementStatus.ACTIVE
        )
    ).first()
    agency_name = ""
    if placement is not None:
        agency_name = session.scalar(sa.select(Agency.name).where(Agency.id == placement.agency_id)) or ""
    paused = session.scalar(
        sa.select(sa.func.max(DunningPause.until)).where(
            DunningPause.client_id == client_id,
            DunningPause.invoice_id.is_(None),
            DunningPause.ended_at.is_(None),
            DunningPause.until >= day,
        )
    )
    current_plan = plans.has_current_plan(session, client_id)
    symbol = "$"
    if placement is not None:
        action = f"wait for the agency (placed {placement.placed_on.isoformat()})"
    elif disputes:
        action = "dispute open: waiting for a supervisor"
    elif n_broken:
        action = "call: a promise to pay was broken"
    elif promise is not None and promise.promise_date is not None and promise.promise_amount is not None:
        action = f"wait: promise of {fmt_money(promise.promise_amount, symbol)} by {promise.promise_date.isoformat()}"
    elif current_plan:
        action = "payment plan current: nothing to chase"
    elif ag.client.past_due > 0:
        oldest = max((i.days_past_due for i in ag.invoices if i.side == aging.Side.CLIENT), default=0)
        action = f"call: {fmt_money(ag.client.past_due, symbol)} past due, oldest {oldest} days"
    else:
        action = "nothing past due"
    return CollectionsRow(
        client_id,
        day,
        ag.client,
        ag.payer,
        level,
        level_name,
        contact.at if contact else None,
        contact.outcome.value if contact else "",
        promise.promise_amount if promise else None,
        promise.promise_date if promise else None,
        n_broken,
        disputes,
        agency_name,
        placement.placed_on if placement else None,
        paused,
        current_plan,
        action,
    )
