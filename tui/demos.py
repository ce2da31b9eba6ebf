"""Which databases are demos: recorded by `clerkdesk demo` outside any database.

``--as`` and ``CLERKDESK_NOW`` pick who you are and what time it is, so they only work on a
demo. Whether a database is a demo must not be decided by a row in it (anyone who can write the
file could flip it), so the demo command records each demo it builds in a file of the Unix
account that ran it (``demo-databases`` in its data folder, 0600). A SQLite demo must also be a
file of that account that nobody else can write. Server mode refuses both outright.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_data_dir

from db.engine import normalize_url

RECORD = "demo-databases"


def record_path() -> Path:
    return Path(user_data_dir("clerkdesk", appauthor=False)) / RECORD


def demo_key(url: str) -> str:
    """One spelling per database: SQLite by its absolute path, others without the password."""
    u = sa.engine.make_url(normalize_url(url))
    if u.get_backend_name() == "sqlite":
        return f"sqlite:///{Path(u.database or '').resolve()}" if u.database else "sqlite://"
    return u.render_as_string(hide_password=True)


def _sqlite_path(url: str) -> Path | None:
    u = sa.engine.make_url(normalize_url(url))
    if u.get_backend_name() != "sqlite":
        return None
    return Path(u.database).resolve() if u.database and u.database != ":memory:" else Path()


def _private_to_me(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def recorded() -> set[str]:
    path = record_path()
    if not _private_to_me(path):  # missing, someone else's, or writable by others: no demos
        return set()
    try:
        return {ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()}
    except (OSError, UnicodeDecodeError):
        return set()


def record_demo(url: str) -> None:
    """Remember ``url`` as a demo this account built."""
    path = record_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    known = recorded()
    key = demo_key(url)
    if key in known:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (key + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def forget_demo(url: str) -> None:
    path = record_path()
    known = recorded()
    key = demo_key(url)
    if key not in known:
        return
    rest = "".join(f"{k}\n" for k in sorted(known - {key}))
    tmp = path.with_name(f".{RECORD}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(rest)
    os.replace(tmp, path)


def is_recorded_demo(url: str) -> bool:
    """True for a demo this account built (SQLite: still its own file, writable by it alone)."""
    try:
        key = demo_key(url)
    except sa.exc.ArgumentError:
        return False
    if key not in recorded():
        return False
    path = _sqlite_path(url)
    if path is None:
        return True
    if path == Path():  # an in-memory database is nobody's shared office
        return True
    return _private_to_me(path)
