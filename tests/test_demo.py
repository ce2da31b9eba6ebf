"""The demo office (README.md): `clerkdesk demo` builds it through the real services, the same seed
gives the same office, its audit chain verifies, and --as picks the user on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from db import audit, timeutil
from db.base import Base
from db.engine import Database
from db.models import Role, User
from db.timeutil import UTCDateTime
from tests.conftest import FROZEN_NOW, Office
from tests.db.helpers import empty_database
from tui.cli import main
from tui.demo import DEMO_CLERK, DEMO_SUPERVISOR

pytestmark = pytest.mark.slow

SEED = "3"


def build(url: str, seed: str = SEED) -> Result:
    return CliRunner().invoke(main, ["demo", "--no-open", "--db", url, "--seed", seed])


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in id order, without instants (and the audit hashes that cover them)."""

    def read(s: sa.orm.Session) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in Base.metadata.sorted_tables:
            cols = [
                c
                for c in table.columns
                if not isinstance(c.type, UTCDateTime)
                and not (table.name == "audit_log" and "hash" in c.name)
                and not (table.name == "audit_head" and c.name == "last_hash")
            ]
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in s.execute(sa.select(*cols).order_by(*order))]
        return out

    return db.read(read)


@pytest.fixture(scope="module")
def demo_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two demo databases built with the same seed (on the test backend)."""
    tmp = tmp_path_factory.mktemp("demo")
    # A module fixture is set up before the per-test frozen clock: freeze it here, or the two
    # builds get different instants (signatures and audit snapshots hash them).
    timeutil.freeze(FROZEN_NOW)
    try:
        with empty_database(tmp, "demo_a") as a, empty_database(tmp, "demo_b") as b:
            for url in (a, b):
                result = build(url)
                assert result.exit_code == 0, result.output
                assert "demo database ready" in result.output
                assert "building the demo office (seed 3)" in result.output
                assert timeutil.now().isoformat() == "2026-11-16T15:00:00+00:00"  # the demo put it back
            yield a, b
    finally:
        timeutil.freeze(None)


def test_demo_builds_an_office(demo_urls: tuple[str, str]) -> None:
    db = Database(demo_urls[0])
    try:
        users = db.read(lambda s: s.execute(sa.select(User.login, User.role, User.active)).all())
    finally:
        db.dispose()
    supervisors = [u for u in users if u.role == Role.SUPERVISOR and u.active]
    clerks = [u for u in users if u.role == Role.CLERK and u.active]
    assert 1 <= len(supervisors) <= 2
    assert 10 <= len(clerks) <= 15
    assert DEMO_SUPERVISOR in {u.login for u in supervisors}
    assert DEMO_CLERK in {u.login for u in clerks}
    assert any(not u.active for u in users)  # a former clerk keeps their history


def test_same_seed_same_office(demo_urls: tuple[str, str]) -> None:
    a, b = (Database(u) for u in demo_urls)
    try:
        dump_a, dump_b = dump(a), dump(b)
    finally:
        a.dispose()
        b.dispose()
    assert dump_a["users"] and dump_a["audit_log"]
    for table in ("users", "clients", "invoices"):
        assert dump_a[table] == dump_b[table], table
    different = [t for t in dump_a if dump_a[t] != dump_b[t]]
    assert different == []


def test_demo_audit_chain_verifies(demo_urls: tuple[str, str]) -> None:
    db = Database(demo_urls[0])
    try:
        result = db.read(audit.verify)
    finally:
        db.dispose()
    assert result.ok, result.message
    assert result.rows_checked > 15
    cli = CliRunner().invoke(main, ["--db", demo_urls[0], "audit", "verify"])
    assert cli.exit_code == 0, cli.output


def test_demo_is_reused_not_rebuilt(demo_urls: tuple[str, str]) -> None:
    db = Database(demo_urls[0])
    try:
        before = dump(db)
        again = build(demo_urls[0], seed="99")
        assert again.exit_code == 0, again.output
        assert "building" not in again.output
        assert dump(db) == before
    finally:
        db.dispose()


def test_as_works_on_the_demo(demo_urls: tuple[str, str]) -> None:
    url = demo_urls[0]
    clerk = CliRunner().invoke(main, ["--db", url, "--as", DEMO_CLERK, "user", "list", "--format", "json"])
    assert clerk.exit_code == 0, clerk.output
    refused = CliRunner().invoke(
        main, ["--db", url, "--as", DEMO_CLERK, "user", "add", "zz", "--name", "Z", "--role", "clerk"]
    )
    assert refused.exit_code == 1
    assert "may not manage staff" in refused.output


def test_demo_refuses_a_database_that_is_not_a_demo(office: Office, db_url: str) -> None:
    result = build(db_url)
    assert result.exit_code == 2
    assert "is not a demo database" in result.output
