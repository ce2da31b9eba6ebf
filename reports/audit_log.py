"""The audit log, newest first, paged by id (never OFFSET) and filterable."""

from __future__ import annotations

from dataclasses import dataclass

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.models import AuditEntry
from db.rights import Action, Actor, require


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: pendulum.DateTime
    actor_login: str
    entity: str
    entity_id: str
    action: str
    before: str
    after: str


def audit_page(
    actor: Actor, session: Session, *, before_id: int | None, limit: int, text: str = ""
) -> tuple[list[AuditRow], int | None]:
    """Rows with id < before_id (newest first). ``text`` matches login, entity or action prefix,
    ``entity:id`` for one record, or ``#id``. Returns (rows, next before_id or None)."""
    require(actor, Action.AUDIT_VIEW)
    limit = max(1, min(limit, 500))
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    t = text.strip()
    if t.startswith("#") and t[1:].isdigit():
        stmt = stmt.where(AuditEntry.id <= int(t[1:]))
    elif ":" in t:
        entity, _, ident = t.partition(":")
        stmt = stmt.where(AuditEntry.entity == entity.strip())
        if ident.strip():
            stmt = stmt.where(AuditEntry.entity_id == ident.strip())
    elif t:
        like = t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                AuditEntry.actor_login.like(like, escape="\\"),
                AuditEntry.entity.like(like, escape="\\"),
                AuditEntry.action.like(like, escape="\\"),
            )
        )
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    out = [
        AuditRow(r.id, r.at, r.actor_login, r.entity, r.entity_id, r.action, r.before, r.after) for r in rows
    ]
    return out, (rows[-1].id if more and rows else None)
