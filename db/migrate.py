"""Schema migrations through Alembic, driven from code (no alembic.ini to lose).

Only ``upgrade`` needs Alembic. The check every start makes (``check_current``) reads the
``alembic_version`` table with one SQL query and finds the head by reading the ``revision`` /
``down_revision`` lines of the files in migrations/versions, so a start never imports Alembic
(0.13 s and 50 modules). tests/db/test_migrations.py checks both agree with Alembic's answers.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.errors import MigrationRequired

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps

_REVISION = re.compile(r"^revision(?:\s*:\s*[\w\[\] |]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[\w\[\] |,]+)?\s*=\s*(.+)$", re.M)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def known_revisions() -> tuple[frozenset[str], str]:
    """Every revision id in migrations/versions, and the head (the one no other revises)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = _REVISION.search(text)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        down = _DOWN.search(text)
        if down is not None:  # None, "0001" or ("0002", "0003") for a merge
            revised.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - revised
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have exactly one head, found {sorted(heads)}")
    return frozenset(revisions), heads.pop()


def head_revision() -> str:
    return known_revisions()[1]


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no version table or no row), by plain SQL."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:  # branches: Alembic would refuse too
        raise MigrationRequired(f"the database has several schema heads ({', '.join(sorted(rows))})")
    return rows[0] if rows else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.execution_options(clerkdesk_begin="IMMEDIATE").begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not this program's."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        has_tables = bool(sa.inspect(engine).get_table_names())
        what = "has tables but no ClerkDesk schema version" if has_tables else "is empty"
        raise MigrationRequired(f"the database {what}; run `clerkdesk db upgrade` to set it up")
    if current not in known_revisions()[0]:
        raise MigrationRequired(
            f"the database is at schema {current}, newer than this program ({head}); upgrade ClerkDesk"
        )
    raise MigrationRequired(
        f"the database is at schema {current}, this program needs {head}; run `clerkdesk db upgrade`"
    )
