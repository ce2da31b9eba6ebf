"""Payroll export: signed cards only, exact hours, refusal listing unsigned cards, CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from db.engine import Database
from db.errors import ConflictError
from db.models import AuditEntry, Timecard, TimecardStatus
from db.settings import put_setting
from scheduling import payroll, timecards
from scheduling.payroll import NotAllSigned, hours
from tests.conftest import Office, mark_demo
from tests.scheduling.factories_time import week_of_shifts, work
from tests.scheduling.test_timecard_workflow import WEEK, clean_week, sign, submit
from tui.cli import main


def statuses(db: Database) -> dict[int, str]:
    return db.read(lambda s: {c.user_id: c.status.value for c in s.scalars(sa.select(Timecard))})


@pytest.fixture
def period(office: Office) -> Office:
    """cleo: signed, 40 h + 1:55 overtime; carl: signed, 37:53; cora: submitted; pat: shifts only."""
    db, sup = office.db, office.sup
    clean_week(db, office.clerk, sup)
    work(db, office.clerk, "2026-11-14 09:00", "2026-11-14 10:55")  # Saturday, unscheduled → overtime
    week_of_shifts(db, office.clerk2, "2026-11-09", by=sup)
    for d in range(9, 14):
        work(
            db,
            office.clerk2,
            f"2026-11-{d:02d} 08:00",
            f"2026-11-{d:02d} 16:00" if d < 13 else "2026-11-13 13:53",
        )
    clean_week(db, office.clerk3, sup)
    week_of_shifts(db, office.sup2, "2026-11-09", by=sup, days=1)
    for who in (office.clerk, office.clerk2, office.clerk3):
        submit(db, who)
    ids = db.read(lambda s: {c.user_id: c.id for c in s.scalars(sa.select(Timecard))})
    sign(db, sup, ids[office.clerk.user_id])
    sign(db, office.sup2, ids[office.clerk2.user_id])
    return office


def test_hours_are_two_places_half_up() -> None:
    assert [hours(m) for m in (0, 1, 475, 2400, 115, 2273)] == [
        Decimal("0.00"),
        Decimal("0.02"),
        Decimal("7.92"),
        Decimal("40.00"),
        Decimal("1.92"),
        Decimal("37.88"),
    ]


def test_export_refuses_and_lists_the_unsigned_cards(period: Office) -> None:
    db = period.db
    before = statuses(db)
    with pytest.raises(NotAllSigned) as e:
        db.write(lambda s: payroll.export_payroll(period.sup, s, WEEK))
    assert [(c.login, c.status) for c in e.value.cards] == [("cora", "submitted"), ("pat", "open")]
    assert str(e.value) == (
        "2 timecard(s) of 2026-11-09 – 2026-11-15 are not signed: cora (submitted), pat (open); "
        "sign them first or export the signed cards only"
    )
    assert statuses(db) == before
    preview = db.read(lambda s: payroll.payroll_preview(period.sup, s, WEEK))
    assert ([r.login for r in preview.rows], preview.ready) == (["carl", "cleo"], False)


def test_export_signed_only_writes_exact_rows_and_moves_cards_to_exported(period: Office) -> None:
    db = period.db
    result = db.write(lambda s: payroll.export_payroll(period.sup, s, WEEK, signed_only=True))
    assert result.csv_text == (
        "login,name,period_start,period_end,regular_hours,overtime_hours,signed_by,signed_at\n"
        "carl,Carl Clerk,2026-11-09,2026-11-15,37.88,0.00,pat,2026-11-16T10:00:00-05:00\n"
        "cleo,Cleo Clerk,2026-11-09,2026-11-15,40.00,1.92,sam,2026-11-16T10:00:00-05:00\n"
    )
    assert [u.login for u in result.left_out] == ["cora", "pat"]
    assert statuses(db) == {
        period.clerk.user_id: "exported",
        period.clerk2.user_id: "exported",
        period.clerk3.user_id: "submitted",
    }
    exports = db.read(
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(AuditEntry.entity == "timecard", AuditEntry.action == "export")
        )
    )
    assert exports == 2
    with pytest.raises(
        ConflictError,
        match="no signed timecards to export for 2026-11-09 – 2026-11-15; already exported: carl, cleo",
    ):
        db.write(lambda s: payroll.export_payroll(period.sup, s, WEEK, signed_only=True))
    assert db.read(timecards.verify_signatures).ok


def test_export_uses_the_totals_frozen_at_signing(period: Office) -> None:
    # A later settings change does not move a signed card's hours.
    period.db.write(lambda s: put_setting(s, "time.weekly_overtime_minutes", 600))
    result = period.db.write(lambda s: payroll.export_payroll(period.sup, s, WEEK, signed_only=True))
    assert [(r.login, r.regular_hours, r.overtime_hours) for r in result.rows] == [
        ("carl", Decimal("37.88"), Decimal("0.00")),
        ("cleo", Decimal("40.00"), Decimal("1.92")),
    ]


# --------------------------------------------------------------------------- the command line


def demo_db(db: Database) -> None:
    mark_demo(db.url)


def run(db_url: str, *args: str):
    return CliRunner().invoke(main, ["--db", db_url, "--as", "sam", *args])


def test_cli_export_refuses_with_the_list(period: Office, db_url: str) -> None:
    demo_db(period.db)
    r = run(db_url, "payroll", "export", "--period", "2026-11-09", "--format", "csv")
    assert r.exit_code == 1
    assert "not signed: cora (submitted), pat (open)" in r.output
    assert TimecardStatus.EXPORTED.value not in statuses(period.db).values()


def test_cli_export_to_a_file(period: Office, db_url: str, tmp_path: Path) -> None:
    demo_db(period.db)
    out = tmp_path / "payroll.csv"
    r = run(db_url, "payroll", "export", "--period", "2026-11-09", "--signed-only", "--out", str(out))
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert lines[0] == "login,name,period_start,period_end,regular_hours,overtime_hours,signed_by,signed_at"
    assert [ln.split(",")[:6] for ln in lines[1:]] == [
        ["carl", "Carl Clerk", "2026-11-09", "2026-11-15", "37.88", "0.00"],
        ["cleo", "Cleo Clerk", "2026-11-09", "2026-11-15", "40.00", "1.92"],
    ]
    assert "not exported (not signed): cora (submitted), pat (open)" in r.output
    assert not list(tmp_path.glob(".*partial"))


def test_cli_export_to_stdout(period: Office, db_url: str) -> None:
    demo_db(period.db)
    r = run(db_url, "payroll", "export", "--period", "2026-11-09", "--signed-only")
    assert r.exit_code == 0, r.output
    assert "cleo,Cleo Clerk,2026-11-09,2026-11-15,40.00,1.92,sam," in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-11-10"], "2026-11-10 is not the first day of a pay period"),
        (["--period", "9 Nov"], "Invalid value for '--period'"),
        (["--period", "2026-11-09", "--format", "xlsx"], "Invalid value for '--format'"),
        (["--period", "2026-11-09", "--signed-only", "--out", "EXISTS"], "exists; choose a new file name"),
        (["--period", "2026-11-09", "--signed-only", "--out", "/nonexistent/dir/p.csv"], "does not exist"),
    ],
)
def test_cli_bad_input_exits_2_and_changes_nothing(
    period: Office, db_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    demo_db(period.db)
    existing = tmp_path / "old.csv"
    existing.write_text("keep me")
    args = [str(existing) if a == "EXISTS" else a for a in args]
    before = statuses(period.db)
    r = run(db_url, "payroll", "export", *args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert statuses(period.db) == before
    assert existing.read_text() == "keep me"


def test_cli_export_refused_for_a_clerk(period: Office, db_url: str) -> None:
    demo_db(period.db)
    r = CliRunner().invoke(
        main, ["--db", db_url, "--as", "cleo", "payroll", "export", "--period", "2026-11-09", "--signed-only"]
    )
    assert r.exit_code == 1
    assert "may not export payroll" in r.output
    assert "exported" not in statuses(period.db).values()


def test_cli_timecard_list(period: Office, db_url: str) -> None:
    demo_db(period.db)
    r = run(db_url, "timecard", "list", "--period", "2026-11-09")
    assert r.exit_code == 0, r.output
    lines = {ln.split()[0]: ln for ln in r.output.splitlines()[2:] if ln.strip()}
    assert (
        "signed" in lines["cleo"]
        and "41:55" in lines["cleo"]
        and "1:55" in lines["cleo"]
        and "sam" in lines["cleo"]
    )
    assert "worked unscheduled on 1 day(s)" in lines["cleo"]
    assert "left early 5× (277 min)" in lines["carl"]  # shifts are 08:00–16:30
    assert "open" in lines["pat"] and "absent 1×" in lines["pat"]
    assert r.output.rstrip().endswith("4 timecard(s)")
    r = run(db_url, "timecard", "list", "--period", "2026-11-09", "--status", "submitted")
    assert r.exit_code == 0 and "cora" in r.output and "cleo" not in r.output
    assert run(db_url, "timecard", "list", "--period", "2026-11-09", "--status", "lost").exit_code == 2
    assert run(db_url, "timecard", "list", "--period", "2026-11-11").exit_code == 2


def test_help_for_every_time_command(db_url: str) -> None:
    for args in (
        ["clock", "--help"],
        ["clock", "in", "--help"],
        ["timecard", "list", "--help"],
        ["payroll", "export", "--help"],
        ["attendance", "record", "--help"],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0 and "Usage:" in r.output, args


def test_period_start_helper_is_used_by_the_cli(period: Office) -> None:
    # sanity for the fixture's figures that the CLI tests rely on
    rows = period.db.read(lambda s: timecards.list_timecards(period.sup, s, dt.date(2026, 11, 9)))
    assert {r.login: (r.regular_minutes, r.overtime_minutes) for r in rows}["carl"] == (2273, 0)
