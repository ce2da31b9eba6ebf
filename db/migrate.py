"""Schema migrations through Alembic, driven from code (no alembic.ini to lose)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from db.errors import MigrationRequired

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
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
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise MigrationRequired(
            f"the database is at schema {current}, newer than this program ({head}); upgrade ClerkDesk"
        )
    raise MigrationRequired(
        f"the database is at schema {current}, this program needs {head}; run `clerkdesk db upgrade`"
    )
