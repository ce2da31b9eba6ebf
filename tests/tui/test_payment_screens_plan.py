"""Plan set-up and plan view, driven by keys: live schedule, 1000.00 in 3, confirmation, the
agreement written as text and PDF, bad input, accounts where no plan can be made."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable, Input

from billing import payments, plans
from db.models import Installment, PayerSide, PaymentPlan
from screens.clerk.plan_setup import PlanSetupScreen
from screens.clerk.plan_view import AgreementDialog, PlanViewScreen
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle
from tests.tui.conftest import make_app
from tests.tui.test_payment_screens import (
    TODAY,
    Books,
    flat,
    make_books,
    notifications,
    open_screen,
    text_of,
)
from tui.widgets.confirm import ConfirmDialog

D = Decimal


@pytest.fixture
def books(office: Office) -> Books:
    return make_books(office)


def schedule(pilot: Any, table: str = "#plan-schedule") -> list[list[str]]:
    t = pilot.app.screen.query_one(table, DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def stored_plans(b: Books) -> list[tuple[int, Decimal, str, list[tuple[dt.date, Decimal]]]]:
    def go(s: Any) -> list[tuple[int, Decimal, str, list[tuple[dt.date, Decimal]]]]:
        out = []
        for p in s.scalars(sa.select(PaymentPlan).order_by(PaymentPlan.id)):
            insts = s.scalars(
                sa.select(Installment).where(Installment.plan_id == p.id).order_by(Installment.seq)
            )
            out.append(
                (p.client_id, p.amount_financed, p.interval.value, [(i.due_date, i.amount) for i in insts])
            )
        return out

    return b.office.db.read(go)


async def test_plan_of_1000_in_3_with_agreement(books: Books, tmp_path: Path) -> None:
    app = make_app(books.office, "clerk")
    got: list[Any] = []
    prints = app.exports / "prints"  # the default folder, inside the clerk's exports folder
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PlanSetupScreen(books.smith), got.append)
        assert "Set up a payment plan: [Smith], Anna (A000002)" in screen_text(app)
        assert "Amount to finance: $1,000.00" in text_of(pilot, "#plan-financed")
        # The default terms already show a schedule: 6 monthly from a month from today.
        assert len(schedule(pilot)) == 6 and schedule(pilot)[0][1] == "2026-12-16"
        await replace(pilot, "#input-count", "3")
        assert schedule(pilot) == [
            ["1", "2026-12-16", "$333.33"],
            ["2", "2027-01-16", "$333.33"],
            ["3", "2027-02-16", "$333.34"],
        ]
        assert "total $1,000.00 = amount financed" in text_of(pilot, "#plan-summary")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        shown = flat(screen_text(app))
        assert (
            "Finance $1,000.00 for [Smith], Anna (A000002) in 3 monthly installments, first due 2026-12-16."
            in shown
        )
        assert "1 2026-12-16 $333.33 2 2027-01-16 $333.33 3 2027-02-16 $333.34 Total $1,000.00" in shown
        assert stored_plans(books) == []  # nothing until yes
        await pilot.press("y")
        await settle(pilot)
        # Saved; the agreement dialog comes next.
        assert isinstance(app.screen, AgreementDialog)
        assert app.screen.query_one("#input-folder", Input).value == "prints"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanSetupScreen)
        assert "Plan PP-000001 created: $1,000.00 in 3 monthly installments" in text_of(
            pilot, "#plan-financed"
        )
        assert f"Agreement written: {prints / 'PP-000001-agreement.txt'}" in text_of(pilot, "#plan-financed")
        assert schedule(pilot)[2] == ["3", "2027-02-16", "$333.34"]
        await pilot.press("escape")
        await settle(pilot)
    assert stored_plans(books) == [
        (
            books.smith,
            D("1000.00"),
            "monthly",
            [
                (dt.date(2026, 12, 16), D("333.33")),
                (dt.date(2027, 1, 16), D("333.33")),
                (dt.date(2027, 2, 16), D("333.34")),
            ],
        )
    ]
    assert isinstance(got[0], plans.PlanView) and got[0].number == "PP-000001"
    text = (prints / "PP-000001-agreement.txt").read_text()
    assert "PAYMENT PLAN AGREEMENT" in text and "[Smith], Anna" in text and "$333.34" in text
    assert (prints / "PP-000001-agreement.pdf").read_bytes().startswith(b"%PDF")
    assert (prints / "PP-000001-agreement.txt").stat().st_mode & 0o777 == 0o600


async def test_interval_and_first_due_change_the_schedule_as_typed(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PlanSetupScreen(books.garcia))  # 150.00 + 1000.00
        await replace(pilot, "#input-count", "4")
        await replace(pilot, "#input-first_due", "2026-11-20")
        app.screen.query_one("#input-interval").focus()
        await pilot.press("enter", "down", "enter")  # every two weeks
        await pilot.pause()
        assert schedule(pilot) == [
            ["1", "2026-11-20", "$287.50"],
            ["2", "2026-12-04", "$287.50"],
            ["3", "2026-12-18", "$287.50"],
            ["4", "2027-01-01", "$287.50"],
        ]
        await pilot.press("enter", "down", "enter")  # weekly
        await pilot.pause()
        assert [r[1] for r in schedule(pilot)] == ["2026-11-20", "2026-11-27", "2026-12-04", "2026-12-11"]
        await replace(pilot, "#input-count", "7")
        assert [r[2] for r in schedule(pilot)] == ["$164.28"] * 6 + ["$164.32"]
        assert "7 weekly installments from 2026-11-20 to 2027-01-01" in text_of(pilot, "#plan-summary")


BAD_TERMS = [
    ("#input-count", "", "Installments is required"),
    ("#input-count", "abc", "Installments 'abc' is not a whole number"),
    ("#input-count", "-5", "Installments must be between 1 and 120"),
    ("#input-count", "1.234", "Installments '1.234' is not a whole number"),
    ("#input-count", "0", "Installments must be between 1 and 120"),
    ("#input-count", "99999999999999", "Installments must be between 1 and 120"),
    ("#input-count", "[bold]x[/]", "Installments '[bold]x[/]' is not a whole number"),
    ("#input-first_due", "abc", "First due date 'abc' is not a date"),
    ("#input-first_due", "2026-11-15", "First due date is in the past (today is 2026-11-16)"),
    ("#input-first_due", "2027-12-01", "First due date is more than a year away"),
    ("#input-first_due", "'; DROP TABLE payment_plans; --", "is not a date"),
]


async def test_bad_terms_are_refused_with_no_change(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PlanSetupScreen(books.smith))
        for selector, typed, message in BAD_TERMS:
            await replace(pilot, "#input-count", "3")
            await replace(pilot, "#input-first_due", "2026-12-16")
            await replace(pilot, selector, typed)
            assert schedule(pilot) == [], typed  # no schedule from bad terms
            assert "No schedule yet" in text_of(pilot, "#plan-summary"), typed
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PlanSetupScreen), typed  # no confirmation
            assert message in screen_text(app), typed
    assert stored_plans(books) == []


async def test_no_plan_when_the_account_has_credit_or_a_plan(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    # Doe overpays: credit on the account, nothing owed.
    db.write(
        lambda s: payments.post_payment(
            clerk,
            s,
            side=PayerSide.CLIENT,
            client_id=books.doe,
            amount=D("200.00"),
            method="check",
            received_on=TODAY,
            idempotency_key="k-doe",
        )
    )
    db.write(
        lambda s: plans.create_plan(
            clerk, s, client_id=books.smith, count=2, interval="monthly", first_due=dt.date(2026, 12, 1)
        )
    )
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        for client, why in [
            (books.doe, "the account has credit: apply it to the open bills first"),
            (books.smith, "already has an open plan (PP-000001, active)"),
        ]:
            await open_screen(pilot, PlanSetupScreen(client))
            assert "NO PLAN CAN BE MADE" in text_of(pilot, "#plan-financed")
            assert why in text_of(pilot, "#plan-financed")
            assert schedule(pilot) == []
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PlanSetupScreen)
            assert why in notifications(app)
            await pilot.press("escape")
            await settle(pilot)
    assert len(stored_plans(books)) == 1


async def test_agreement_to_an_unwritable_folder_is_a_message(books: Books, tmp_path: Path) -> None:
    plan = books.office.db.write(
        lambda s: plans.create_plan(
            books.office.clerk,
            s,
            client_id=books.smith,
            count=3,
            interval="monthly",
            first_due=dt.date(2026, 12, 16),
        )
    )
    app = make_app(books.office, "clerk")
    app.exports.mkdir(parents=True)
    blocker = app.exports / "a-file"
    blocker.write_text("not a folder")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PlanViewScreen(books.smith))
        assert "Payment plan PP-000001: [Smith], Anna (A000002)" in screen_text(app)
        assert "ACTIVE" in text_of(pilot, "#plan-head") and "remaining $1,000.00" in text_of(
            pilot, "#plan-head"
        )
        assert schedule(pilot, "#plan-installments")[2] == ["3", "2027-02-16", "$333.34", "$0.00", "due"]
        await pilot.press("w")
        await settle(pilot)
        await replace(pilot, "#input-folder", "a-file/sub")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AgreementDialog)  # still open, saying why
        assert f"Folder {blocker} is a file, not a folder" in screen_text(app)
        await replace(pilot, "#input-folder", str(tmp_path / "ok"))
        await pilot.press("enter")
        await settle(pilot)
        assert "Folder must be a file name inside your exports folder" in screen_text(app)
        await replace(pilot, "#input-folder", "ok")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanViewScreen)
        assert "Agreement written" in notifications(app)
    pdf = app.exports / "ok" / f"{plan.number}-agreement.pdf"
    assert pdf.exists() and pdf.stat().st_mode & 0o077 == 0
    assert not (tmp_path / "ok").exists()
    assert blocker.read_text() == "not a folder"
