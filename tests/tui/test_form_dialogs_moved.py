"""The dialogs moved onto the one form base (issue 12): print, credit note, void, plan agreement,
new agency, agency payment, placement file. For each: a good save (the database, or the file,
afterwards), a bad value (the field says why, the cursor goes there, what was typed stays, nothing
changes) and Escape (nothing changes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.markup import escape
from textual.widgets import Button, Input

from billing import agency, invoices, plans, render
from db.models import (
    Adjustment,
    Agency,
    AuditEntry,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Placement,
)
from screens.clerk import invoice_view
from screens.clerk.invoice_view import CreditDialog, InvoiceViewScreen, PrintDialog, VoidDialog
from screens.clerk.plan_view import AgreementDialog, PlanViewScreen
from screens.supervisor import agency_placements
from screens.supervisor.agency_placements import AgencyDialog, AgencyPaymentDialog, ExportDialog
from tests.conftest import Office
from tests.pilot import screen_text, settle
from tests.tui.test_billing_screens import count, fill, make_app, notes
from tests.tui.test_billing_screens_forms import field_error
from tests.tui.test_billing_screens_support import add_services, make_billing
from tests.tui.test_collections_screens import make_desk
from tests.tui.test_payment_screens import make_books
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FIX_FIELDS
from tui.widgets.forms import LONGEST

D = Decimal
HUGE = 10_000


@pytest.fixture(autouse=True)
def _fresh_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialogs remember the last folder for the session (one process): not across tests."""
    monkeypatch.setattr(invoice_view, "_last_folder", invoice_view.DEFAULT_FOLDER)
    monkeypatch.setattr(agency_placements, "_last_folder", "placements")


async def paste(pilot: Any, field: str, text: str) -> None:
    """Put ``text`` into a field as a paste does (the input's own length limit applies)."""
    box = pilot.app.screen.query_one(f"#input-{field}", Input)
    box.focus()
    box.value = ""
    box.insert_text_at_cursor(text)
    await pilot.pause()


def typed(app: Any, field: str) -> str:
    return str(app.screen.query_one(f"#input-{field}", Input).value)


async def press(pilot: Any, *keys: str) -> None:
    """Press keys and wait until the work they started is done."""
    await pilot.press(*keys)
    await settle(pilot)


async def save(pilot: Any) -> None:
    await press(pilot, "ctrl+s")


def issued_statement(office: Office) -> int:
    """Statement INV-000001 to [Smith], one line G0008, 25.00."""
    b = make_billing(office)
    add_services(office, office.clerk, b.smith, ("G0008", 1))
    inv_id = office.db.write(lambda s: invoices.build_invoices(office.clerk, s, b.smith).drafts[0].id)
    office.db.write(lambda s: invoices.issue_drafts(office.clerk, s, [inv_id]))
    return int(inv_id)


async def push(pilot: Any, screen: Any, done: Any = None) -> None:
    pilot.app.push_screen(screen, done)
    await settle(pilot)


async def open_invoice(pilot: Any, inv_id: int, key: str) -> None:
    await settle(pilot)
    await push(pilot, InvoiceViewScreen(inv_id))
    await press(pilot, key)


def files(app: Any) -> list[str]:
    root = app.exports
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --------------------------------------------------------------------------- invoice dialogs


async def test_print_writes_a_new_file_and_a_bad_folder_stays_typed(office: Office) -> None:
    inv_id = issued_statement(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_invoice(pilot, inv_id, "t")
        assert isinstance(app.screen, PrintDialog)
        await paste(pilot, "folder", "p" * HUGE)
        await press(pilot, "enter")
        assert isinstance(app.screen, PrintDialog)
        assert field_error(app, "folder") == "Folder is longer than 1000 characters"
        assert FIX_FIELDS in screen_text(app) and typed(app, "folder") == ("p" * HUGE)[:LONGEST]
        assert files(app) == []
        # Markup in a folder name is a folder name, written literally.
        await fill(pilot, "folder", "[bold]x")
        await press(pilot, "enter")
        assert isinstance(app.screen, InvoiceViewScreen)
        assert escape(f"Wrote {app.exports / '[bold]x' / 'INV-000001.txt'}") in notes(app)
        # Again: the folder is remembered and the taken name gets -2 (no file is replaced).
        await press(pilot, "t")
        assert typed(app, "folder") == "[bold]x"
        await press(pilot, "enter")
        # Escape writes nothing.
        await press(pilot, "t")
        await press(pilot, "escape")
        assert isinstance(app.screen, InvoiceViewScreen)
        # An empty folder is the exports folder itself (it was a crash: the field gave None).
        await press(pilot, "t")
        await fill(pilot, "folder", "")
        await press(pilot, "enter")
        assert isinstance(app.screen, InvoiceViewScreen)
    assert files(app) == ["INV-000001.txt", "[bold]x/INV-000001-2.txt", "[bold]x/INV-000001.txt"]
    text = office.db.read(lambda s: render.render_text(render.draft_document(office.clerk, s, inv_id)))
    assert (app.exports / "[bold]x" / "INV-000001.txt").read_text() == text
    assert office.db.read(lambda s: s.get(Invoice, inv_id).status) == InvoiceStatus.ISSUED  # type: ignore[union-attr]


async def test_credit_note_marks_the_first_wrong_field_asks_and_cancels(office: Office) -> None:
    inv_id = issued_statement(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_invoice(pilot, inv_id, "n")
        dialog = app.screen
        assert isinstance(dialog, CreditDialog)
        for lines, why in (
            ("1=1e309", "Lines '1e309' is not an amount"),
            ("1=-5", "Lines must not be negative"),
            ("[bold]x", "Lines '[bold]x' is not a line number"),
        ):
            await fill(pilot, "lines", lines)
            await fill(pilot, "reason", "Wrong code")  # the cursor is in the reason, which is fine
            await save(pilot)
            assert field_error(app, "lines").startswith(why), field_error(app, "lines")
            assert app.focused is dialog.query_one("#input-lines", Input)  # on the wrong field
            assert (typed(app, "lines"), typed(app, "reason")) == (lines, "Wrong code")
            assert FIX_FIELDS in screen_text(app)
        # A huge reason stops at its limit, and the field says so.
        await paste(pilot, "reason", "r" * HUGE)
        assert len(typed(app, "reason")) == 1000
        assert "Reason takes at most 1000 characters" in screen_text(app)
        # No at the question: still the dialog, still what was typed.
        await fill(pilot, "reason", "[bold]x")
        await fill(pilot, "lines", "")
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "every line in full (up to the balance $25.00)" in screen_text(app)
        await press(pilot, "n")
        assert app.screen is dialog and typed(app, "reason") == "[bold]x"
        await press(pilot, "escape")
        assert isinstance(app.screen, InvoiceViewScreen)
        assert count(office, Invoice, Invoice.kind == InvoiceKind.CREDIT_NOTE) == 0
        # The good save: every line in full.
        await press(pilot, "n")
        await fill(pilot, "reason", "[bold]x")
        await save(pilot)
        await press(pilot, "y")
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "Credit note CN-000001 issued: -$25.00" in notes(app)

    def facts(s: Session) -> tuple[Any, ...]:
        note = s.scalars(sa.select(Invoice).where(Invoice.kind == InvoiceKind.CREDIT_NOTE)).one()
        orig = s.get(Invoice, inv_id)
        adj = s.scalars(sa.select(Adjustment)).one()
        return note.number, note.total, orig.balance, adj.reason  # type: ignore[union-attr]

    assert office.db.read(facts) == ("CN-000001", D("-25.00"), D("0.00"), "credit note CN-000001: [bold]x")


async def test_void_needs_a_reason_keeps_markup_literally_and_cancels(office: Office) -> None:
    inv_id = issued_statement(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_invoice(pilot, inv_id, "x")
        dialog = app.screen
        assert isinstance(dialog, VoidDialog)
        await fill(pilot, "reason", "   ")
        dialog.query_one("#save").focus()
        await save(pilot)
        assert field_error(app, "reason") == "Reason is required"
        assert app.focused is dialog.query_one("#input-reason", Input)
        assert typed(app, "reason") == "   " and FIX_FIELDS in screen_text(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, InvoiceViewScreen)
        assert office.db.read(lambda s: s.get(Invoice, inv_id).status) == InvoiceStatus.ISSUED  # type: ignore[union-attr]
        await press(pilot, "x")
        await fill(pilot, "reason", "[bold]x")
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog) and "Reason: [bold]x" in screen_text(app)
        await press(pilot, "y")
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "INV-000001 is void" in notes(app)
    inv = office.db.read(lambda s: s.get(Invoice, inv_id))
    assert (inv.status, inv.void_reason) == (InvoiceStatus.VOID, "[bold]x")  # type: ignore[union-attr]


# --------------------------------------------------------------------------- plan agreement


async def test_agreement_keeps_a_bad_folder_skips_and_writes(office: Office) -> None:
    books = make_books(office)
    plan = office.db.write(
        lambda s: plans.create_plan(
            office.clerk,
            s,
            client_id=books.smith,
            count=3,
            interval="monthly",
            first_due=dt.date(2026, 12, 16),
        )
    )
    app = make_app(office, "clerk")
    got: list[Any] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await push(pilot, PlanViewScreen(books.smith))
        await press(pilot, "w")
        assert isinstance(app.screen, AgreementDialog)
        assert str(app.screen.query_one("#cancel", Button).label) == "Skip (esc)"
        for text, why in (("p" * HUGE, "is longer than 1000 characters"), ("../out", "may not contain '..'")):
            await paste(pilot, "folder", text)
            await save(pilot)
            assert isinstance(app.screen, AgreementDialog)
            assert field_error(app, "folder") == f"Folder {why}" and typed(app, "folder") == text[:LONGEST]
        await press(pilot, "escape")
        assert isinstance(app.screen, PlanViewScreen) and files(app) == []
        await push(pilot, AgreementDialog(plan.id, plan.number), got.append)
        await fill(pilot, "folder", "[bold]x")
        await press(pilot, "enter")
        assert isinstance(app.screen, PlanViewScreen)
    folder = app.exports / "[bold]x"
    assert got == [(folder / "PP-000001-agreement.txt", folder / "PP-000001-agreement.pdf")]
    assert files(app) == ["[bold]x/PP-000001-agreement.pdf", "[bold]x/PP-000001-agreement.txt"]
    assert "[Smith], Anna" in (folder / "PP-000001-agreement.txt").read_text()


# --------------------------------------------------------------------------- agency dialogs


async def test_new_agency_refuses_a_clerk_and_cancels(office: Office) -> None:
    desk = make_desk(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await push(pilot, AgencyDialog())
        assert not isinstance(app.screen, AgencyDialog)
        assert "Only a supervisor can work with collection agencies" in notes(app)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await push(pilot, AgencyDialog())
        dialog = app.screen
        await paste(pilot, "name", "n" * HUGE)
        assert len(typed(app, "name")) == 120
        await fill(pilot, "fee", "-5")
        await save(pilot)
        assert field_error(app, "fee") == "Fee percent '-5' is not a percent; write e.g. 30 or 27.5"
        assert app.focused is dialog.query_one("#input-fee", Input) and typed(app, "fee") == "-5"
        await press(pilot, "escape")
        assert not isinstance(app.screen, AgencyDialog)
    assert desk.count(Agency) == 0


async def test_agency_payment_asks_keeps_values_on_no_and_posts(office: Office) -> None:
    desk = make_desk(office)
    sup = office.sup

    def place(s: Session) -> Any:
        a = agency.add_agency(sup, s, name="Acme", fee_bp="30")
        return agency.place_accounts(sup, s, agency_id=a.id, client_ids=[desk.doe])[0]

    placement = office.db.write(place)
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await push(pilot, AgencyPaymentDialog(placement))
        dialog = app.screen
        await fill(pilot, "gross", "-5")
        await fill(pilot, "reference", "[bold]x")
        await save(pilot)
        assert field_error(app, "gross") == "Collected (gross) must be more than zero"
        assert app.focused is dialog.query_one("#input-gross", Input)
        assert (typed(app, "gross"), typed(app, "reference")) == ("-5", "[bold]x")
        await fill(pilot, "gross", "100")
        assert "net $70.00 posted as the payment" in screen_text(app)
        await save(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "n")
        assert app.screen is dialog and desk.count(Payment) == 0
        await save(pilot)
        await press(pilot, "y")
        assert not isinstance(app.screen, AgencyPaymentDialog)
        assert "posted net of the $30.00 agency fee (collected $100.00)" in notes(app)
        # Escape on a new one posts nothing.
        await push(pilot, AgencyPaymentDialog(placement))
        await fill(pilot, "gross", "10")
        await press(pilot, "escape")
        assert not isinstance(app.screen, AgencyPaymentDialog)
    pay = office.db.read(lambda s: s.scalars(sa.select(Payment)).one())
    assert (pay.amount, pay.reference) == (D("70.00"), "[bold]x")


async def test_placement_file_is_audited_and_a_bad_name_stays_typed(office: Office) -> None:
    desk = make_desk(office)
    sup = office.sup

    def place(s: Session) -> Any:
        a = agency.add_agency(sup, s, name="Acme", fee_bp="30")
        agency.place_accounts(sup, s, agency_id=a.id, client_ids=[desk.doe])
        return agency.list_agencies(sup, s)[0]

    ag = office.db.write(place)

    def exports(s: Session) -> int:
        return int(s.scalar(sa.select(sa.func.count()).where(AuditEntry.entity == "placement_file")) or 0)

    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await push(pilot, ExportDialog(ag, dt.date(2026, 11, 16)))
        dialog = app.screen
        assert typed(app, "name") == "agency-Acme-20261116.csv"
        for name in ("../x.csv", "n" * HUGE, ".hidden"):
            await paste(pilot, "name", name)
            dialog.query_one("#input-folder", Input).focus()
            await save(pilot)
            assert "must be a plain file name" in field_error(app, "name"), name
            assert (
                app.focused is dialog.query_one("#input-name", Input) and typed(app, "name") == name[:LONGEST]
            )
        await press(pilot, "escape")
        assert not isinstance(app.screen, ExportDialog) and files(app) == []
        await push(pilot, ExportDialog(ag, dt.date(2026, 11, 16)))
        await fill(pilot, "name", "[bold]x.csv")
        await save(pilot)
        assert not isinstance(app.screen, ExportDialog)
        assert "(1 account)" in notes(app)
        # The same name again: the file is never replaced; the name field says so.
        await push(pilot, ExportDialog(ag, dt.date(2026, 11, 16)))
        await fill(pilot, "name", "[bold]x.csv")
        await save(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert "exists; choose a new file name" in field_error(app, "name")
    assert files(app) == ["placements/[bold]x.csv"]
    assert "Doe" in (app.exports / "placements" / "[bold]x.csv").read_text()
    # Who took which clients' data out is kept (the export ran in a read transaction before).
    assert office.db.read(exports) == 1
    assert office.db.read(lambda s: s.scalars(sa.select(Placement)).one().status.value) == "active"
