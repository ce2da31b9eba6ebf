"""Engine and sessions: SQLite by default, PostgreSQL (psycopg 3) by URL, same code.

SQLite set-up (SPEC §5, measured): WAL, synchronous=FULL, foreign keys, a 15 s busy timeout,
pysqlite with ``isolation_level=None`` so SQLAlchemy's own deferred BEGIN is off, and an
explicit ``BEGIN IMMEDIATE`` for every writing transaction (deferred BEGIN loses updates or
fails with "database is locked" once several processes write). Reads use a deferred BEGIN.

Every user action is one short transaction: ``Database.write(fn)`` / ``Database.read(fn)``
run ``fn(session)`` and commit (or roll back) before returning. Nothing holds a transaction
open while a screen waits for a person.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

BUSY_TIMEOUT_MS = 15_000


def default_url() -> str:
    env = os.environ.get("CLERKDESK_DB")
    if env:
        return env
    folder = Path(user_data_dir("clerkdesk", appauthor=False))
    return f"sqlite:///{folder / 'clerkdesk.db'}"


def demo_url() -> str:
    folder = Path(user_data_dir("clerkdesk", appauthor=False))
    return f"sqlite:///{folder / 'demo.db'}"


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default driver is psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            folder = Path(path).parent
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder is private
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={
                "isolation_level": None,
                "timeout": BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
            },
        )
        _setup_sqlite(engine)
        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("clerkdesk_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_private(url: str) -> None:
    """A SQLite database is its owner's alone: the file and its WAL files 0600.

    One account owns the data (server mode, docs/deploy.md); a group-writable file would let
    anyone in the group edit rights and history with sqlite3. Files of another account are
    left alone (nothing to do, and not ours to change).
    """
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return
    path = sa.engine.make_url(url).database
    if not path or path == ":memory:":
        return
    for p in (Path(path), Path(path + "-wal"), Path(path + "-shm")):
        try:
            if p.exists() and p.stat().st_uid == os.getuid():
                p.chmod(stat.S_IRUSR | stat.S_IWUSR)
        except PermissionError:
            pass


class Database:
    """The program's handle on the database: short read and write transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, echo=echo)
        # Same pool; the option tells the SQLite "begin" hook to take the write lock at once.
        self._write_sessions = sessionmaker(
            self.engine.execution_options(clerkdesk_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A writing transaction: BEGIN IMMEDIATE on SQLite; commit on success, else roll back."""
        with self._write_sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        # Closing ends the (deferred, read-only) transaction without expiring loaded objects,
        # so a caller may still read what it fetched.
        with self._read_sessions() as session:
            yield session

    def write(self, fn: Callable[[Session], T]) -> T:
        with self.write_session() as s:
            return fn(s)

    def read(self, fn: Callable[[Session], T]) -> T:
        with self.read_session() as s:
            return fn(s)

    def dispose(self) -> None:
        self.engine.dispose()
