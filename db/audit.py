"""Append-only, hash-chained audit log (SPEC §3.13).

Each row's hash covers its own content and the previous row's hash, so editing, deleting
or inserting a row outside the application breaks the chain at that row. Writers lock the
single ``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serialises writers), so two transactions can never fork the chain. ``record`` only queues the row;
it is written at commit, with the head locked last (see ``flush_pending``).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from db.models import AuditEntry, AuditHead
from db.rights import Actor
from db.timeutil import now

GENESIS = "0" * 64


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return f"{o:.2f}"
    if isinstance(o, dt.datetime):
        return o.astimezone(dt.UTC).isoformat()
    if isinstance(o, dt.date | dt.time):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, set | frozenset):
        return sorted(o)
    raise TypeError(f"not JSON-serialisable for audit: {type(o).__name__}")


def canonical(data: Mapping[str, Any] | None) -> str:
    if data is None:
        return ""
    return json.dumps(data, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The column values of an ORM object, for before/after."""
    mapper = sa.inspect(obj).mapper
    names = list(fields) if fields is not None else [c.key for c in mapper.column_attrs]
    return {n: getattr(obj, n) for n in names}


def _row_hash(
    prev_hash: str,
    at: str,
    actor_login: str,
    entity: str,
    entity_id: str,
    action: str,
    before: str,
    after: str,
) -> str:
    h = hashlib.sha256()
    for part in (prev_hash, at, actor_login, entity, entity_id, action, before, after):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")  # unit separator: "ab"+"c" and "a"+"bc" hash differently
    return h.hexdigest()


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(session: Session) -> AuditHead:
    stmt = sa.select(AuditHead).where(AuditHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = session.scalars(stmt).one_or_none()
    if head is None and session.get_bind().dialect.name == "postgresql":
        # Two first writers may both see no head: create it race-free, then lock it.
        from sqlalchemy.dialects.postgresql import insert

        session.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS).on_conflict_do_nothing())
        head = session.scalars(stmt).one()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


# Audit rows wait in the session until the transaction commits (``flush_pending``): the head
# row is the one lock every writer shares, so it is taken LAST, after every business row a
# service locks or updates. Lock order everywhere: business rows (in each service's documented
# order), then audit_head. Taking the head first (as record() once did) deadlocks against a
# transaction that holds an invoice and waits for the head.
_PENDING = "clerkdesk.audit_pending"


@dataclass(frozen=True)
class _Pending:
    at: pendulum.DateTime
    actor_id: int | None
    actor_login: str
    entity: str
    entity_id: str
    action: str
    before: str
    after: str


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: Any,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Record one audit row in the caller's transaction; it is written when the transaction
    commits and vanishes with it on rollback."""
    session.info.setdefault(_PENDING, []).append(
        _Pending(
            now(),
            actor.user_id or None,
            actor.login,
            entity,
            str(entity_id),
            action,
            canonical(before),
            canonical(after),
        )
    )


def pending_count(session: Session) -> int:
    return len(session.info.get(_PENDING, ()))


def flush_pending(session: Session) -> None:
    """Write the transaction's audit rows at its end: business changes first, the head last."""
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # every business UPDATE (and its row lock) before the head's lock
    head = _lock_head(session)
    prev = head.last_hash
    entries = []
    for p in pending:
        digest = _row_hash(
            prev, _at_text(p.at), p.actor_login, p.entity, p.entity_id, p.action, p.before, p.after
        )
        entries.append(
            AuditEntry(
                at=p.at,
                actor_id=p.actor_id,
                actor_login=p.actor_login,
                entity=p.entity,
                entity_id=p.entity_id,
                action=p.action,
                before=p.before,
                after=p.after,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.add_all(entries)
    session.flush()
    head.last_id = entries[-1].id
    head.last_hash = prev
    session.flush()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Also fired when a savepoint is released: wait for the real commit, or the head would be
    # locked in the middle of the transaction (then other rows after it: deadlock again).
    if not session.in_nested_transaction():
        flush_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Rolled back (or finished): nothing recorded in it may reach a later transaction.
    # Savepoints are left alone: services record nothing inside one (see payments._post).
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    message: str = ""


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first row whose link or content does not hold."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for r in rows:
            if r.prev_hash != prev:
                return VerifyResult(
                    False,
                    checked,
                    r.id,
                    f"audit row {r.id}: link to the previous row is broken (a row was deleted or inserted)",
                )
            expect = _row_hash(
                prev, _at_text(r.at), r.actor_login, r.entity, r.entity_id, r.action, r.before, r.after
            )
            if expect != r.hash:
                return VerifyResult(
                    False,
                    checked,
                    r.id,
                    f"audit row {r.id}: content does not match its hash "
                    "(the row was edited outside ClerkDesk)",
                )
            prev = r.hash
            checked += 1
            last_id = r.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return VerifyResult(
            False,
            checked,
            head.last_id,
            "the chain's tip does not match the last row (rows were removed from the end)",
        )
    return VerifyResult(True, checked, None, f"audit chain intact: {checked} rows")
