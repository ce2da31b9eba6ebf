"""Engine and sessions: SQLite by default, PostgreSQL (psycopg 3) by URL, same code.

SQLite set-up (measured: docs/benchmarks.md, "Concurrent writers"): WAL, synchronous=FULL, foreign keys, a 15 s busy timeout,
pysqlite with ``isolation_level=None`` so SQLAlchemy's own deferred BEGIN is off, and an
explicit ``BEGIN IMMEDIATE`` for every writing transaction (deferred BEGIN loses updates or
fails with "database is locked" once several processes write). Reads use a deferred BEGIN.

Every user action is one short transaction: ``Database.write(fn)`` / ``Database.read(fn)``
run ``fn(session)`` and commit (or roll back) before returning. Nothing holds a transaction
open while a screen waits for a person. ``write`` reruns a transaction the database aborted
(deadlock, serialization failure, SQLite lock timeout) a bounded number of times, so ``fn``
must be a pure function of the session. SQLite writers take turns on a file lock beside the
database before BEGIN IMMEDIATE (``_WriterQueue``). Lock order inside a transaction: the rows a
service locks, in its documented order, then the audit head at commit (``db.audit``).
"""

from __future__ import annotations

import fcntl
import os
import random
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import audit

T = TypeVar("T")

BUSY_TIMEOUT_MS = 15_000
WRITE_ATTEMPTS = 6
RETRY_BASE_S = 0.01

# PostgreSQL deadlock_detected, serialization_failure.
_RETRY_SQLSTATES = {"40P01", "40001"}


def is_retryable(exc: sa.exc.DBAPIError) -> bool:
    """A failure that says "try again", not "this is wrong"."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    text = str(orig).lower()
    return isinstance(exc, sa.exc.OperationalError) and (
        "database is locked" in text or "database is busy" in text
    )


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
    for p in (Path(path), Path(path + "-wal"), Path(path + "-shm"), Path(path + ".writelock")):
        try:
            if p.exists() and p.stat().st_uid == os.getuid():
                p.chmod(stat.S_IRUSR | stat.S_IWUSR)
        except PermissionError:
            pass


class _WriterQueue:
    """SQLite writers wait their turn on an OS file lock before BEGIN IMMEDIATE.

    SQLite's own busy handler makes a waiting writer sleep and poll (up to 100 ms a nap), so under
    load the lock is often free while every waiter sleeps, and an unlucky one can nap past the
    busy timeout ("database is locked"). ``flock`` wakes a waiter as soon as the holder lets go.
    Measured in bench/bench_concurrency.py (docs/benchmarks.md). The lock file sits beside the
    database; a process that cannot open it just relies on the busy timeout.
    """

    def __init__(self, db_path: str) -> None:
        self._path = db_path + ".writelock"
        self._thread_lock = threading.Lock()  # flock is per open file: threads share ours
        self._held = threading.local()
        self._fd: int | None = None

    def _open(self) -> int | None:
        if self._fd is None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                return None
        return self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        if getattr(self._held, "yes", False):
            # A write started inside another one in this thread: it waits on SQLite as before
            # (and fails after the busy timeout); queueing here would wait for ourselves.
            yield
            return
        with self._thread_lock:
            fd = self._open()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.yes = True
            try:
                yield
            finally:
                self._held.yes = False
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Database:
    """The program's handle on the database: short read and write transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, echo=echo)
        path = self.engine.url.database if self.is_sqlite else None
        self._queue = _WriterQueue(path) if path and path != ":memory:" else None
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
        with self._turn(), self._write_sessions() as session:
            session.info[audit.DEFER_CHECKPOINT] = True
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        # The audit checkpoint file is written outside the write lock: it only moves forward.
        audit.write_deferred_checkpoint(session)

    def _turn(self) -> AbstractContextManager[None]:
        return self._queue.turn() if self._queue is not None else nullcontext()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        # Closing ends the (deferred, read-only) transaction without expiring loaded objects,
        # so a caller may still read what it fetched.
        with self._read_sessions() as session:
            yield session

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one writing transaction and commit.

        A transaction the database aborted for a deadlock, a serialization failure or (SQLite) a
        lock that the busy timeout did not win is rolled back and run again, up to
        ``WRITE_ATTEMPTS`` times with jittered backoff. So ``fn`` must be a pure function of the
        session: it may be called more than once and must not change anything outside it.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.write_session() as s:
                    return fn(s)
            except sa.exc.DBAPIError as exc:
                if attempt == WRITE_ATTEMPTS or not is_retryable(exc):
                    raise
            # Full jitter: colliding writers spread out instead of colliding again in step.
            time.sleep(random.uniform(0, RETRY_BASE_S * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def read(self, fn: Callable[[Session], T]) -> T:
        with self.read_session() as s:
            return fn(s)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._queue is not None:
            self._queue.close()
