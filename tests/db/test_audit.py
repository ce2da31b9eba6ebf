"""The audit log (docs/architecture.md, "Audit"): one row per change with before/after, hash-chained, and any edit,
deletion or insertion made outside ClerkDesk is found by verify."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db import audit
from db.engine import Database
from db.models import AuditEntry, AuditHead, Role
from scheduling import staff
from tests.conftest import Office
from tui.cli import main


def _rows(db: Database) -> list[AuditEntry]:
    return db.read(lambda s: list(s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))))


def _last(db: Database) -> AuditEntry:
    return _rows(db)[-1]


def _sql(db: Database, sql: str, **params: object) -> None:
    """Plain SQL as an attacker with the database file (or URL) would run it: the append-only
    triggers dropped first (they stop mistakes and casual edits, not the owner of the file)."""
    drop_audit_triggers(db)
    db.write(lambda s: s.execute(sa.text(sql), params))


def drop_audit_triggers(db: Database) -> None:
    if db.is_sqlite:
        stmts = ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]
    else:
        stmts = ["DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"]
    with db.engine.begin() as c:
        for st in stmts:
            c.exec_driver_sql(st)


def restore_audit_triggers(db: Database) -> None:
    if db.is_sqlite:
        with db.engine.begin() as c:
            for verb in ("UPDATE", "DELETE"):
                c.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                )
    else:
        with db.engine.begin() as c:
            c.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
            c.exec_driver_sql(
                "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
            )


@pytest.fixture(autouse=True)
def _triggers_back(db: Database) -> Iterator[None]:
    yield
    restore_audit_triggers(db)  # PostgreSQL: the next test reuses the database


# --------------------------------------------------------------------------- what is written


def test_add_team_and_user_are_audited(office: Office) -> None:
    db = office.db
    n = len(_rows(db))
    db.write(lambda s: staff.add_team(office.sup, s, "Collections"))
    row = _last(db)
    assert (row.entity, row.action, row.actor_login, row.actor_id) == (
        "team",
        "create",
        "sam",
        office.sup.user_id,
    )
    assert row.before == ""
    assert json.loads(row.after) == {"name": "Collections"}

    db.write(
        lambda s: staff.add_user(
            office.sup, s, login="dana", name="Dana Diaz", role=Role.CLERK, team="Collections", skills="other"
        )
    )
    row = _last(db)
    after = json.loads(row.after)
    assert (row.entity, row.action, row.before) == ("user", "create", "")
    assert after["login"] == "dana"
    assert after["role"] == "clerk"
    assert after["skills"] == ["other"]
    assert after["contracted_minutes"] == 2400
    assert after["active"] is True
    assert after["hire_date"] == "2026-11-16"
    assert len(_rows(db)) == n + 2
    assert row.at.isoformat() == "2026-11-16T15:00:00+00:00"  # the program clock


def test_edit_user_records_before_and_after(office: Office) -> None:
    db = office.db
    db.write(lambda s: staff.edit_user(office.sup, s, "cleo", name="Cleo Carter", contracted_minutes=1800))
    row = _last(db)
    before, after = json.loads(row.before), json.loads(row.after)
    assert (row.entity, row.entity_id, row.action) == ("user", str(office.clerk.user_id), "update")
    assert (before["name"], after["name"]) == ("Cleo Clerk", "Cleo Carter")
    assert (before["contracted_minutes"], after["contracted_minutes"]) == (2400, 1800)
    assert {k for k in before if before[k] != after[k]} == {"name", "contracted_minutes"}


def test_an_edit_that_changes_nothing_writes_no_row(office: Office) -> None:
    db = office.db
    n = len(_rows(db))
    db.write(lambda s: staff.edit_user(office.sup, s, "cleo", name="Cleo Clerk"))
    assert len(_rows(db)) == n


def test_deactivate_user_is_audited(office: Office) -> None:
    db = office.db
    db.write(lambda s: staff.deactivate_user(office.sup, s, "cora"))
    row = _last(db)
    before, after = json.loads(row.before), json.loads(row.after)
    assert (row.entity, row.action) == ("user", "deactivate")
    assert (before["active"], after["active"]) == (True, False)
    assert (before["termination_date"], after["termination_date"]) == (None, "2026-11-16")


def test_a_refused_change_writes_no_row(office: Office) -> None:
    db = office.db
    n = len(_rows(db))
    with pytest.raises(Exception):  # noqa: B017 (any refusal; the point is the unchanged log)
        db.write(lambda s: staff.add_user(office.clerk, s, login="eve", name="Eve", role=Role.CLERK))
    with pytest.raises(Exception):  # noqa: B017
        db.write(lambda s: staff.add_user(office.sup, s, login="Bad Login", name="Eve", role=Role.CLERK))
    assert len(_rows(db)) == n


def test_every_office_change_so_far_is_in_the_chain(office: Office) -> None:
    # make_office: 2 teams and 5 users, each through a service.
    rows = _rows(office.db)
    assert [(r.entity, r.action) for r in rows].count(("team", "create")) == 2
    assert [(r.entity, r.action) for r in rows].count(("user", "create")) == 5
    assert rows[0].actor_login == "system"  # the bootstrap
    assert rows[0].actor_id is None
    assert {r.actor_login for r in rows[2:]} == {"sam"}


# --------------------------------------------------------------------------- verify


def test_verify_ok_on_a_clean_chain(office: Office) -> None:
    result = office.db.read(audit.verify)
    assert result.ok
    assert result.rows_checked == 7
    assert result.first_bad_id is None
    assert result.message == "audit chain intact: 7 rows"


def test_verify_ok_on_an_empty_log(db: Database) -> None:
    result = db.read(audit.verify)
    assert (result.ok, result.rows_checked) == (True, 0)


def test_verify_walks_in_batches(office: Office) -> None:
    result = office.db.read(lambda s: audit.verify(s, batch=2))
    assert (result.ok, result.rows_checked) == (True, 7)


@pytest.mark.parametrize(
    "change",
    [
        "after = replace(after, 'Cleo Clerk', 'Cleo Crook')",
        "actor_login = 'pat'",
        "action = 'delete'",
        "entity_id = '999'",
        "before = '{}'",
    ],
)
def test_an_update_made_with_plain_sql_is_detected(office: Office, change: str) -> None:
    db = office.db
    target = next(r for r in _rows(db) if "Cleo Clerk" in r.after)
    _sql(db, f"UPDATE audit_log SET {change} WHERE id = :id", id=target.id)
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == target.id
    assert f"audit row {target.id}" in result.message
    assert "edited outside ClerkDesk" in result.message
    assert result.rows_checked == target.id - 1


def test_an_update_of_the_timestamp_is_detected(office: Office) -> None:
    db = office.db
    target = _rows(db)[3]
    drop_audit_triggers(db)
    db.write(
        lambda s: s.execute(
            sa.update(AuditEntry).where(AuditEntry.id == target.id).values(at=target.at.add(minutes=-5))
        )
    )
    result = db.read(audit.verify)
    assert (result.ok, result.first_bad_id) == (False, target.id)


def test_an_edit_with_a_recomputed_hash_is_detected_without_the_key(office: Office) -> None:
    """SHA-256 alone can be recomputed by anyone; the HMAC needs the office's key."""
    db = office.db
    rows = _rows(db)
    target = next(r for r in rows if "Cleo Clerk" in r.after)
    assert target.keyed
    forged_after = target.after.replace("Cleo Clerk", "Cleo Crook")
    forged = audit._row_hash(
        target.prev_hash,
        audit._at_text(target.at),
        target.actor_login,
        target.entity,
        target.entity_id,
        target.action,
        target.before,
        forged_after,
    )
    _sql(
        db,
        "UPDATE audit_log SET after = :a, hash = :h WHERE id = :id",
        a=forged_after,
        h=forged,
        id=target.id,
    )
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == target.id
    assert "edited outside ClerkDesk" in result.message


def test_the_actor_id_is_inside_the_hash(office: Office) -> None:
    db = office.db
    target = next(r for r in _rows(db) if r.actor_id == office.sup.user_id)
    _sql(db, "UPDATE audit_log SET actor_id = :a WHERE id = :id", a=office.clerk.user_id, id=target.id)
    result = db.read(audit.verify)
    assert (result.ok, result.first_bad_id) == (False, target.id)


def test_a_delete_in_the_middle_is_detected(office: Office) -> None:
    db = office.db
    rows = _rows(db)
    _sql(db, "DELETE FROM audit_log WHERE id = :id", id=rows[3].id)
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == rows[4].id
    assert f"audit row {rows[4].id}" in result.message
    assert "deleted or inserted" in result.message


def test_a_delete_of_the_first_row_is_detected(office: Office) -> None:
    db = office.db
    rows = _rows(db)
    _sql(db, "DELETE FROM audit_log WHERE id = :id", id=rows[0].id)
    result = db.read(audit.verify)
    assert (result.ok, result.first_bad_id) == (False, rows[1].id)


def test_a_delete_at_the_end_is_detected(office: Office) -> None:
    db = office.db
    rows = _rows(db)
    _sql(db, "DELETE FROM audit_log WHERE id = :id", id=rows[-1].id)
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == rows[-1].id
    assert result.rows_checked == len(rows) - 1
    assert "rows were removed from the end" in result.message


def test_deleting_everything_is_detected(office: Office) -> None:
    _sql(office.db, "DELETE FROM audit_log")
    result = office.db.read(audit.verify)
    assert not result.ok
    assert result.rows_checked == 0


def _insert_raw(db: Database, last: AuditEntry, hash_: str) -> None:
    """An INSERT straight into the table, bypassing audit.record and the head row."""
    values = {
        "at": last.at,
        "actor_login": "sam",
        "entity": "user",
        "entity_id": "1",
        "action": "update",
        "before": "",
        "after": "{}",
        "prev_hash": last.hash,
        "hash": hash_,
        "keyed": False,  # what a pre-0004 row looks like
    }
    drop_audit_triggers(db)
    db.write(lambda s: s.execute(sa.insert(AuditEntry.__table__).values(**values)))


def test_an_insert_of_a_made_up_row_is_detected(office: Office) -> None:
    db = office.db
    last = _last(db)
    _insert_raw(db, last, "f" * 64)
    new_id = _last(db).id
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == new_id
    assert f"audit row {new_id}" in result.message


def test_an_unkeyed_row_after_keyed_rows_is_detected(office: Office) -> None:
    db = office.db
    last = _last(db)
    forged = audit._row_hash(last.hash, audit._at_text(last.at), "sam", "user", "1", "update", "", "{}")
    _insert_raw(db, last, forged)  # keyed defaults to false: the pre-0004 formula, which needs no key
    result = db.read(audit.verify)
    assert not result.ok
    assert result.first_bad_id == last.id + 1
    assert "unkeyed row after keyed ones" in result.message


def test_an_insert_with_a_correct_hash_is_still_detected_by_the_head(office: Office) -> None:
    """Even a row made with the key (an insider) is found: the head row knows the real end."""
    db = office.db
    last = _last(db)
    key = audit.load_key(db.engine.url)
    at = audit._at_text(last.at)
    forged = audit._keyed_hash(key, last.hash, at, 1, "sam", "user", "1", "update", "", "{}")
    drop_audit_triggers(db)
    values = {
        "at": last.at, "actor_id": 1, "actor_login": "sam", "entity": "user", "entity_id": "1",
        "action": "update", "before": "", "after": "{}", "prev_hash": last.hash, "hash": forged,
        "keyed": True,
    }  # fmt: skip
    db.write(lambda s: s.execute(sa.insert(AuditEntry.__table__).values(**values)))
    result = db.read(audit.verify)
    assert not result.ok
    assert result.rows_checked == 8  # the forged row itself links up ...
    assert "tip does not match" in result.message  # ... but the head knows the real end


def test_a_trimmed_tail_with_the_head_rewritten_is_detected_by_the_checkpoint(office: Office) -> None:
    db = office.db
    rows = _rows(db)
    keep = rows[-3]
    _sql(db, "DELETE FROM audit_log WHERE id > :id", id=keep.id)
    _sql(db, "UPDATE audit_head SET last_id = :i, last_hash = :h", i=keep.id, h=keep.hash)
    result = db.read(audit.verify)
    assert not result.ok
    assert result.rows_checked == len(rows) - 2
    assert result.first_bad_id == rows[-1].id
    assert "recorded in the signed checkpoint, is missing" in result.message
    assert "cut off or rewritten" in result.message


def test_the_checkpoint_follows_every_commit_and_is_signed(office: Office) -> None:
    db = office.db
    db.write(lambda s: staff.edit_user(office.sup, s, "carl", name="Carl Again"))
    last = _last(db)
    assert audit.read_checkpoint(db.engine.url) == (last.id, last.hash)
    path = audit.checkpoint_path(db.engine.url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    data["last_id"] = last.id - 2  # moved back by hand, without the key
    path.write_text(json.dumps(data))
    result = db.read(audit.verify)
    assert not result.ok
    assert "bad signature" in result.message


def test_a_removed_checkpoint_is_reported(office: Office) -> None:
    audit.checkpoint_path(office.db.engine.url).unlink()
    result = office.db.read(audit.verify)
    assert not result.ok
    assert "no audit checkpoint" in result.message


def test_an_empty_log_beside_business_rows_is_suspicious(office: Office) -> None:
    db = office.db
    _sql(db, "DELETE FROM audit_log")
    _sql(db, "DELETE FROM audit_head")
    audit.checkpoint_path(db.engine.url).unlink()
    result = db.read(audit.verify)
    assert not result.ok
    assert result.rows_checked == 0
    assert "the audit log is empty but the database holds 7 users, teams" in result.message


def test_the_key_file_is_made_once_and_readable_only_by_its_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit.KEY_ENV)
    url = sa.engine.make_url(f"sqlite:///{tmp_path / 'office.db'}")
    assert audit.key_path(url) == tmp_path / "audit.key"
    key = audit.load_key(url)
    assert len(key) == 32
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600
    audit._keys.clear()
    assert audit.load_key(url) == key  # read back, never replaced


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_log SET action = 'x' WHERE id = 1", "DELETE FROM audit_log WHERE id = 1"],
    ids=["update", "delete"],
)
def test_the_database_refuses_updates_and_deletes_of_the_log(office: Office, sql: str) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        office.db.write(lambda s: s.execute(sa.text(sql)))
    assert office.db.read(audit.verify).ok


# --------------------------------------------------------------------------- reconciliation


def test_reconcile_passes_on_an_office_built_through_services(office: Office) -> None:
    result = office.db.read(audit.reconcile)
    assert result.ok, result.message
    assert result.message == (
        "reconciled with the log: 0 invoices, 0 payments, 0 timecard signatures, 5 users"
    )


def test_a_role_change_by_plain_sql_is_detected(office: Office, db_url: str) -> None:
    db = office.db
    _sql(db, "UPDATE users SET role = 'supervisor' WHERE login = 'cleo'")
    result = db.read(audit.reconcile)
    assert not result.ok
    assert "user cleo: role is 'supervisor' but the audit log says 'clerk'" in result.message
    out = CliRunner().invoke(main, ["--db", db_url, "audit", "verify"])
    assert out.exit_code == 1
    assert "audit chain intact: 7 rows" in out.output
    assert "reconciliation failed" in out.output


def test_a_reactivated_user_by_plain_sql_is_detected(office: Office) -> None:
    db = office.db
    db.write(lambda s: staff.deactivate_user(office.sup, s, "cora"))
    _sql(db, "UPDATE users SET active = :t WHERE login = 'cora'", t=True)
    result = db.read(audit.reconcile)
    assert "user cora: active is True but the audit log says False" in result.message


def test_the_chain_continues_after_more_changes(office: Office) -> None:
    db = office.db
    for n in range(3):
        db.write(lambda s, n=n: staff.edit_user(office.sup, s, "carl", name=f"Carl {n}"))
    result = db.read(audit.verify)
    assert (result.ok, result.rows_checked) == (True, 10)
    head = db.read(lambda s: s.get(AuditHead, 1))
    last = _last(db)
    assert (head.last_id, head.last_hash) == (last.id, last.hash)


# --------------------------------------------------------------------------- the command


def test_audit_verify_command(office: Office, db_url: str) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["--db", db_url, "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit chain intact: 7 rows" in ok.output
    target = _rows(office.db)[4]
    _sql(office.db, "UPDATE audit_log SET actor_login = 'x' WHERE id = :id", id=target.id)
    bad = runner.invoke(main, ["--db", db_url, "audit", "verify"])
    assert bad.exit_code == 1
    assert f"audit row {target.id}" in bad.output


# --------------------------------------------------------------------------- lock order (issue 11 §5)


def test_audit_rows_are_written_at_commit_with_the_head_locked_last(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared head row is locked after every business row: record() only queues."""
    db = office.db
    order: list[str] = []
    real_lock = audit._lock_head

    def spy(s: sa.orm.Session) -> AuditHead:
        order.append("head")
        return real_lock(s)

    monkeypatch.setattr(audit, "_lock_head", spy)

    def go(s: sa.orm.Session) -> None:
        staff.add_team(office.sup, s, "Collections")
        order.append("service done")
        assert audit.pending_count(s) == 1
        staff.add_team(office.sup, s, "Refunds")
        order.append("service done")

    db.write(go)
    assert order == ["service done", "service done", "head"]
    rows = _rows(db)[-2:]
    assert [json.loads(r.after)["name"] for r in rows] == ["Collections", "Refunds"]
    assert db.read(audit.verify).ok


def test_a_rolled_back_transaction_leaves_no_queued_audit_row(office: Office) -> None:
    db = office.db
    n = len(_rows(db))
    with pytest.raises(RuntimeError):
        with db.write_session() as s:
            staff.add_team(office.sup, s, "Gone")
            raise RuntimeError("changed my mind")
    with db.write_session() as s:
        assert audit.pending_count(s) == 0
    assert len(_rows(db)) == n


def test_rows_written_before_0004_still_verify_as_a_prefix(db: Database) -> None:
    """An upgraded office keeps its old plain SHA-256 rows; new rows are keyed after them."""
    import hashlib

    import pendulum

    def old_hash(*parts: str) -> str:  # the pre-0004 formula, written out
        h = hashlib.sha256()
        for p in parts:
            h.update(p.encode("utf-8"))
            h.update(b"\x1f")
        return h.hexdigest()

    at = pendulum.datetime(2026, 1, 5, 14, tz="UTC")
    prev = audit.GENESIS
    rows = []
    for i in range(2):
        after = json.dumps({"name": f"Old {i}"})
        h = old_hash(prev, audit._at_text(at), "system", "team", str(i + 1), "create", "", after)
        rows.append({"at": at, "actor_id": None, "actor_login": "system", "entity": "team",
                     "entity_id": str(i + 1), "action": "create", "before": "", "after": after,
                     "prev_hash": prev, "hash": h, "keyed": False})  # fmt: skip
        prev = h

    def seed(s: sa.orm.Session) -> None:
        s.execute(sa.insert(AuditEntry.__table__), rows)
        s.add(AuditHead(id=1, last_id=2, last_hash=prev))

    db.write(seed)
    from db.rights import SYSTEM

    db.write(lambda s: staff.add_team(SYSTEM, s, "New"))
    result = db.read(audit.verify)
    assert (result.ok, result.rows_checked) == (True, 3), result.message
    assert [r.keyed for r in _rows(db)] == [False, False, True]


def test_a_key_readable_by_other_accounts_fails_verify(office: Office) -> None:
    path = audit.key_path(office.db.engine.url)
    path.chmod(0o644)
    try:
        result = office.db.read(audit.verify)
    finally:
        path.chmod(0o600)
    assert not result.ok
    assert "is readable by other accounts (mode 644)" in result.message
