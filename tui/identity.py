"""Who is at the keyboard: the Unix account, an SSH key in server mode, never a claim.

``--as`` is a demo convenience: it works only on a database `clerkdesk demo` built and recorded
outside it (tui/demos.py), and never in server mode.
"""

from __future__ import annotations

import os
import pwd

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db.enums import Role
from db.errors import NotFound, PermissionDenied
from db.models import User
from db.rights import Actor
from scheduling.staff import resolve_actor

# The machine's administrator may run administrative commands before any user exists.
ROOT = Actor(user_id=0, login="root", name="System administrator", role=Role.SUPERVISOR)

AS_REFUSED = "--as only works on a demo database built by `clerkdesk demo`; you are who you logged in as"


def unix_login() -> str:
    """The login of the process's real user id (ignores $USER, $LOGNAME, SSH_ORIGINAL_COMMAND)."""
    return pwd.getpwuid(os.getuid()).pw_name


def server_admin() -> Actor:
    """The service account itself, running administrative commands on the machine."""
    return Actor(user_id=0, login=unix_login(), name="Server administrator", role=Role.SUPERVISOR)


def identify(
    session: Session, as_login: str | None, *, allow_root: bool = False, demo: bool = False
) -> Actor:
    """Resolve the acting user. ``demo`` says the database is a recorded demo (``--as`` allowed)."""
    if as_login:
        if not demo:
            raise PermissionDenied(AS_REFUSED)
        return resolve_actor(session, as_login)
    login = unix_login()
    if allow_root and os.getuid() == 0:
        try:
            return resolve_actor(session, login)
        except Exception:
            return ROOT
    return resolve_actor(session, login)


def key_actor(session: Session, user_id: int, login: str) -> Actor:
    """The user an SSH key was issued to: the same id and login, and still active."""
    user = session.get(User, user_id)
    if user is None or user.login != login:
        other = session.scalar(sa.select(User.id).where(User.login == login))
        if other is None:
            raise NotFound(f"{login!r} is not a ClerkDesk user; ask a supervisor to add you")
        raise PermissionDenied(
            f"this key was issued to user {user_id} ({login}), which this database does not have; "
            "ask the administrator to add the key again"
        )
    return resolve_actor(session, login)
