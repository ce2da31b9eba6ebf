"""Every billing form refuses bad input (empty, wrong, huge, hostile) with a message on the field
and changes nothing; duplicates ask first; an edit that lost a race says so and reloads."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from textual.screen import Screen
from textual.widgets import Input, Static

from billing import clients, invoices, services
from db.models import (
    Client,
    ContactChange,
    Coverage,
    EligibilityCheck,
    Invoice,
    InvoiceKind,
    ServiceRendered,
)
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.client_form import ClientForm
from screens.clerk.client_search import ClientSearchScreen
from screens.clerk.coverage_form import CoverageForm
from screens.clerk.eligibility_form import EligibilityForm
from screens.clerk.invoice_builder import InvoiceBuilderScreen
from screens.clerk.invoice_view import CreditDialog, InvoiceViewScreen, PrintDialog
from screens.clerk.service_form import ServiceForm
from screens.common.help import HelpScreen
from tests.conftest import Office
from tests.pilot import burst, fill, screen_text, settle, wait_until
from tests.tui.test_billing_screens import count, make_app, notes
from tests.tui.test_billing_screens_support import TODAY, add_services, make_billing
from tui.widgets.confirm import ConfirmDialog

HOSTILE = "[bold]x[/]"
HUGE = "x" * 5000


def field_error(app: Any, field: str) -> str:
    """The message under one field ("" when the field is fine)."""
    f = app.screen.query_one(f"#field-{field}")
    return str(f.query_one(".field-error", Static).render()) if f.has_class("-invalid") else ""


async def save(pilot: Any) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def open_account(pilot: Any, client_id: int) -> None:
    pilot.app.push_screen(ClientAccountScreen(client_id))
    await settle(pilot)


async def test_client_form_refuses_bad_input_and_registers_nothing(office: Office) -> None:
    make_billing(office)
    before = count(office, Client)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        await pilot.press("down", "n")  # from the search box to the results, then n
        await settle(pilot)
        assert isinstance(app.screen, ClientForm)
        # Empty.
        await save(pilot)
        assert field_error(app, "last_name") == "Last name is required"
        # Wrong and hostile: parsed in the form, before the service.
        await fill(pilot, "last_name", "Doe")
        await fill(pilot, "first_name", "Jane")  # else the service is never asked below
        await fill(pilot, "date_of_birth", HOSTILE)
        await save(pilot)
        assert field_error(app, "date_of_birth") == "Date of birth '[bold]x[/]' is not a date (YYYY-MM-DD)"
        # Wrong, refused by the service: each field says why; the typed values stay.
        await fill(pilot, "date_of_birth", "2031-01-01")
        await fill(pilot, "phone", "'; DROP TABLE clients; --")
        await fill(pilot, "email", HOSTILE)
        await fill(pilot, "language", "Klingon!")
        await save(pilot)
        assert field_error(app, "date_of_birth") == "Date of birth is in the future"
        assert field_error(app, "phone").startswith("Phone is not a phone number")
        assert field_error(app, "email") == "E-mail is not an e-mail address"
        assert field_error(app, "language").startswith("Language must be a language code")
        assert app.screen.query_one("#input-phone", Input).value == "'; DROP TABLE clients; --"
        assert "Some fields need fixing" in screen_text(app)
        # Huge.
        await fill(pilot, "date_of_birth", "1990-05-05")
        await fill(pilot, "phone", "")
        await fill(pilot, "email", "")
        await fill(pilot, "language", "en")
        app.screen.query_one("#input-last_name", Input).value = HUGE
        app.screen.query_one("#input-notes", Input).value = HUGE
        await save(pilot)
        assert field_error(app, "last_name") == "Last name is longer than 80 characters"
        assert field_error(app, "notes") == "Notes is longer than 4000 characters"
        assert isinstance(app.screen, ClientForm)
    assert count(office, Client) == before


async def test_duplicate_client_is_shown_and_registered_only_when_confirmed(office: Office) -> None:
    b = make_billing(office)
    before = count(office, Client)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        await pilot.press("down", "n")
        await settle(pilot)
        await fill(pilot, "last_name", "smith")
        await fill(pilot, "first_name", "JOHN")
        await fill(pilot, "date_of_birth", "1980-02-03")
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert "Possible duplicate client" in text and "A000001  Smith, John  born 1980-02-03" in text
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ClientForm)
        assert "Not registered: possibly the same person" in screen_text(app)
        assert count(office, Client) == before
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        # Registered, and the new account is open.
        assert isinstance(app.screen, ClientAccountScreen)
        assert app.screen.client_id != b.smith
        assert "smith, JOHN" in screen_text(app)
    assert count(office, Client) == before + 1
    new = office.db.read(lambda s: s.scalars(sa.select(Client).order_by(Client.id.desc()).limit(1)).one())
    assert (new.last_name, new.first_name, new.owner_id) == ("smith", "JOHN", office.clerk.user_id)


async def test_edit_keeps_contact_history_and_a_lost_race_reloads(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_account(pilot, b.smith)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ClientForm)
        # A clerk cannot move the account to another clerk.
        assert app.screen.query_one("#input-owner").disabled
        # Meanwhile a supervisor corrects the phone number.
        office.db.write(
            lambda s: clients.edit_client(
                office.sup, s, b.smith, expected_version=None, changes={"phone": "413 555 7777"}
            )
        )
        await fill(pilot, "city", "Holyoke")
        await save(pilot)
        assert isinstance(app.screen, ClientForm)
        text = screen_text(app)
        assert "was changed by someone else since you opened it" in text
        assert "The form now shows what was saved by the other person" in text
        assert app.screen.query_one("#input-phone", Input).value == "413-555-7777"
        assert app.screen.query_one("#input-city", Input).value == "Springfield"
        assert office.db.read(lambda s: s.get(Client, b.smith).city) == "Springfield"
        # Make the change again: saved, with history.
        await fill(pilot, "city", "Holyoke")
        await save(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        await pilot.press("6")
        await settle(pilot)
        text = screen_text(app)
        assert "city | Springfield | Holyoke | cleo" in text
        assert "phone | 413-555-0142 | 413-555-7777 | sam" in text
    rows = office.db.read(
        lambda s: sorted(
            (c.field, c.old_value, c.new_value, c.changed_by)
            for c in s.scalars(sa.select(ContactChange).where(ContactChange.client_id == b.smith))
        )
    )
    assert rows == [
        ("city", "Springfield", "Holyoke", office.clerk.user_id),
        ("phone", "413-555-0142", "413-555-7777", office.sup.user_id),
    ]


async def test_coverage_form_refuses_bad_input(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_account(pilot, b.smith)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CoverageForm)
        # Empty: member id and coinsurance are required.
        await fill(pilot, "coinsurance", "")
        await save(pilot)
        assert field_error(app, "member_id") == "Member id is required"
        assert field_error(app, "coinsurance").startswith("Coinsurance % is required")
        # Wrong and hostile.
        await fill(pilot, "member_id", HOSTILE)
        await fill(pilot, "copay", "abc")
        await save(pilot)
        assert field_error(app, "copay") == "Copay per visit 'abc' is not an amount (like 125.50)"
        await fill(pilot, "copay", "20.00")
        await fill(pilot, "coinsurance", "150")
        await fill(pilot, "effective_from", "2026-06-01")
        await fill(pilot, "effective_to", "2026-01-01")
        await save(pilot)
        assert field_error(app, "member_id").startswith("Member id is required: letters, digits")
        assert field_error(app, "coinsurance") == "Coinsurance % must be between 0 and 100 percent"
        assert field_error(app, "effective_to") == "Effective to is before the effective date 2026-06-01"
        # Huge.
        await fill(pilot, "member_id", "W1")
        await fill(pilot, "coinsurance", "20")
        await fill(pilot, "effective_to", "")
        await fill(pilot, "deductible", "99999999")
        await save(pilot)
        assert field_error(app, "deductible") == "Deductible is more than 1,000,000.00"
        # Beyond the money range, in exponent form, in other digits (issue 11 §6): a message.
        for absurd in ("1e309", "1e30", "١٢٣", "１２３"):
            await fill(pilot, "deductible", absurd)
            await save(pilot)
            assert field_error(app, "deductible") == f"Deductible {absurd!r} is not an amount (like 125.50)"
        await fill(pilot, "deductible", "100000000000000")
        await save(pilot)
        assert field_error(app, "deductible") == "Deductible is larger than $100,000,000,000.00"
        assert app.is_running and isinstance(app.screen, CoverageForm)
        await fill(pilot, "deductible", "100.00")
        await fill(pilot, "deductible_remaining", "150.00")
        await save(pilot)
        assert (
            field_error(app, "deductible_remaining")
            == "Deductible remaining is more than the deductible 100.00"
        )
        assert isinstance(app.screen, CoverageForm)
    assert count(office, Coverage, Coverage.client_id == b.smith) == 0

    # A second primary in force for the same period is a conflict, said in words.
    async with make_app(office, "clerk").run_test(size=(100, 40)) as pilot:
        app = pilot.app
        await settle(pilot)
        await open_account(pilot, b.brackets)
        await pilot.press("c")
        await settle(pilot)
        assert app.screen.query_one("#input-rank").value == "secondary"  # a primary is in force
        app.screen.query_one("#input-rank").value = "primary"
        await fill(pilot, "member_id", "X1")
        await save(pilot)
        assert "already has a primary coverage (Bluewater Health Plan, from 2026-01-01)" in screen_text(app)
    assert count(office, Coverage, Coverage.client_id == b.brackets) == 1


async def test_eligibility_form_refuses_bad_input(office: Office) -> None:
    b = make_billing(office)
    before = count(office, EligibilityCheck)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_account(pilot, b.smith)
        await pilot.press("v")
        await settle(pilot)
        assert "No coverage to check: add one first (c)" in notes(app)
        await open_account(pilot, b.brackets)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, EligibilityForm)
        await fill(pilot, "checked_on", "")
        await save(pilot)
        assert field_error(app, "checked_on") == "Checked on is required"
        await fill(pilot, "checked_on", HOSTILE)
        await save(pilot)
        assert field_error(app, "checked_on") == "Checked on '[bold]x[/]' is not a date (YYYY-MM-DD)"
        await fill(pilot, "checked_on", "2026-12-01")
        app.screen.query_one("#input-notes", Input).value = HUGE
        await save(pilot)
        assert field_error(app, "checked_on") == "Checked on is in the future"
        assert field_error(app, "notes") == "Notes is longer than 4000 characters"
        assert isinstance(app.screen, EligibilityForm)
    assert count(office, EligibilityCheck) == before


async def test_service_form_refuses_bad_input(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_account(pilot, b.smith)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ServiceForm)
        await save(pilot)
        assert field_error(app, "code") == "Code is required"
        await pilot.press(*HOSTILE)
        await wait_until(
            pilot, lambda: "No active code starts with '[BOLD]X[/]'" in screen_text(app), "no code"
        )
        await fill(pilot, "units", "0")
        await save(pilot)
        assert field_error(app, "units") == "Units must be between 1 and 999"
        await fill(pilot, "units", "99999999999999999999")
        await save(pilot)
        assert field_error(app, "units") == "Units must be between 1 and 999"
        await fill(pilot, "units", "two")
        await save(pilot)
        assert field_error(app, "units") == "Units 'two' is not a whole number"
        await fill(pilot, "units", "1")
        await fill(pilot, "service_date", "2027-01-01")
        await save(pilot)
        assert field_error(app, "code") == "Code no service code '[BOLD]X[/]' in the catalog"
        assert (
            field_error(app, "service_date")
            == "Date of service 2027-01-01 is in the future (today is 2026-11-16)"
        )
        app.screen.query_one("#input-note", Input).value = HUGE
        await fill(pilot, "code", "G0008")
        await fill(pilot, "service_date", TODAY.isoformat())
        await save(pilot)
        assert field_error(app, "note") == "Note (rendering staff) is longer than 300 characters"
        assert isinstance(app.screen, ServiceForm)
    assert count(office, ServiceRendered) == 0


async def test_print_and_credit_dialogs_refuse_bad_input(office: Office, tmp_path: Path) -> None:
    b = make_billing(office)
    add_services(office, office.clerk, b.smith, ("G0008", 1))
    inv_id = office.db.write(lambda s: invoices.build_invoices(office.clerk, s, b.smith).drafts[0].id)
    office.db.write(lambda s: invoices.issue_drafts(office.clerk, s, [inv_id]))
    app = make_app(office, "clerk")
    spot = app.exports
    spot.mkdir(parents=True)
    a_file = spot / "not-a-folder"
    a_file.write_text("x")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceViewScreen(inv_id))
        await settle(pilot)
        assert "Statement INV-000001" in screen_text(app)
        # Print: a file instead of a folder, control characters, a way out of the exports folder.
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PrintDialog)
        await fill(pilot, "folder", "not-a-folder")
        await pilot.press("enter")
        await settle(pilot)
        assert field_error(app, "folder") == f"Folder {a_file} is a file, not a folder"
        app.screen.query_one("#input-folder", Input).value = "prints\x07"
        await pilot.press("enter")
        await settle(pilot)
        assert field_error(app, "folder") == "Folder has control characters"
        for way_out, why in (
            ("../..", "may not contain '..'"),
            (str(tmp_path), "must be a file name inside"),
        ):
            await fill(pilot, "folder", way_out)
            await pilot.press("enter")
            await settle(pilot)
            assert field_error(app, "folder").startswith(f"Folder {why}"), field_error(app, "folder")
        await pilot.press("escape")
        await settle(pilot)
        assert list(spot.iterdir()) == [a_file]
        assert not list(tmp_path.glob("*.txt"))
        # Credit note: empty reason, wrong lines, a line that does not exist, too much.
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CreditDialog)
        await save(pilot)
        assert field_error(app, "reason") == "Reason is required"
        await fill(pilot, "reason", HOSTILE)
        await fill(pilot, "lines", "one")
        await save(pilot)
        assert field_error(app, "lines") == "Lines 'one' is not a line number (write 1, 2=10.00)"
        await fill(pilot, "lines", "9")
        await save(pilot)
        assert field_error(app, "lines") == "Lines INV-000001 has no line 9 (it has 1-1)"
        await fill(pilot, "lines", "1=99999999")
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "line 1 (G0008) $99,999,999.00" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CreditDialog)
        assert field_error(app, "lines") == "Lines at most 25.00 of line 1 is left to credit"
    assert count(office, Invoice, Invoice.kind == InvoiceKind.CREDIT_NOTE) == 0

    # A valid partial credit note goes through after confirmation.
    async with make_app(office, "clerk").run_test(size=(100, 30)) as pilot:
        app = pilot.app
        await settle(pilot)
        app.push_screen(InvoiceViewScreen(inv_id))
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, "reason", HOSTILE)
        await fill(pilot, "lines", "1=4.00")
        await save(pilot)
        assert "Reason: [bold]x[/]" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "credits/adjustments $4.00 · balance $21.00" in screen_text(app)
    note = office.db.read(
        lambda s: s.scalars(sa.select(Invoice).where(Invoice.kind == InvoiceKind.CREDIT_NOTE)).one()
    )
    assert (note.number, str(note.total), note.credits_invoice_id) == ("CN-000001", "-4.00", inv_id)


async def test_help_lists_every_key_and_payment_keys_reload_the_account(
    office: Office, monkeypatch: Any
) -> None:
    b = make_billing(office)

    class FakePost(Screen[None]):
        """Stands in for the payments engineer's screen: records a service and closes."""

        def __init__(self, client_id: int | None = None) -> None:
            super().__init__()
            self.client_id = client_id

        def on_mount(self) -> None:
            office.db.write(
                lambda s: services.record_service(office.clerk, s, b.smith, service_date=TODAY, code="G0008")
            )
            self.dismiss()

    fake = types.ModuleType("screens.clerk.payment_post")
    fake.PaymentPostScreen = FakePost  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "screens.clerk.payment_post", fake)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_account(pilot, b.smith)
        assert "0 open bills · 0 unbilled" in screen_text(app)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for what in (
            "Coverage",
            "Eligibility",
            "Service",
            "Build invoice",
            "Open invoice",
            "Edit",
            "Post payment",
            "Plan",
        ):
            assert f"| {what} |" in text, what
        await pilot.press("escape")
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to Clients" in titles and "Post payment (p)" in titles and "Plan (l)" in titles
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        assert "0 open bills · 1 unbilled" in screen_text(app)  # read again after the payment screen closed
    for who in ("sup", "clerk"):
        app = make_app(office, who)
        async with app.run_test() as pilot:
            await settle(pilot)
            assert "Go to Clients" in [c.title for c in app.get_system_commands(app.screen)]


async def test_builder_discard_asks_and_releases_the_services(office: Office) -> None:
    b = make_billing(office)
    add_services(office, office.clerk, b.smith, ("G0008", 1), ("A0425", 12))
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceBuilderScreen(b.smith))
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert "No drafts to issue" in notes(app)
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        # No coverage: everything on a statement at the catalog fee (25.00 + 12 × 9.50).
        assert "Statement to Smith, John" in text and "total $139.00" in text
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "No coverage: 1 × $25.00 (catalog fee) | $25.00" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "their 2 services become unbilled again" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert count(office, Invoice) == 1
        # "dry" typed fast where no text field has focus: d asks, the typed-ahead y answers nothing.
        burst(app, "dry")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and count(office, Invoice) == 1
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("d", "y")
        await settle(pilot)
        assert "Unbilled services (2)" in screen_text(app)
    assert count(office, Invoice) == 0
    assert count(office, ServiceRendered, ServiceRendered.billed.is_(False)) == 2


async def test_client_search_new_from_the_box_and_a_fresh_search_after_an_account(office: Office) -> None:
    """Issue 12: n worked only in the results; back from an account, Enter opened that client again."""
    make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        box = app.screen.query_one("#filter", Input)
        assert app.focused is box
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ClientForm)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press(*"smith", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ClientSearchScreen)
        box = app.screen.query_one("#filter", Input)
        assert box.value == "" and app.focused is box
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientSearchScreen)  # nothing chosen, nothing opened
