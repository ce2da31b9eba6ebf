"""Hostile command lines (issue 11 §6): one line on stderr, exit 1 or 2, never a traceback,
and nothing saved."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from db.models import Payment
from tests.billing.factories_payments import count_rows, make_client, make_invoice, make_payer
from tests.conftest import Office, mark_demo
from tui.cli import main


@pytest.fixture
def url(office: Office, db_url: str) -> str:
    by = office.sup.user_id

    mark_demo(office.db.url)  # so --as works

    def go(s: Session) -> None:
        c = make_client(s, "A-1001")
        make_payer(s, "Acme Health")
        make_invoice(
            s, client_id=c, created_by=by, total="100.00", issue_date=dt.date(2026, 8, 1), number="S-1"
        )

    office.db.write(go)
    return db_url


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", url, *args])


def assert_one_line_error(r: Result, codes: tuple[int, ...] = (1, 2)) -> None:
    assert r.exit_code in codes, (r.exit_code, r.output, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    if r.exit_code == 2 and lines and lines[0].startswith("Usage: "):
        lines = lines[-1:]  # click's own usage error: usage, hint, then the one "Error:" line
    assert len(lines) == 1, r.output
    assert lines[0].startswith(("clerkdesk: ", "Error: ", "Usage: ")), lines[0]


PAY = ["payment", "post", "--client", "A-1001", "--method", "check", "--key", "k1"]


@pytest.mark.parametrize("amount", ["1e309", "1e30", "١٢٣", "１２３", "100000000000.01", "nan"])
def test_payment_amounts_out_of_range_or_foreign_digits(url: str, office: Office, amount: str) -> None:
    r = run(url, "--as", "cleo", *PAY, "--amount", amount)
    assert_one_line_error(r, (2,))
    assert count_rows(office.db, Payment) == 0


def test_import_codes_with_a_fee_of_1e30(url: str, tmp_path: Path) -> None:
    f = tmp_path / "codes.csv"
    f.write_text("code,description,fee\nX1,Big,1e30\nX2,Arabic,١٢٣\n", encoding="utf-8")
    r = run(url, "--as", "sam", "import", "codes", str(f))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 2
    assert "Traceback" not in r.output


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_extreme_dates(url: str, office: Office, day: str) -> None:
    for args in (
        [*PAY, "--amount", "5.00", "--date", day],
        ["payroll", "export", "--period", day],
        ["attendance", "check", "--date", day],
        ["schedule", "export", "--from", day, "--to", day],
    ):
        r = run(url, "--as", "sam", *args)
        if args[0] == "payment":
            assert_one_line_error(r, (2,))  # before the office opened, or in the future
        else:
            assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
            assert r.exit_code in (0, 1, 2) and "Traceback" not in r.output
    assert count_rows(office.db, Payment) == 0


def test_a_payment_dated_before_the_office_opened(url: str, office: Office) -> None:
    r = run(url, "--as", "cleo", *PAY, "--amount", "5.00", "--date", "1999-12-31")
    assert r.exit_code == 2
    assert r.output == "clerkdesk: date: is before the office opened (2000-01-01)\n"
    assert count_rows(office.db, Payment) == 0


def test_a_twenty_digit_request_id(url: str) -> None:
    for verb in ("approve", "decline"):
        r = run(
            url,
            "--as",
            "sam",
            "timeoff",
            verb,
            "12345678901234567890",
            *(["--reason", "x"] if verb == "decline" else []),
        )
        assert_one_line_error(r)


def test_user_add_with_hours_nan(url: str) -> None:
    r = run(url, "--as", "sam", "user", "add", "zed", "--name", "Zed", "--role", "clerk", "--hours", "nan")
    assert_one_line_error(r, (2,))
    assert r.output == "clerkdesk: --hours must be a number from 0 to 80\n"


def test_db_naming_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("this is not a database\n" * 100)
    r = run(f"sqlite:///{f}", "user", "list")
    assert_one_line_error(r)
    assert "not a database" in r.output


def test_demo_db_bogus(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["demo", "--db", "bogus", "--no-open"])
    assert_one_line_error(r)


@pytest.mark.parametrize(
    "where",
    ["file/child.csv", "/proc/clerkdesk.csv", "/sys/clerkdesk.csv", "x" * 300 + ".csv"],
    ids=["parent_is_a_file", "proc", "sys", "too_long"],
)
def test_output_paths_that_cannot_be_written(url: str, office: Office, tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("I am a file")
    out = where if where.startswith("/") else str(tmp_path / where)
    for args in (
        ["payroll", "export", "--period", "2026-11-02", "--signed-only", "--out", out],
        ["schedule", "export", "--from", "2026-11-16", "--to", "2026-11-22", "--output", out],
        ["backup", out],
        ["plan", "show", "A-1001", "--pdf", out],
        ["import", "codes", out],
    ):
        r = run(url, "--as", "sam", *args)
        assert_one_line_error(r)


def test_apply_credit_after_a_very_large_payment(url: str, office: Office) -> None:
    for k in range(3):
        r = run(url, "--as", "cleo", "payment", "post", "--payer", "Acme Health", "--method", "eft",
                "--key", f"big{k}", "--amount", "100000000000.00")  # fmt: skip
        assert r.exit_code == 0, r.output
    r = run(url, "--as", "cleo", "payment", "apply-credit", "--payer", "Acme Health")
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 1), r.output
    assert "$300,000,000,000.00" in r.output


def test_root_without_an_account_posting_a_payment(url: str, office: Office) -> None:
    import os

    if os.getuid() != 0:
        pytest.skip("needs root")
    r = run(url, *PAY, "--amount", "5.00")
    assert_one_line_error(r)
    assert "account" in r.output
    assert count_rows(office.db, Payment) == 0
