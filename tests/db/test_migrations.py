"""Migrations: Alembic takes an empty database to head, the program refuses a database
whose schema is not its own, and the models and the migration describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result

from db.base import Base
from db.engine import Database, make_engine
from db.errors import MigrationRequired
from db.migrate import check_current, current_revision, head_revision, upgrade
from db.models import Team
from tests.db.helpers import empty_database
from tui.cli import main


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, *args])


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    with empty_database(tmp_path) as url:
        yield url  # type: ignore[misc]


def test_upgrade_from_empty_to_head(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        tables = set(sa.inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        check_current(engine)  # no complaint
        upgrade(engine)  # again: a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_keeps_existing_data(db: Database) -> None:
    db.write(lambda s: s.add(Team(name="Keep me")))
    upgrade(db.engine)
    assert db.read(lambda s: list(s.scalars(sa.select(Team.name)))) == ["Keep me"]


def test_check_current_refuses_an_empty_database(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with pytest.raises(MigrationRequired) as info:
            check_current(engine)
    finally:
        engine.dispose()
    assert "is empty" in str(info.value)
    assert "run `clerkdesk db upgrade`" in str(info.value)


def test_check_current_refuses_foreign_tables_without_a_version(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE something_else (x integer)")
        with pytest.raises(MigrationRequired, match="has tables but no ClerkDesk schema version"):
            check_current(engine)
    finally:
        engine.dispose()


def test_check_current_refuses_a_newer_schema(db: Database) -> None:
    # A revision this program does not know: the database was upgraded by a newer ClerkDesk.
    db.write(lambda s: s.execute(sa.text("UPDATE alembic_version SET version_num = 'zzzz_newer'")))
    try:
        with pytest.raises(MigrationRequired) as info:
            check_current(db.engine)
    finally:  # the PostgreSQL test database is shared by the next tests
        db.write(
            lambda s: s.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )
        )
    assert "at schema zzzz_newer, newer than this program" in str(info.value)
    assert "upgrade ClerkDesk" in str(info.value)


def test_check_current_names_the_command_for_a_known_older_revision(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With one revision there is no older known one yet: make the program's head a newer one.
    import db.migrate as migrate

    monkeypatch.setattr(migrate, "head_revision", lambda: "9999_future")
    with pytest.raises(MigrationRequired) as info:
        check_current(db.engine)
    assert f"at schema {head_revision()}" in str(info.value)
    assert "needs 9999_future; run `clerkdesk db upgrade`" in str(info.value)


# --------------------------------------------------------------------------- the commands


def test_db_current_and_upgrade_commands(empty_url: str) -> None:
    head = head_revision()
    before = run(empty_url, "db", "current")
    assert before.exit_code == 1
    assert f"(empty) (program needs {head}): needs `clerkdesk db upgrade`" in before.output

    up = run(empty_url, "db", "upgrade")
    assert up.exit_code == 0, up.output
    assert f"database upgraded (empty) -> {head}" in up.output

    now = run(empty_url, "db", "current")
    assert now.exit_code == 0
    assert f"{head} (program needs {head}): up to date" in now.output

    again = run(empty_url, "db", "upgrade")
    assert again.exit_code == 0
    assert f"database already at {head}" in again.output


def test_commands_refuse_a_database_that_needs_migrating(empty_url: str) -> None:
    result = run(empty_url, "user", "list")
    assert result.exit_code == 1
    assert "run `clerkdesk db upgrade`" in result.output
    assert "Traceback" not in result.output
    # and nothing was created behind the user's back
    engine = make_engine(empty_url)
    try:
        assert current_revision(engine) is None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- models == migration


def test_models_and_migration_agree(db: Database) -> None:
    """Autogenerate finds nothing to do: the migration creates exactly what the models declare."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
