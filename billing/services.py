"""Services rendered (docs/billing.md): what was done for a client, on which day, under which code.

A service is recorded once and billed once: building invoices marks it ``billed``; voiding or
fully crediting every document it is on makes it unbilled again. Unbilled services drive the
daily work list (``clients_with_unbilled``). A mistaken, unbilled service is voided, never
deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.catalog import get_code_row, office_day, pinned_get
from db import audit
from db.errors import ConflictError, NotFound, ValidationError
from db.models import Client, ClientStatus, ServiceCode, ServiceRendered
from db.rights import Action, Actor, require

MAX_UNITS = 999
FIELDS = ("client_id", "service_date", "service_code_id", "units", "rendering_note", "billed", "voided")


@dataclass(frozen=True)
class ServiceView:
    id: int
    client_id: int
    service_date: dt.date
    code: str
    description: str
    units: int
    rendering_note: str
    billed: bool
    voided: bool


@dataclass(frozen=True)
class UnbilledClient:
    client_id: int
    account_number: str
    display_name: str
    services: int
    oldest: dt.date


@dataclass(frozen=True)
class UnbilledPage:
    rows: tuple[UnbilledClient, ...]
    next_after: int | None  # client id


def _view(s: ServiceRendered, code: ServiceCode) -> ServiceView:
    return ServiceView(
        id=s.id,
        client_id=s.client_id,
        service_date=s.service_date,
        code=code.code,
        description=code.description,
        units=s.units,
        rendering_note=s.rendering_note,
        billed=s.billed,
        voided=s.voided,
    )


def record_service(
    actor: Actor,
    session: Session,
    client_id: int,
    *,
    service_date: dt.date,
    code: str,
    units: int = 1,
    note: str = "",
) -> ServiceView:
    """Record a service. The day may not be in the future; the code must be active."""
    require(actor, Action.SERVICE_RECORD)
    client = pinned_get(session, Client, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id}")
    today = office_day(session)
    errors: dict[str, str] = {}
    sc: ServiceCode | None = None
    try:
        sc = get_code_row(session, code)
        if not sc.active:
            errors["code"] = f"{sc.code} is no longer active in the catalog"
    except NotFound as e:
        errors["code"] = str(e)
    if not isinstance(units, int) or isinstance(units, bool) or not (1 <= units <= MAX_UNITS):
        errors["units"] = f"must be a whole number from 1 to {MAX_UNITS}"
    if service_date > today:
        errors["service_date"] = f"{service_date} is in the future (today is {today})"
    elif client.date_of_birth is not None and service_date < client.date_of_birth:
        errors["service_date"] = "is before the client's date of birth"
    if len(note) > 300:
        errors["note"] = "is longer than 300 characters"
    if client.status == ClientStatus.CLOSED:
        errors["client"] = f"{client.account_number} is closed"
    if errors:
        raise ValidationError.from_fields(errors)
    assert sc is not None
    row = ServiceRendered(
        client_id=client.id,
        service_date=service_date,
        service_code_id=sc.id,
        units=units,
        rendering_note=note.strip(),
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "service", row.id, "create", None, audit.snapshot(row, FIELDS))
    return _view(row, sc)


def void_service(actor: Actor, session: Session, service_id: int, *, reason: str) -> ServiceView:
    """Void a service recorded by mistake. A billed service must be credited or voided on its
    invoices first."""
    require(actor, Action.SERVICE_RECORD)
    row = session.get(ServiceRendered, service_id)
    if row is None:
        raise NotFound(f"no service with id {service_id}")
    if not reason.strip():
        raise ValidationError.from_fields({"reason": "is required"})
    if row.voided:
        raise ConflictError(f"service {service_id} is already void")
    if row.billed:
        raise ConflictError(f"service {service_id} is billed; credit or void its invoice first")
    before = audit.snapshot(row, FIELDS)
    row.voided = True
    session.flush()
    after = {**audit.snapshot(row, FIELDS), "reason": reason.strip()}
    audit.record(session, actor, "service", row.id, "void", before, after)
    return _view(row, row.code)


def list_services(
    actor: Actor, session: Session, client_id: int, *, unbilled_only: bool = False, limit: int = 200
) -> tuple[ServiceView, ...]:
    """The client's services, newest first."""
    require(actor, Action.VIEW)
    stmt = (
        sa.select(ServiceRendered, ServiceCode)
        .join(ServiceCode, ServiceCode.id == ServiceRendered.service_code_id)
        .where(ServiceRendered.client_id == client_id)
        .order_by(ServiceRendered.service_date.desc(), ServiceRendered.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if unbilled_only:
        stmt = stmt.where(ServiceRendered.billed.is_(False), ServiceRendered.voided.is_(False))
    return tuple(_view(s, c) for s, c in session.execute(stmt))


def clients_with_unbilled(
    actor: Actor, session: Session, *, after: int | None = None, limit: int = 100
) -> UnbilledPage:
    """Clients who have unbilled services (the "to bill" work), by client id, paged by key."""
    require(actor, Action.VIEW)
    limit = max(1, min(limit, 1000))
    agg = (
        sa.select(
            ServiceRendered.client_id,
            sa.func.count().label("n"),
            sa.func.min(ServiceRendered.service_date).label("oldest"),
        )
        .where(ServiceRendered.billed.is_(False), ServiceRendered.voided.is_(False))
        .group_by(ServiceRendered.client_id)
    )
    if after is not None:
        agg = agg.where(ServiceRendered.client_id > after)
    sub = agg.order_by(ServiceRendered.client_id).limit(limit + 1).subquery()
    rows = session.execute(
        sa.select(
            Client.id, Client.account_number, Client.last_name, Client.first_name, sub.c.n, sub.c.oldest
        )
        .join(sub, sub.c.client_id == Client.id)
        .order_by(Client.id)
    ).all()
    out = tuple(
        UnbilledClient(cid, acct, f"{last}, {first}".strip(", "), n, oldest)
        for cid, acct, last, first, n, oldest in rows[:limit]
    )
    return UnbilledPage(out, out[-1].client_id if len(rows) > limit else None)
