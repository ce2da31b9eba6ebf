"""The payment posting screen, driven by keys: partial payment, overpayment → credit, saving
twice, a named invoice, a payer's payment, bad input. Data is made through the services.

The helpers at the top (``Books``, ``books``, ``open_screen``) are shared by the batch, plan and
snapshot tests of the payment screens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from billing import catalog, clients, coverage, invoices, payments, services
from db.models import Invoice, InvoiceStatus, PayerSide, Payment, PaymentMethod
from db.rights import Actor
from screens.clerk.payment_post import PaymentPostScreen
from screens.clerk.payment_widgets import Lookup
from tests.conftest import Office
from tests.pilot import replace, screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tui.widgets.confirm import ConfirmDialog

D = Decimal
TODAY = dt.date(2026, 11, 16)  # the frozen office day (Mon)


# --------------------------------------------------------------------------- data through the services


@dataclass
class Books:
    office: Office
    doe: int  # Doe, Jane: one statement of 150.00
    doe_inv: int
    smith: int  # "[Smith]", Anna: one statement of 1000.00
    smith_inv: int
    garcia: int  # Garcia, Luis: 150.00 (issued first, so older) and 1000.00
    garcia_old: int
    garcia_new: int
    nguyen: int  # Nguyen, Thi: covered by Acme Health, whose invoice is 150.00
    acme: int
    acme_inv: int

    def number(self, invoice_id: int) -> str:
        return self.office.db.read(lambda s: s.get(Invoice, invoice_id).number)  # type: ignore[union-attr]


def _client(a: Actor, s: Session, last: str, first: str) -> int:
    return clients.register_client(
        a,
        s,
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1980, 1, 2),
        address_line1="1 Main St",
        city="Springfield",
        region="MA",
        postal_code="01103",
    ).id


def _bill(a: Actor, s: Session, client_id: int, code: str) -> int:
    """One service today, built and issued: the id of the (single) invoice it made."""
    services.record_service(a, s, client_id, service_date=TODAY, code=code)
    built = invoices.build_invoices(a, s, client_id)
    issued = invoices.issue_drafts(a, s, [d.id for d in built.drafts])
    assert len(issued) == 1
    return issued[0].id


def make_books(office: Office) -> Books:
    db, sup, clerk = office.db, office.sup, office.clerk

    def catalogue(s: Session) -> int:
        catalog.add_code(sup, s, code="G0001", description="Office visit", fee="150.00")
        catalog.add_code(sup, s, code="G0002", description="Lab panel", fee="1000.00")
        return catalog.add_payer(sup, s, name="Acme Health", kind="insurer", terms_days=30).id

    acme = db.write(catalogue)
    doe = db.write(lambda s: _client(clerk, s, "Doe", "Jane"))
    smith = db.write(lambda s: _client(clerk, s, "[Smith]", "Anna"))
    garcia = db.write(lambda s: _client(clerk, s, "Garcia", "Luis"))
    nguyen = db.write(lambda s: _client(clerk, s, "Nguyen", "Thi"))

    def cover(s: Session) -> None:
        cov = coverage.add_coverage(
            clerk,
            s,
            nguyen,
            payer_id=acme,
            rank="primary",
            member_id="W100",
            effective_from=dt.date(2026, 1, 1),
        )
        coverage.record_eligibility_check(clerk, s, cov.id, result="eligible", checked_on=TODAY)

    db.write(cover)
    return Books(
        office=office,
        doe=doe,
        doe_inv=db.write(lambda s: _bill(clerk, s, doe, "G0001")),
        smith=smith,
        smith_inv=db.write(lambda s: _bill(clerk, s, smith, "G0002")),
        garcia=garcia,
        garcia_old=db.write(lambda s: _bill(clerk, s, garcia, "G0001")),
        garcia_new=db.write(lambda s: _bill(clerk, s, garcia, "G0002")),
        nguyen=nguyen,
        acme=acme,
        acme_inv=db.write(lambda s: _bill(clerk, s, nguyen, "G0001")),
    )


@pytest.fixture
def books(office: Office) -> Books:
    return make_books(office)


def invoice_state(b: Books, invoice_id: int) -> tuple[Decimal, InvoiceStatus]:
    def go(s: Session) -> tuple[Decimal, InvoiceStatus]:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        return inv.amount_paid, inv.status

    return b.office.db.read(go)


def all_payments(b: Books) -> list[tuple[Decimal, Decimal, str, int | None]]:
    """(amount, unapplied, reference, batch id) of every payment, in id order."""
    return b.office.db.read(
        lambda s: [
            (p.amount, p.unapplied, p.reference, p.batch_id)
            for p in s.scalars(sa.select(Payment).order_by(Payment.id))
        ]
    )


# --------------------------------------------------------------------------- driving the screens


async def open_screen(pilot: Any, screen: Screen[Any], done: Callable[[Any], None] | None = None) -> None:
    """Open a screen on top of the home screen, as the client account screen does."""
    await settle(pilot)
    pilot.app.push_screen(screen, done)
    await settle(pilot)


def looked_up(pilot: Any) -> bool:
    """No look-up on the screen waits for a pause in typing or for its matches."""
    return not any(box._searching for box in pilot.app.screen.query(Lookup))


async def choose(pilot: Any, selector: str, query: str) -> None:
    """Type into a look-up and take the first match (Enter)."""
    await replace(pilot, selector, query)
    await wait_until(pilot, lambda: looked_up(pilot), f"the matches for {query!r}")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def text_of(pilot: Any, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


def open_items(pilot: Any) -> list[list[str]]:
    t = pilot.app.screen.query_one("#open-items", DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def flat(text: str) -> str:
    """Runs of spaces as one: what a person reads, whatever the column alignment."""
    return " ".join(text.split())


def notifications(app: Any) -> str:
    return "\n".join(n.message for n in app._notifications)


# --------------------------------------------------------------------------- tests


async def test_partial_payment_on_a_statement(books: Books) -> None:
    app = make_app(books.office, "clerk")
    number = books.number(books.doe_inv)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g", "p")  # the go-to menu opens it without a client
        await settle(pilot)
        assert isinstance(app.screen, PaymentPostScreen)
        await choose(pilot, "#input-client", "Doe, J")
        assert app.screen.query_one("#input-client", Input).value.endswith("Doe, Jane")
        assert open_items(pilot) == [[number, "2026-12-16", "$150.00", "$150.00", "issued"]]
        assert "1 open, $150.00 owed · account credit $0.00" in text_of(pilot, "#open-summary")
        await replace(pilot, "#input-amount", "100")
        await replace(pilot, "#input-reference", "1001")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        shown = screen_text(app)
        assert "Post $100.00 by check from Doe, Jane (A000001), received 2026-11-16, reference 1001." in shown
        assert f"{number} due 2026-12-16 $100.00 → $50.00 left" in flat(shown)
        assert "Account credit: $0.00" in shown
        assert all_payments(books) == []  # nothing yet: the dialog only shows what will happen
        await pilot.press("y")
        await settle(pilot)
        result = text_of(pilot, "#payment-result")
        assert "Payment #1 posted: $100.00 by check from Doe, Jane" in result
        assert f"{number}" in result and "now partially paid, balance $50.00" in result
        assert open_items(pilot)[0][3] == "$50.00"
    assert invoice_state(books, books.doe_inv) == (D("100.00"), InvoiceStatus.PARTIALLY_PAID)
    assert all_payments(books) == [(D("100.00"), D("0.00"), "1001", None)]


async def test_overpayment_becomes_account_credit(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        await replace(pilot, "#input-amount", "200.00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = screen_text(app)
        assert "$150.00 → paid" in flat(shown) and "Account credit: $50.00" in shown
        await pilot.press("y")
        await settle(pilot)
        assert "Account credit from this payment: $50.00" in text_of(pilot, "#payment-result")
        assert "now paid, balance $0.00" in text_of(pilot, "#payment-result")
        assert "0 open, $0.00 owed · account credit $50.00" in text_of(pilot, "#open-summary")
    assert invoice_state(books, books.doe_inv) == (D("150.00"), InvoiceStatus.PAID)
    assert all_payments(books) == [(D("200.00"), D("50.00"), "", None)]


async def test_saving_twice_records_one_payment(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        await replace(pilot, "#input-amount", "60")
        await pilot.press("ctrl+s", "ctrl+s")  # the second press while the first is on its way
        await settle(pilot)
        assert sum(isinstance(s, ConfirmDialog) for s in app.screen_stack) == 1
        await pilot.press("y")
        await settle(pilot)
        assert "Payment #1 posted" in text_of(pilot, "#payment-result")
        await pilot.press("ctrl+s")  # again, same form: the key is known, nothing to confirm
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert "Already recorded: payment #1 ($60.00, received 2026-11-16)" in text_of(
            pilot, "#payment-result"
        )
        assert "Already recorded as payment #1; nothing changed" in notifications(app)
    assert all_payments(books) == [(D("60.00"), D("0.00"), "", None)]
    assert invoice_state(books, books.doe_inv) == (D("60.00"), InvoiceStatus.PARTIALLY_PAID)


async def test_retry_after_a_lost_answer_records_once(books: Books) -> None:
    """The first save committed but its answer never came back (dropped connection): the retry
    with the same form finds the key and records nothing new."""
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = PaymentPostScreen(client_id=books.doe)
        await open_screen(pilot, screen)
        await replace(pilot, "#input-amount", "75.50")
        books.office.db.write(
            lambda s: payments.post_payment(
                books.office.clerk,
                s,
                side=PayerSide.CLIENT,
                client_id=books.doe,
                amount=D("75.50"),
                method=PaymentMethod.CHECK,
                received_on=TODAY,
                idempotency_key=screen.key,
            )
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Already recorded" in text_of(pilot, "#payment-result")
        # A new payment gets a new key: the same figures are a second, real payment.
        await pilot.press("ctrl+n")
        await replace(pilot, "#input-amount", "75.50")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Payment #2 posted" in text_of(pilot, "#payment-result")
    assert [p[0] for p in all_payments(books)] == [D("75.50"), D("75.50")]
    assert invoice_state(books, books.doe_inv) == (D("150.00"), InvoiceStatus.PAID)


async def test_changed_figures_under_a_used_key_are_refused(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        await replace(pilot, "#input-amount", "10")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await replace(pilot, "#input-amount", "20")  # edited after saving, same form
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Said on the form's problem line (it was a notification that went away).
        assert "was already used for payment #1 with different figures" in screen_text(app)
        assert "press ctrl+n to start a new payment" in screen_text(app)
        assert app.screen.query_one("#input-amount", Input).value == "20"  # kept as typed
    assert all_payments(books) == [(D("10.00"), D("0.00"), "", None)]


async def test_oldest_first_and_named_invoice(books: Books) -> None:
    app = make_app(books.office, "clerk")
    old, new = books.number(books.garcia_old), books.number(books.garcia_new)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.garcia))
        assert [r[0] for r in open_items(pilot)] == [old, new]  # oldest first
        # Name the newer invoice from the list: ctrl+o, down, Enter.
        await replace(pilot, "#input-amount", "100")
        await pilot.press("ctrl+o", "down", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = screen_text(app)
        assert f"{new} due 2026-12-16 $100.00 → $900.00 left" in flat(shown)
        assert old not in shown.split("It goes to:")[1]
        await pilot.press("y")
        await settle(pilot)
        # Then oldest first: 200.00 pays the old one (150.00) and 50.00 of the new one.
        await pilot.press("ctrl+n")
        await replace(pilot, "#input-amount", "200")
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = screen_text(app)
        assert f"{old} due 2026-12-16 $150.00 → paid" in flat(shown)
        assert f"{new} due 2026-12-16 $50.00 → $850.00 left" in flat(shown)
        await pilot.press("y")
        await settle(pilot)
    assert invoice_state(books, books.garcia_old) == (D("150.00"), InvoiceStatus.PAID)
    assert invoice_state(books, books.garcia_new) == (D("150.00"), InvoiceStatus.PARTIALLY_PAID)


async def test_payer_payment_found_by_name(books: Books) -> None:
    app = make_app(books.office, "clerk")
    number = books.number(books.acme_inv)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen())
        app.screen.query_one("#input-side").focus()
        await pilot.press("enter", "down", "enter")  # Who paid: Payer
        await settle(pilot)
        assert "For client (optional)" in screen_text(app)
        await choose(pilot, "#input-payer", "acme")
        assert app.screen.query_one("#input-payer", Input).value == "Acme Health"
        assert [(r[0], r[5]) for r in open_items(pilot)] == [(number, "A000004 Nguyen, Thi")]
        await replace(pilot, "#input-amount", "150")
        app.screen.query_one("#input-method").focus()
        await pilot.press("enter", "down", "down", "down", "down", "enter")  # EFT
        await replace(pilot, "#input-reference", "ERA-77")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Post $150.00 by eft (payer remittance) from Acme Health" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert "from Acme Health" in text_of(pilot, "#payment-result")
    assert invoice_state(books, books.acme_inv) == (D("150.00"), InvoiceStatus.PAID)

    def stored(s: Session) -> tuple[Any, ...]:
        p = s.scalars(sa.select(Payment)).one()
        return p.side, p.payer_id, p.client_id, p.method

    assert books.office.db.read(stored) == (PayerSide.PAYER, books.acme, None, PaymentMethod.EFT)


async def test_caller_gets_the_result_when_the_screen_closes(books: Books) -> None:
    app = make_app(books.office, "clerk")
    got: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe), got.append)
        await pilot.press("escape")  # nothing saved
        await settle(pilot)
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe), got.append)
        await replace(pilot, "#input-amount", "5")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PaymentPostScreen)
    assert got[0] is None
    assert isinstance(got[1], payments.PostResult) and got[1].payment.amount == D("5.00")


BAD_AMOUNTS = [
    ("", "Amount is required"),
    ("abc", "Amount 'abc' is not an amount; write digits and a point, e.g. 12.34"),
    ("-5", "Amount must be more than zero"),
    ("0", "Amount must be more than zero"),
    ("1.234", "Amount 1.234 has more than 2 decimals"),
    ("99999999999999", "Amount is larger than $100,000,000,000.00"),
    ("1e5", "Amount '1e5' is not an amount"),
    ("[bold]x[/]", "Amount '[bold]x[/]' is not an amount"),
]


async def test_bad_amounts_are_refused_with_no_change(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen(client_id=books.doe))
        for typed, message in BAD_AMOUNTS:
            await replace(pilot, "#input-amount", typed)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PaymentPostScreen), typed  # no confirmation
            assert message in screen_text(app), typed
            assert app.screen.query_one("#input-amount", Input).value == typed  # kept as typed
    assert all_payments(books) == []
    assert invoice_state(books, books.doe_inv) == (D("0.00"), InvoiceStatus.ISSUED)


BAD_OTHERS = [
    ("#input-date", "abc", "Received on 'abc' is not a date (YYYY-MM-DD)"),
    ("#input-date", "2026-11-17", "Received on is in the future (today is 2026-11-16)"),
    ("#input-date", "", "Received on is required"),
    ("#input-client", "", "Client is required"),
    ("#input-client", "zzz-nobody", "no match: type an account number"),
]


async def test_bad_date_or_party_is_refused_with_no_change(books: Books) -> None:
    app = make_app(books.office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, PaymentPostScreen())
        for field, typed, message in BAD_OTHERS:
            await choose(pilot, "#input-client", "Doe, J")
            await replace(pilot, "#input-amount", "10")
            await replace(pilot, "#input-date", "2026-11-16")
            await replace(pilot, field, typed)
            await wait_until(pilot, lambda: looked_up(pilot), f"the matches for {typed!r}")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PaymentPostScreen), typed
            assert message in screen_text(app), typed
    assert all_payments(books) == []


async def test_hostile_text_is_stored_and_shown_literally(books: Books) -> None:
    app = make_app(books.office, "clerk")
    ref = "'; DROP TABLE payments; --"
    async with app.run_test(size=(100, 30)) as pilot:
        await open_screen(pilot, PaymentPostScreen())
        await choose(pilot, "#input-client", "[Smith]")
        assert app.screen.query_one("#input-client", Input).value.endswith("[Smith], Anna")
        await replace(pilot, "#input-amount", "1")
        await replace(pilot, "#input-reference", ref)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"from [Smith], Anna (A000002), received 2026-11-16, reference {ref}." in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        result = text_of(pilot, "#payment-result")
        assert "from [Smith], Anna (A000002)" in result and f"reference {ref}" in result
    assert all_payments(books) == [(D("1.00"), D("0.00"), ref, None)]


async def test_every_action_is_in_help_and_the_palette(books: Books) -> None:
    from screens.clerk.batch_post import BatchPostScreen
    from screens.clerk.plan_setup import PlanSetupScreen
    from screens.common.help import HelpScreen

    app = make_app(books.office, "clerk")
    expected = {
        PaymentPostScreen: ["Post", "New payment", "Open items", "Find party", "Close"],
        BatchPostScreen: ["Save batch", "Add line", "Lines", "Control total", "New batch", "Close"],
        PlanSetupScreen: ["Create plan", "Write agreement", "Close"],
    }
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to Post payment" in titles and "Go to Batch posting" in titles
        for cls, actions in expected.items():
            screen = cls(books.smith) if cls is PlanSetupScreen else cls()
            await open_screen(pilot, screen)
            # The palette lists the keys of the screen in front (whatever has focus).
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for action in actions:
                assert any(t.startswith(f"{action} (") for t in titles), (cls.__name__, action)
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            shown = screen_text(app)
            assert cls.HELP_TITLE in shown
            for action in actions:
                assert f"| {action} |" in shown, (cls.__name__, action)
            await pilot.press("escape")
            await settle(pilot)
            screen.dismiss(None)
            await settle(pilot)
