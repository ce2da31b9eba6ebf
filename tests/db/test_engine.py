"""The engine (docs/architecture.md, "Database"): SQLite pragmas, BEGIN IMMEDIATE for writers, deferred readers, short
transactions that commit or roll back as a whole, group-writable files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from db.engine import (
    BUSY_TIMEOUT_MS,
    WRITE_ATTEMPTS,
    Database,
    default_url,
    make_private,
    normalize_url,
)
from db.models import Setting, Team
from tests.conftest import backend

sqlite_only = pytest.mark.skipif(backend() != "sqlite", reason="SQLite engine set-up")


def _sqlite_path(db: Database) -> str:
    path = db.engine.url.database
    assert path
    return path


# --------------------------------------------------------------------------- pragmas


@sqlite_only
@pytest.mark.parametrize("kind", ["read", "write"])
def test_sqlite_pragmas(db: Database, kind: str) -> None:
    def pragmas(s: sa.orm.Session) -> dict[str, Any]:
        return {
            name: s.execute(sa.text(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }

    got = db.read(pragmas) if kind == "read" else db.write(pragmas)
    assert got == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 15000}
    assert BUSY_TIMEOUT_MS == 15000


@sqlite_only
def test_sqlite_pragmas_on_every_new_connection(db: Database) -> None:
    # Pragmas other than journal_mode are per connection: a pool refill must set them again.
    db.engine.dispose()
    with db.engine.connect() as c1, db.engine.connect() as c2:
        for c in (c1, c2):
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert c.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 15000


@sqlite_only
def test_sqlite_driver_autobegin_is_off(db: Database) -> None:
    # isolation_level=None: pysqlite never issues its own deferred BEGIN behind our back.
    with db.engine.connect() as c:
        assert c.connection.dbapi_connection.isolation_level is None


# --------------------------------------------------------------------------- BEGIN modes


def _statements(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.strip().upper())

    return seen


@sqlite_only
def test_write_session_begins_immediate_and_read_session_deferred(db: Database) -> None:
    seen = _statements(db)
    db.write(lambda s: s.execute(sa.text("SELECT 1")))
    assert seen[0] == "BEGIN IMMEDIATE"
    assert "BEGIN DEFERRED" not in seen
    seen.clear()
    db.read(lambda s: s.execute(sa.text("SELECT 1")))
    assert seen[0] == "BEGIN DEFERRED"
    assert "BEGIN IMMEDIATE" not in seen


def _other_process_write(path: str, timeout: float) -> subprocess.Popen[str]:
    """A second process that takes the write lock and writes one row, printing what happened."""
    code = textwrap.dedent(
        f"""
        import sqlite3, sys, time
        con = sqlite3.connect({path!r}, timeout={timeout}, isolation_level=None)
        t0 = time.monotonic()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO teams (name, description) VALUES ('from-other-process', '')")
            con.execute("COMMIT")
            print("wrote", round(time.monotonic() - t0, 3))
        except sqlite3.OperationalError as e:
            print("error", e)
        """
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _teams(db: Database) -> list[str]:
    return db.read(lambda s: list(s.scalars(sa.select(Team.name))))


@sqlite_only
def test_a_held_write_session_locks_out_other_writers(db: Database) -> None:
    path = _sqlite_path(db)
    with db.write_session() as s:
        s.execute(sa.text("SELECT 1"))  # the transaction (and its write lock) starts here
        other = _other_process_write(path, timeout=0.3)
        out, _ = other.communicate(timeout=30)
        s.add(Team(name="mine"))
    assert out.strip() == "error database is locked"
    assert _teams(db) == ["mine"]


@sqlite_only
def test_a_second_writer_waits_for_the_first_then_succeeds(db: Database) -> None:
    path = _sqlite_path(db)
    with db.write_session() as s:
        s.execute(sa.text("SELECT 1"))
        other = _other_process_write(path, timeout=15)
        time.sleep(1.0)
        assert other.poll() is None  # still waiting for our lock
        s.add(Team(name="first"))
    out, _ = other.communicate(timeout=30)
    assert out.startswith("wrote")
    assert float(out.split()[1]) >= 0.5  # it really waited
    assert sorted(_teams(db)) == ["first", "from-other-process"]


@sqlite_only
def test_a_read_session_does_not_block_writers(db: Database) -> None:
    path = _sqlite_path(db)
    with db.read_session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one() == 0
        other = _other_process_write(path, timeout=0.3)
        out, _ = other.communicate(timeout=30)
        assert out.startswith("wrote")
        # A deferred read sees its own snapshot (WAL): the other write is not visible yet.
        assert s.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one() == 0
    assert _teams(db) == ["from-other-process"]


# --------------------------------------------------------------------------- transactions


def test_write_commits_on_success(db: Database) -> None:
    db.write(lambda s: s.add(Setting(key="t.x", value=1)))
    assert db.read(lambda s: s.get(Setting, "t.x").value) == 1


def test_write_rolls_back_everything_on_error(db: Database) -> None:
    def half(s: sa.orm.Session) -> None:
        s.add(Setting(key="t.a", value=1))
        s.flush()  # really sent to the database ...
        raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        db.write(half)
    assert db.read(lambda s: s.get(Setting, "t.a")) is None  # ... and undone


def test_read_session_never_commits(db: Database) -> None:
    def sneak(s: sa.orm.Session) -> None:
        s.add(Setting(key="t.r", value=1))
        s.flush()

    db.read(sneak)
    assert db.read(lambda s: s.get(Setting, "t.r")) is None


def test_write_returns_detached_but_loaded_objects(db: Database) -> None:
    def make(s: sa.orm.Session) -> Team:
        team = Team(name="x")
        s.add(team)
        s.flush()
        return team

    team = db.write(make)
    assert team.name == "x"  # expire_on_commit=False: usable after the transaction


# --------------------------------------------------------------------------- URLs and files


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalize_url(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_default_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLERKDESK_DB", f"sqlite:///{tmp_path}/env.db")
    assert default_url() == f"sqlite:///{tmp_path}/env.db"
    monkeypatch.delenv("CLERKDESK_DB")
    assert default_url().startswith("sqlite:///") and default_url().endswith("clerkdesk.db")


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/new.db"
    d = Database(url)
    d.read(lambda s: s.execute(sa.text("SELECT 1")))
    d.dispose()
    assert (tmp_path / "a" / "b" / "new.db").exists()


def test_make_private(tmp_path: Path) -> None:
    """The database is its owner's alone: file and WAL files 0600, a new folder 0700 (issue 11)."""
    folder = tmp_path / "office"
    d = Database(f"sqlite:///{folder}/office.db")
    d.write(lambda s: s.execute(sa.text("CREATE TABLE t (x int)")))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with d.engine.connect() as c:  # keep the WAL files around while we look
        c.exec_driver_sql("SELECT 1")
        for p in folder.iterdir():
            os.chmod(p, 0o664)
        make_private(f"sqlite:///{folder}/office.db")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    d.dispose()
    assert modes == {
        "office.db": 0o600,
        "office.db-wal": 0o600,
        "office.db-shm": 0o600,
        "office.db.writelock": 0o600,
    }


# --------------------------------------------------------------------------- retry (issue 11 §5)


class _Orig(Exception):
    def __init__(self, text: str, sqlstate: str | None = None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "orig",
    [
        _Orig("deadlock detected", "40P01"),
        _Orig("could not serialize access", "40001"),
        _Orig("database is locked"),
    ],
    ids=["deadlock", "serialization", "sqlite_locked"],
)
def test_write_retries_a_transaction_the_database_aborted(
    db: Database, orig: _Orig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("db.engine.RETRY_BASE_S", 0.0)
    calls: list[int] = []

    def fn(s: sa.orm.Session) -> str:
        calls.append(1)
        s.add(Team(name=f"T{len(calls)}"))
        s.flush()
        if len(calls) < 3:
            raise sa.exc.OperationalError("UPDATE ...", {}, orig)
        return "done"

    assert db.write(fn) == "done"
    assert len(calls) == 3
    # The failed attempts left nothing behind: only the third attempt's row is saved.
    assert db.read(lambda s: list(s.scalars(sa.select(Team.name)))) == ["T3"]


def test_write_gives_up_after_the_bounded_attempts(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("db.engine.RETRY_BASE_S", 0.0)
    calls: list[int] = []

    def fn(s: sa.orm.Session) -> None:
        calls.append(1)
        raise sa.exc.OperationalError("SELECT", {}, _Orig("deadlock detected", "40P01"))

    with pytest.raises(sa.exc.OperationalError):
        db.write(fn)
    assert len(calls) == WRITE_ATTEMPTS


def test_write_does_not_retry_other_database_errors(db: Database) -> None:
    calls: list[int] = []

    def fn(s: sa.orm.Session) -> None:
        calls.append(1)
        s.execute(sa.text("SELECT * FROM no_such_table"))

    with pytest.raises(sa.exc.DBAPIError):
        db.write(fn)
    assert len(calls) == 1


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite writers queue on a file lock")
def test_sqlite_writers_queue_on_a_file_lock_beside_the_database(db: Database) -> None:
    import fcntl

    path = sa.engine.make_url(db.url).database + ".writelock"
    with db.write_session() as s:
        s.add(Team(name="Queue"))
        fd = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # another process's writer would wait here
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released at commit
    finally:
        os.close(fd)


def test_make_private_ignores_postgresql_and_memory() -> None:
    make_private("postgresql://postgres@127.0.0.1/postgres")
    make_private("sqlite://")
    make_private("sqlite:///:memory:")
