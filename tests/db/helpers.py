"""Helpers shared by the foundation tests: throwaway empty databases on either backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from db.engine import Database, normalize_url
from db.money import Money
from db.timeutil import UTCDateTime

PG_URL = os.environ.get("CLERKDESK_TEST_PG_URL")


@contextmanager
def empty_database(tmp_path: Path, name: str = "empty") -> Iterator[str]:
    """A URL of a database with no tables at all (SQLite file, or a new PostgreSQL database)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    admin = sa.create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    dbname = f"clerkdesk_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
    try:
        url = sa.engine.make_url(normalize_url(PG_URL)).set(database=dbname)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.dispose()


# A scratch table outside the application's metadata, to exercise column types on their own.
SCRATCH = sa.MetaData()
scratch = sa.Table(
    "zz_scratch_values",
    SCRATCH,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", Money),
    sa.Column("at", UTCDateTime),
)


@contextmanager
def scratch_table(db: Database) -> Iterator[sa.Table]:
    SCRATCH.create_all(db.engine)
    try:
        yield scratch
    finally:
        SCRATCH.drop_all(db.engine)
