"""Append-only, hash-chained audit log (SPEC §3.13).

Each row's hash covers its own content and the previous row's hash, so editing, deleting
or inserting a row outside the application breaks the chain at that row. Writers lock the
single ``audit_head`` row first (``FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE
already serialises writers), so two transactions can never fork the chain.
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

import sqlalchemy as sa
from sqlalchemy.orm import Session

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


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: Any,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction."""
    head = _lock_head(session)
    at = now()
    before_s, after_s = canonical(before), canonical(after)
    digest = _row_hash(
        head.last_hash, _at_text(at), actor.login, entity, str(entity_id), action, before_s, after_s
    )
    entry = AuditEntry(
        at=at,
        actor_id=actor.user_id or None,
        actor_login=actor.login,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before_s,
        after=after_s,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(entry)
    session.flush()
    head.last_id = entry.id
    head.last_hash = digest
    return entry


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
