"""Who is at the keyboard: the Unix account, never a command-line claim (except on a demo)."""

from __future__ import annotations

import os
import pwd

from sqlalchemy.orm import Session

from db.errors import PermissionDenied
from db.models import Role
from db.rights import Actor
from db.settings import is_demo
from scheduling.staff import resolve_actor

# The machine's administrator may run administrative commands before any user exists.
ROOT = Actor(user_id=0, login="root", name="System administrator", role=Role.SUPERVISOR)


def unix_login() -> str:
    """The login of the process's real user id (ignores $USER, $LOGNAME, SSH_ORIGINAL_COMMAND)."""
    return pwd.getpwuid(os.getuid()).pw_name


def identify(session: Session, as_login: str | None, *, allow_root: bool = False) -> Actor:
    """Resolve the acting user. ``--as`` works only on a demo database."""
    if as_login:
        if not is_demo(session):
            raise PermissionDenied("--as only works on a demo database; you are who you logged in as")
        return resolve_actor(session, as_login)
    login = unix_login()
    if allow_root and os.getuid() == 0:
        try:
            return resolve_actor(session, login)
        except Exception:
            return ROOT
    return resolve_actor(session, login)
