"""`clerkdesk dunning …`, `aging`, `agency …`, `dispute list`: output, exit codes, no change on
bad input, a repeated run fires nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from billing import disputes
from db.models import DunningEvent, Placement
from db.settings import put_setting
from tests.billing.factories_payments import count_rows, make_client, make_invoice, make_payer
from tests.conftest import Office
from tui.cli import main


@pytest.fixture
def setup(office: Office) -> dict[str, int]:
    by = office.sup.user_id

    def go(s: Session) -> dict[str, int]:
        put_setting(s, "office.demo", True)
        c = make_client(s, "A-1001", "Jane", "Doe")
        p = make_payer(s, "Acme Health")
        s1 = make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="100.00",
            number="S-1",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
        )
        make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="40.00",
            number="S-2",
            issue_date=dt.date(2026, 11, 1),
            due_date=dt.date(2026, 12, 1),
        )
        make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="80.00",
            number="P-1",
            payer_id=p,
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 7, 1),
        )
        return {"client": c, "s1": s1}

    return office.db.write(go)


def run(db_url: str, *args: str, who: str = "sam") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", who, *args])


def test_levels_run_twice_letters(db_url: str, office: Office, setup: dict[str, int], tmp_path: Path) -> None:
    r = run(
        db_url,
        "dunning",
        "levels",
        "set",
        "--level",
        "1",
        "--name",
        "Reminder",
        "--days",
        "15",
        "--letter",
        "Dear {name}, please pay {amount}.",
        "--fee",
        "2.50",
    )
    assert r.exit_code == 0, r.output
    assert r.output == "level 1 'Reminder': fires at 15 days, fee $2.50\n"
    r = run(db_url, "dunning", "levels", "list")
    assert "Reminder" in r.output and "$2.50" in r.output
    dry = run(db_url, "dunning", "run", "--dry-run", who="cleo")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0] == (
        "dunning as of 2026-11-16 (dry run, nothing written): 1 to send, 0 skipped, fees $2.50"
    )
    assert "S-1" in dry.output and "send Reminder (letter)" in dry.output
    assert count_rows(office.db, DunningEvent) == 0
    refused = run(db_url, "dunning", "run", "--apply", who="cleo")
    assert refused.exit_code == 1 and "may not run dunning" in refused.output
    first = run(db_url, "dunning", "run", "--apply")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == (
        "dunning run #1 as of 2026-11-16: 1 levels fired, 1 letters, 1 fee invoices, 0 skipped"
    )
    again = run(db_url, "dunning", "run", "--apply")
    assert again.output.splitlines()[0] == (
        "dunning run #2 as of 2026-11-16: 0 levels fired, 0 letters, 0 fee invoices, 0 skipped "
        "(nothing new: each level fires once per invoice)"
    )
    assert count_rows(office.db, DunningEvent) == 1
    letters = run(db_url, "dunning", "letters", "1", "--pdf-dir", str(tmp_path))
    assert letters.exit_code == 0, letters.output
    assert "Dear Jane Doe, please pay $102.50." in letters.output
    assert (tmp_path / "dunning-1-A-1001.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dunning", "run"], "say --dry-run or --apply (exactly one)"),
        (["dunning", "run", "--dry-run", "--apply"], "say --dry-run or --apply (exactly one)"),
        (["dunning", "run", "--dry-run", "--as-of", "2027-01-01"], "as_of: is in the future"),
        (
            ["dunning", "levels", "set", "--level", "1", "--name", "x", "--days", "0", "--letter", "x"],
            "days_overdue: must be 1 to 3650 days",
        ),
        (["aging", "--format", "xml"], "Invalid value for '--format'"),
        (["aging", "--client", "[Smith]"], "no client with account number '[Smith]'"),
        (["agency", "add", "--name", "X", "--fee", "1e309"], "is not a percent"),
        (["agency", "place", "--agency", "Nobody", "A-1001"], "no agency named 'Nobody'"),
        (["agency", "recall", "--client", "A-1001", "--reason", "x"], "A-1001 is not placed with an agency"),
        (["dispute", "list", "--status", "maybe"], "Invalid value for '--status'"),
    ],
)
def test_bad_input_exit_2(
    db_url: str, office: Office, setup: dict[str, int], args: list[str], message: str
) -> None:
    r = run(db_url, *args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert count_rows(office.db, DunningEvent) == 0


def test_aging_formats(db_url: str, office: Office, setup: dict[str, int]) -> None:
    text = run(db_url, "aging", who="cleo")
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "aging as of 2026-11-16: office"
    assert lines[3].split() == ["Client", "$40.00", "$0.00", "$100.00", "$0.00", "$0.00", "$0.00", "$140.00"]
    csv_out = run(db_url, "aging", "--format", "csv", "--as-of", "2026-10-15")
    assert csv_out.output == (
        "as_of,side,current,1-30,31-60,61-90,91-120,120+,total\n"
        "2026-10-15,client,0.00,100.00,0.00,0.00,0.00,0.00,100.00\n"
        "2026-10-15,payer,0.00,0.00,0.00,0.00,80.00,0.00,80.00\n"
    )
    js = json.loads(run(db_url, "aging", "--format", "json", "--client", "A-1001").output)
    assert js["client"] == {
        "current": "40.00",
        "1-30": "0.00",
        "31-60": "100.00",
        "61-90": "0.00",
        "91-120": "0.00",
        "120+": "0.00",
        "total": "140.00",
    }
    assert js["payer"]["120+"] == "80.00"


def test_agency_commands(db_url: str, office: Office, setup: dict[str, int], tmp_path: Path) -> None:
    assert run(db_url, "agency", "add", "--name", "Recovery Co", "--fee", "30").output == (
        "agency 'Recovery Co' added, fee 30.00 %\n"
    )
    assert "Recovery Co" in run(db_url, "agency", "list").output
    r = run(db_url, "agency", "place", "--agency", "recovery co", "A-1001")
    assert r.exit_code == 0, r.output
    assert r.output == "placement #1: A-1001 with Recovery Co, $140.00\n"
    out = tmp_path / "file.csv"
    assert run(db_url, "agency", "export", "--agency", "Recovery Co", "--out", str(out)).exit_code == 0
    assert out.read_text().splitlines()[1].startswith("A-1001,Doe,Jane,")
    again = run(db_url, "agency", "export", "--agency", "Recovery Co", "--out", str(out))
    assert again.exit_code == 1 and "exists already" in again.output
    pay = run(db_url, "agency", "pay", "--client", "A-1001", "--gross", "50.00", "--key", "rem-1", who="cleo")
    assert pay.exit_code == 0, pay.output
    assert pay.output == (
        "payment #1: $50.00 collected, agency fee $15.00, $35.00 posted; A-1001 now owes $90.00\n"
    )
    rec = run(db_url, "agency", "recall", "--client", "A-1001", "--reason", "paid up soon")
    assert rec.output == "placement #1 recalled: A-1001 is back in dunning and work lists\n"
    assert count_rows(office.db, Placement) == 1


def test_dispute_list(db_url: str, office: Office, setup: dict[str, int]) -> None:
    assert run(db_url, "dispute", "list").output == "no open disputes\n"
    office.db.write(
        lambda s: disputes.open_dispute(office.clerk, s, invoice_id=setup["s1"], reason="not_rendered")
    )
    out = run(db_url, "dispute", "list").output
    assert "A-1001" in out and "S-1" in out and "service not rendered" in out and "cleo" in out


def test_aging_by_payer(db_url: str, office: Office, setup: dict[str, int]) -> None:
    out = run(db_url, "aging", "--by-payer", "--format", "csv", "--as-of", "2026-11-16")
    assert out.exit_code == 0, out.output
    assert out.output == (
        "as_of,payer,accounts,current,1-30,31-60,61-90,91-120,120+,total\n"
        "2026-11-16,Acme Health,1,0.00,0.00,0.00,0.00,0.00,80.00,80.00\n"
    )
    text = run(db_url, "aging", "--by-payer")
    assert text.output.splitlines()[0] == "payer aging as of 2026-11-16"
    bad = run(db_url, "aging", "--by-payer", "--client", "A-1001")
    assert bad.exit_code == 2 and "--by-payer is for the office" in bad.output
