"""Rights are live: the acting user is re-read at the start of every write transaction.

A session opened this morning must not keep a supervisor's rights after a demotion, nor any
rights after a deactivation. The check is one primary-key read of two columns, inside the
write transaction (on SQLite after BEGIN IMMEDIATE), so what it sees cannot change before the
write commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.errors import PermissionDenied
from db.models import User
from db.rights import Actor

_USERS = User.__table__
# A Core statement on the session's connection: about 5x cheaper than the ORM select of the same
# two columns (measured on the demo office: docs/benchmarks.md), and it runs on every write.
_ROW = sa.select(_USERS.c.active, _USERS.c.role).where(_USERS.c.id == sa.bindparam("id"))


class RightsChanged(PermissionDenied):
    """The acting user was deactivated or given another role since the session began."""


def check_actor(session: Session, actor: Actor) -> None:
    """Refuse if ``actor`` is no longer active with the role the session started with.

    User id 0 is the machine's administrator (root or the service account), not a row.
    """
    if actor.user_id == 0:
        return
    row = session.connection().execute(_ROW, {"id": actor.user_id}).one_or_none()
    if row is None or not row.active:
        raise RightsChanged(f"{actor.login} has been deactivated; ClerkDesk closes")
    if row.role != actor.role:
        raise RightsChanged(
            f"{actor.login} is now a {row.role.value}, no longer a {actor.role.value}; "
            "ClerkDesk closes, open it again"
        )
