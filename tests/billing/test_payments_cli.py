"""`clerkdesk payment …` and `clerkdesk plan …`: exit codes, messages, no change on bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from billing import plans
from db import timeutil
from db.models import Allocation, InvoiceStatus, Payment, PaymentPlan
from tests.billing.factories_payments import (
    count_rows,
    invoice_figures,
    make_client,
    make_invoice,
    make_payer,
    plan_status,
)
from tests.conftest import Office, mark_demo
from tui.cli import main

D = Decimal


@pytest.fixture
def setup(office: Office) -> dict[str, int]:
    by = office.sup.user_id
    mark_demo(office.db.url)  # so --as works

    def go(s: Session) -> dict[str, int]:
        c = make_client(s, "A-1001")
        make_client(s, "A-2002", "John", "Roe")
        p = make_payer(s, "Acme Health")
        return {
            "client": c,
            "payer": p,
            "s1": make_invoice(
                s, client_id=c, created_by=by, total="100.00", issue_date=dt.date(2026, 8, 1), number="S-1"
            ),
            "s2": make_invoice(
                s, client_id=c, created_by=by, total="200.00", issue_date=dt.date(2026, 9, 1), number="S-2"
            ),
            "p1": make_invoice(
                s,
                client_id=c,
                created_by=by,
                total="80.00",
                issue_date=dt.date(2026, 9, 1),
                number="P-1",
                payer_id=p,
            ),
        }

    return office.db.write(go)


def run(db_url: str, *args: str, who: str = "cleo") -> Result:
    return CliRunner().invoke(main, ["--db", db_url, "--as", who, *args])


POST = ["payment", "post", "--client", "A-1001", "--method", "check", "--date", "2026-11-16"]


def test_post_oldest_first_then_repost_is_recorded_once(
    db_url: str, office: Office, setup: dict[str, int]
) -> None:
    r = run(db_url, *POST, "--amount", "150.00", "--key", "k1", "--reference", "chk 77")
    assert r.exit_code == 0, r.output
    assert r.output == (
        "payment #1 posted: $150.00 from Doe, Jane (A-1001); "
        "applied to S-1 $100.00 (paid), S-2 $50.00 (partially paid)\n"
    )
    again = run(db_url, *POST, "--amount", "150.00", "--key", "k1", "--reference", "chk 77")
    assert again.exit_code == 0
    assert again.output == "already posted as payment #1 (key k1, $150.00 on 2026-11-16); nothing changed\n"
    assert count_rows(office.db, Payment) == 1


def test_post_to_a_named_invoice_with_credit(db_url: str, office: Office, setup: dict[str, int]) -> None:
    r = run(db_url, *POST, "--amount", "$1,000", "--key", "k2", "--invoice", "S-2")
    assert r.exit_code == 0, r.output
    assert r.output.endswith("applied to S-2 $200.00 (paid); account credit $800.00\n")
    assert invoice_figures(office.db, setup["s1"]) == (D("0.00"), InvoiceStatus.ISSUED)


def test_payer_post_and_apply_credit(db_url: str, office: Office, setup: dict[str, int]) -> None:
    r = run(
        db_url,
        "payment",
        "post",
        "--payer",
        "Acme Health",
        "--client",
        "A-1001",
        "--amount",
        "100",
        "--method",
        "eft",
        "--key",
        "eft-1",
    )
    assert r.exit_code == 0, r.output
    assert "Acme Health for A-1001; applied to P-1 $80.00 (paid); account credit $20.00" in r.output
    none = run(db_url, "payment", "apply-credit", "--payer", "Acme Health")
    assert none.exit_code == 0
    # The payer's credit came with a check for A-1001 only: it is not spent on other clients.
    assert none.output == "nothing applied; account credit $20.00\n"
    listing = run(db_url, "payment", "list", "--payer", "Acme Health")
    assert listing.exit_code == 0 and "Acme Health for A-1001" in listing.output


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "'abc' is not an amount"),
        ("-5", "must be more than zero"),
        ("0", "must be more than zero"),
        ("1e400", "'1e400' is not an amount"),
        ("0.001", "0.001 has more than 2 decimals"),
    ],
)
def test_bad_amount_exit_2_and_nothing_saved(
    db_url: str, office: Office, setup: dict[str, int], amount: str, message: str
) -> None:
    r = run(db_url, *POST, "--amount", amount, "--key", "bad")
    assert r.exit_code == 2
    assert message in r.output
    assert count_rows(office.db, Payment) == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--date", "2026-11-17"], 2, "date: is in the future (today is 2026-11-16)"),
        (["--date", "16/11/2026"], 2, "Invalid value for '--date'"),
        (["--invoice", "NOPE"], 2, "no invoice numbered 'NOPE'"),
        (["--invoice", "P-1"], 2, "invoice: P-1 is not one of this client's own bills"),
        (["--key", ""], 2, "key: is required"),
    ],
)
def test_bad_input_exit_codes(
    db_url: str, office: Office, setup: dict[str, int], args: list[str], code: int, message: str
) -> None:
    base = ["payment", "post", "--client", "A-1001", "--method", "check", "--amount", "5.00"]
    if "--key" not in args:
        base += ["--key", "kk"]
    r = run(db_url, *base, *args)
    assert r.exit_code == code, r.output
    assert message in r.output
    assert count_rows(office.db, Payment) == 0


def test_unknown_parties_and_missing_party(db_url: str, office: Office, setup: dict[str, int]) -> None:
    r = run(db_url, "payment", "post", "--client", "A-9", "--amount", "5", "--method", "cash", "--key", "x")
    assert (r.exit_code, "no client with account number 'A-9'" in r.output) == (2, True)
    r = run(db_url, "payment", "post", "--payer", "Nobody", "--amount", "5", "--method", "cash", "--key", "x")
    assert (r.exit_code, "no payer named 'Nobody'" in r.output) == (2, True)
    r = run(db_url, "payment", "post", "--amount", "5", "--method", "cash", "--key", "x")
    assert (r.exit_code, "--client ACCOUNT or --payer NAME" in r.output) == (2, True)
    assert count_rows(office.db, Payment) == 0


def test_key_conflict_exits_1(db_url: str, office: Office, setup: dict[str, int]) -> None:
    assert run(db_url, *POST, "--amount", "5.00", "--key", "same").exit_code == 0
    r = run(db_url, *POST, "--amount", "6.00", "--key", "same")
    assert r.exit_code == 1
    assert "already used for payment #1 with different figures" in r.output
    assert count_rows(office.db, Allocation) == 1


def test_plan_create_show_refresh_cancel(
    db_url: str, office: Office, setup: dict[str, int], tmp_path: Path
) -> None:
    none = run(db_url, "plan", "show", "A-1001")
    assert (none.exit_code, none.output) == (1, "clerkdesk: account A-1001 has no payment plan\n")
    r = run(
        db_url,
        "plan",
        "create",
        "A-1001",
        "--count",
        "3",
        "--interval",
        "monthly",
        "--first-due",
        "2026-11-30",
    )
    assert r.exit_code == 0, r.output
    shown = run(db_url, "plan", "show", "A-1001")
    assert shown.exit_code == 0
    assert shown.output.splitlines()[:2] == [
        "PP-000001  Doe, Jane (A-1001)  active",
        "financed $300.00 in 3 monthly installments from 2026-11-30; paid $0.00, remaining $300.00",
    ]
    assert "    3  2027-01-30   $100.00   $0.00  due" in shown.output
    text = run(db_url, "plan", "show", "A-1001", "--agreement")
    assert text.exit_code == 0 and "PAYMENT PLAN AGREEMENT" in text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80
    pdf = tmp_path / "plan.pdf"
    r = run(db_url, "plan", "show", "A-1001", "--pdf", str(pdf))
    assert r.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")
    assert run(db_url, "plan", "show", "A-1001", "--pdf", str(pdf)).exit_code == 2  # never overwrites

    ok = run(db_url, "plan", "refresh")
    assert (ok.exit_code, ok.output) == (0, "checked 1 open plans as of 2026-11-16: 0 changed\n")
    future = run(db_url, "plan", "refresh", "--as-of", "2026-12-24")
    assert future.exit_code == 2 and "as_of: is in the future" in future.output

    timeutil.freeze("2026-12-11T15:00:00+00:00")  # 11 days after the first due date
    late = run(db_url, "plan", "refresh")
    assert late.exit_code == 0
    assert late.output == (
        "checked 1 open plans as of 2026-12-11: 1 changed\n  PP-000001  A-1001  active -> late (1 missed)\n"
    )
    assert run(db_url, "plan", "refresh").output == "checked 1 open plans as of 2026-12-11: 0 changed\n"

    denied = run(db_url, "plan", "cancel", "PP-000001", "--reason", "moved away")
    assert denied.exit_code == 1 and "may not cancel payment plans" in denied.output
    assert plan_status(office.db, 1) == "late"
    done = run(db_url, "plan", "cancel", "PP-000001", "--reason", "moved away", who="sam")
    assert (done.exit_code, done.output) == (0, "PP-000001 for A-1001 cancelled\n")
    assert plan_status(office.db, 1) == "cancelled"
    assert run(db_url, "plan", "cancel", "banana", "--reason", "x", who="sam").exit_code == 2


def test_plan_create_bad_input_exit_2(db_url: str, office: Office, setup: dict[str, int]) -> None:
    for args, message in [
        (["--count", "0"], "count: must be between 1 and 120"),
        (["--count", "121"], "count: must be between 1 and 120"),
        (["--first-due", "2026-11-15"], "first_due: is in the past (today is 2026-11-16)"),
    ]:
        base = {"--count": "3", "--first-due": "2026-12-01"}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        flat = [x for kv in base.items() for x in kv]
        r = run(db_url, "plan", "create", "A-1001", "--interval", "weekly", *flat)
        assert r.exit_code == 2, r.output
        assert message in r.output
    assert count_rows(office.db, PaymentPlan) == 0


def test_help_for_every_command(db_url: str) -> None:
    for cmd in (
        ["payment", "post"],
        ["payment", "apply-credit"],
        ["payment", "list"],
        ["plan", "show"],
        ["plan", "create"],
        ["plan", "cancel"],
        ["plan", "refresh"],
    ):
        r = CliRunner().invoke(main, [*cmd, "--help"])
        assert r.exit_code == 0 and "Usage:" in r.output


def test_plans_module_agrees_with_cli_figures(db_url: str, office: Office, setup: dict[str, int]) -> None:
    run(
        db_url,
        "plan",
        "create",
        "A-1001",
        "--count",
        "7",
        "--interval",
        "weekly",
        "--first-due",
        "2026-11-20",
    )
    view = office.db.read(lambda s: plans.get_plan(office.sup, s, 1))
    assert [i.amount for i in view.installments] == [D("42.85")] * 6 + [D("42.90")]
