"""Batch posting, driven by keys: control figures first, lines, a batch that does not balance
cannot be saved (nothing stored), then fixed and saved all at once; bad input; saved once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable, Input

from billing import payments
from db.models import InvoiceStatus, PaymentBatch
from screens.clerk.batch_post import BatchPostScreen
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle
from tests.tui.conftest import make_app
from tests.tui.test_payment_screens import (
    TODAY,
    Books,
    all_payments,
    choose,
    flat,
    invoice_state,
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


def batches(b: Books) -> list[tuple[Decimal, int]]:
    return b.office.db.read(
        lambda s: [(x.control_total, x.item_count) for x in s.scalars(sa.select(PaymentBatch))]
    )


def lines(pilot: Any) -> list[list[str]]:
    t = pilot.app.screen.query_one("#batch-lines", DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def add_line(pilot: Any, party: str, amount: str, ref: str = "", invoice: str = "") -> None:
    await choose(pilot, "#input-party", party)
    await replace(pilot, "#input-amount", amount)
    await replace(pilot, "#input-reference", ref)
    await replace(pilot, "#input-invoice", invoice)
    await pilot.press("enter")
    await settle(pilot)


async def test_unbalanced_batch_is_not_saved_then_fixed_and_saved(books: Books) -> None:
    app = make_app(books.office, "clerk")
    new = books.number(books.garcia_new)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "b")
        await settle(pilot)
        assert isinstance(app.screen, BatchPostScreen)
        await replace(pilot, "#input-control", "300.00")
        await replace(pilot, "#input-count", "2")
        assert "0 of 2 checks · $0.00 of $300.00 · difference -$300.00" in text_of(pilot, "#batch-status")
        await add_line(pilot, "Doe, J", "100", "5001")
        await add_line(pilot, "Garcia", "150", "5002", new.lower())  # the number as typed from a stub
        assert lines(pilot) == [
            ["1", "A000001  Doe, Jane", "$100.00", "5001", ""],
            ["2", "A000003  Garcia, Luis", "$150.00", "5002", new],
        ]
        status = text_of(pilot, "#batch-status")
        assert "2 of 2 checks · $250.00 of $300.00 · difference -$50.00" in status
        assert "NOT BALANCED (total differs)" in status
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BatchPostScreen)  # no confirmation: it cannot be saved
        assert "Cannot save: the batch does not balance. 2 checks for $250.00 entered" in screen_text(app)
        assert all_payments(books) == [] and batches(books) == []
        # The stack was added up wrong: correct the control total.
        await pilot.press("ctrl+t")
        await pilot.press("ctrl+u", *"250")
        await pilot.pause()
        assert "difference $0.00" in text_of(pilot, "#batch-status")
        assert "BALANCED" in text_of(pilot, "#batch-status").replace("NOT BALANCED", "")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        shown = flat(screen_text(app))
        assert "Post 2 checks, $250.00 in all, received 2026-11-16." in shown
        assert "1 A000001 Doe, Jane $100.00" in shown and f"2 A000003 Garcia, Luis $150.00 → {new}" in shown
        assert "All or nothing" in shown
        await pilot.press("y")
        await settle(pilot)
        result = text_of(pilot, "#batch-result")
        assert "Batch #1 saved: 2 payments, $250.00; account credit added $0.00" in result
        assert "SAVED as batch #1" in text_of(pilot, "#batch-status")
    assert batches(books) == [(D("250.00"), 2)]
    assert all_payments(books) == [(D("100.00"), D("0.00"), "5001", 1), (D("150.00"), D("0.00"), "5002", 1)]
    assert invoice_state(books, books.doe_inv) == (D("100.00"), InvoiceStatus.PARTIALLY_PAID)
    # The named invoice got the check, not the older one.
    assert invoice_state(books, books.garcia_new) == (D("150.00"), InvoiceStatus.PARTIALLY_PAID)
    assert invoice_state(books, books.garcia_old) == (D("0.00"), InvoiceStatus.ISSUED)


async def test_count_must_match_and_lines_can_be_corrected(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, BatchPostScreen())
        await replace(pilot, "#input-control", "30")
        await replace(pilot, "#input-count", "2")
        await add_line(pilot, "Acme", "15", "EFT-1")  # a payer, found by name; mistyped amount
        await add_line(pilot, "Doe, J", "20")
        await add_line(pilot, "Nguyen", "99")  # one too many
        assert "3 of 2 checks · $134.00 of $30.00" in text_of(pilot, "#batch-status")
        assert "NOT BALANCED (1 too many, total differs)" in text_of(pilot, "#batch-status")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Cannot save" in screen_text(app)
        # Remove the extra line: ctrl+o to the list, last line, Delete.
        await pilot.press("ctrl+o", "end", "delete")
        await pilot.pause()
        assert [r[1] for r in lines(pilot)] == ["Acme Health", "A000001  Doe, Jane"]
        # Enter on a line takes it back into the fields for correction.
        await pilot.press("up", "enter")
        await pilot.pause()
        assert app.screen.query_one("#input-amount", Input).value == "15.00"
        assert app.screen.query_one("#input-party", Input).value == "Acme Health"
        assert [r[1] for r in lines(pilot)] == ["A000001  Doe, Jane"]
        await replace(pilot, "#input-amount", "10")
        await pilot.press("enter")
        await settle(pilot)
        assert "2 of 2 checks · $30.00 of $30.00 · difference $0.00" in text_of(pilot, "#batch-status")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Batch #1 saved: 2 payments, $30.00" in text_of(pilot, "#batch-result")
    assert batches(books) == [(D("30.00"), 2)]
    assert sorted(p[0] for p in all_payments(books)) == [D("10.00"), D("20.00")]
    assert invoice_state(books, books.acme_inv) == (D("10.00"), InvoiceStatus.PARTIALLY_PAID)


async def test_saved_batch_is_recorded_once(books: Books) -> None:
    """A retry of a batch whose first save committed (answer lost) finds the batch key."""
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = BatchPostScreen()
        await open_screen(pilot, screen)
        await replace(pilot, "#input-control", "5")
        await replace(pilot, "#input-count", "1")
        await add_line(pilot, "Doe, J", "5")
        books.office.db.write(
            lambda s: payments.post_batch(
                books.office.clerk,
                s,
                batch_key=screen.batch_key,
                control_total=D("5.00"),
                count=1,
                received_on=TODAY,
                items=[line.item() for line in screen.lines],
            )
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Already recorded: batch #1 was posted with this key before; nothing changed" in text_of(
            pilot, "#batch-result"
        )
        await pilot.press("ctrl+s")  # and the saved batch cannot be sent again from this screen
        await settle(pilot)
        assert "This batch is saved already" in notifications(app)
    assert batches(books) == [(D("5.00"), 1)]
    assert all_payments(books) == [(D("5.00"), D("0.00"), "", 1)]


BAD_CONTROL = [
    ("#input-control", "", "Control total is required"),
    ("#input-control", "abc", "Control total 'abc' is not an amount"),
    ("#input-control", "-5", "Control total must be more than zero"),
    ("#input-control", "1.234", "Control total 1.234 has more than 2 decimals"),
    ("#input-control", "99999999999999", "Control total is larger than $100,000,000,000.00"),
    ("#input-control", "[bold]x[/]", "Control total '[bold]x[/]' is not an amount"),
    ("#input-count", "abc", "Count 'abc' is not a whole number"),
    ("#input-count", "0", "Count must be between 1 and 1000"),
    ("#input-count", "99999999999999", "Count must be between 1 and 1000"),
    ("#input-count", "[bold]x[/]", "Count '[bold]x[/]' is not a whole number"),
    ("#input-date", "2026-11-17", "Received is in the future (today is 2026-11-16)"),
    ("#input-date", "abc", "Received 'abc' is not a date"),
]

BAD_LINES = [
    ("amount", "", "Amount is required"),
    ("amount", "abc", "Amount 'abc' is not an amount"),
    ("amount", "-5", "Amount must be more than zero"),
    ("amount", "1.234", "Amount 1.234 has more than 2 decimals"),
    ("amount", "99999999999999", "Amount is larger than"),
    ("amount", "[bold]x[/]", "Amount '[bold]x[/]' is not an amount"),
    ("invoice", "INV-999999", "Invoice no invoice numbered 'INV-999999'"),
    ("invoice", "'; DROP TABLE invoices; --", "Invoice no invoice numbered"),
    ("party", "", "From is required"),
]


@pytest.mark.slow  # 21 bad inputs, each typed key by key
async def test_bad_input_is_refused_with_no_change(books: Books) -> None:
    app = make_app(books.office, "clerk")
    smith_number = books.number(books.smith_inv)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, BatchPostScreen())
        # Lines cannot be added before the control figures are typed.
        await add_line(pilot, "Doe, J", "5")
        assert lines(pilot) == []
        assert "Type the control total, count and date first" in screen_text(app)
        for selector, typed, message in BAD_CONTROL:
            await replace(pilot, "#input-control", "5")
            await replace(pilot, "#input-count", "1")
            await replace(pilot, "#input-date", "2026-11-16")
            await replace(pilot, selector, typed)
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert message in screen_text(app), typed
            assert lines(pilot) == []
        await replace(pilot, "#input-control", "5")
        await replace(pilot, "#input-count", "1")
        await replace(pilot, "#input-date", "2026-11-16")
        for name, typed, message in BAD_LINES:
            await choose(pilot, "#input-party", "Doe, J")
            await replace(pilot, "#input-amount", "5")
            await replace(pilot, "#input-invoice", "")
            await replace(pilot, f"#input-{name}", typed)
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert message in screen_text(app), typed
            assert lines(pilot) == [], typed
        # Another client's invoice on Doe's check: refused with the reason.
        await choose(pilot, "#input-party", "Doe, J")
        await replace(pilot, "#input-amount", "5")
        await replace(pilot, "#input-invoice", smith_number)
        await pilot.press("enter")
        await settle(pilot)
        assert f"{smith_number} is not one of this client's own bills" in screen_text(app)
        assert lines(pilot) == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, BatchPostScreen)
    assert all_payments(books) == [] and batches(books) == []


async def test_leaving_with_unsaved_lines_asks_first(books: Books) -> None:
    app = make_app(books.office, "clerk")
    got: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, BatchPostScreen(), got.append)
        await replace(pilot, "#input-control", "5")
        await replace(pilot, "#input-count", "1")
        await add_line(pilot, "Doe, J", "5")
        await pilot.press("ctrl+o", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "The 1 checks typed so far are not saved" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, BatchPostScreen)
        await pilot.press("escape", "y")
        await settle(pilot)
        assert not isinstance(app.screen, BatchPostScreen)
    assert got == [None]
    assert all_payments(books) == []
