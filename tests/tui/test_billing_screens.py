"""The clerk's billing screens driven by keys (Pilot): the issue's "done when" path up to printing,
the supervisor-only override and void, and user data shown literally.

Figures (see test_billing_screens_support): coverage copay 20.00, coinsurance 20 %, deductible
100.00 with 50.00 left. G0439 × 1 (allowed 100.00): copay 20.00, deductible 50.00, coinsurance
20 % of 30.00 = 6.00, Bluewater pays 24.00, client 76.00. G0008 × 2 (allowed 2 × 20.00 = 40.00)
the same day: no copay left for the visit, no deductible left, coinsurance 8.00, Bluewater pays
32.00, client 8.00. Invoice to Bluewater 56.00, statement 84.00, both due 2026-12-16.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable, Input, OptionList

from billing import render
from db.models import (
    Coverage,
    EligibilityCheck,
    EligibilityOverride,
    Invoice,
    InvoiceStatus,
    ServiceRendered,
)
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.client_search import ClientSearchScreen
from screens.clerk.coverage_form import CoverageForm
from screens.clerk.eligibility_form import EligibilityForm
from screens.clerk.invoice_builder import InvoiceBuilderScreen
from screens.clerk.invoice_view import InvoiceViewScreen, PrintDialog, VoidDialog
from screens.clerk.service_form import ServiceForm
from screens.supervisor.eligibility_override import EligibilityOverrideDialog
from tests.conftest import Office
from tests.pilot import fill, screen_text, settle, wait_for_list, wait_until
from tests.tui.conftest import make_app as tui_make_app
from tests.tui.test_billing_screens_support import add_services, make_billing
from tui.app import ClerkDeskApp
from tui.widgets.confirm import ConfirmDialog


def make_app(office: Office, who: str = "sup") -> ClerkDeskApp:
    """The test app, keeping every notification it shows (they expire on screen after seconds,
    which a slow run could outlast)."""
    app = tui_make_app(office, who)
    shown: list[str] = []
    real = app.notify

    def notify(message: Any, *args: Any, **kwargs: Any) -> None:
        shown.append(str(message))
        real(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    app.shown_notes = shown  # type: ignore[attr-defined]
    return app


def notes(app: Any) -> str:
    return "\n".join(app.shown_notes)


def count(office: Office, model: Any, *where: Any) -> int:
    return office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


async def print_both(pilot: Any, folder: Path, stem: str) -> tuple[Path, Path]:
    """Print as text then PDF into ``folder``, a sub-folder of the app's exports folder."""
    app = pilot.app
    await pilot.press("t")
    await settle(pilot)
    assert isinstance(app.screen, PrintDialog)
    await fill(pilot, "folder", str(folder.relative_to(app.exports)))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, InvoiceViewScreen)
    await pilot.press("f")
    await settle(pilot)
    assert isinstance(app.screen, PrintDialog)
    assert app.screen.query_one("#input-folder", Input).value == str(folder.relative_to(app.exports))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, InvoiceViewScreen)
    return folder / f"{stem}.txt", folder / f"{stem}.pdf"


@pytest.mark.slow
async def test_clerk_finds_covers_checks_records_bills_issues_and_prints(
    office: Office, tmp_path: Path
) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    prints = app.exports / "billing" / "prints"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Find the client: go-to menu, Clients, type, Enter to the results, Enter to open.
        await pilot.press("g", "c")
        await settle(pilot)
        assert isinstance(app.screen, ClientSearchScreen)
        await pilot.press(*"Smith, J")
        await wait_for_list(pilot, "Smith, J")
        table = app.screen.query_one("#clients DataTable", DataTable)
        assert table.row_count == 1 and str(table.get_row_at(0)[1]) == "Smith, John"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        assert app.screen.client_id == b.smith
        assert "WARNING" in screen_text(app) and "no coverage in force" in screen_text(app)

        # Add coverage.
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CoverageForm)
        await pilot.press("enter", "enter")  # payer: the first, Bluewater
        await fill(pilot, "member_id", "w123 456")
        await fill(pilot, "group_number", "G77")
        await fill(pilot, "effective_from", "2026-01-01")
        await fill(pilot, "copay", "20.00")
        await fill(pilot, "coinsurance", "20")
        await fill(pilot, "deductible", "100.00")
        await fill(pilot, "deductible_remaining", "50.00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        cov = office.db.read(
            lambda s: s.scalars(sa.select(Coverage).where(Coverage.client_id == b.smith)).one()
        )
        assert (cov.payer_id, cov.member_id, cov.group_number) == (b.bluewater, "W123 456", "G77")
        assert (cov.copay, cov.coinsurance_bp, cov.deductible, cov.deductible_remaining) == (
            Decimal("20.00"),
            2000,
            Decimal("100.00"),
            Decimal("50.00"),
        )
        assert "eligibility has never been checked" in screen_text(app)

        # Record an eligibility check (today, eligible).
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, EligibilityForm)
        await fill(pilot, "covered_services", "office visits, vaccines")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        check = office.db.read(
            lambda s: s.scalars(
                sa.select(EligibilityCheck).where(EligibilityCheck.coverage_id == cov.id)
            ).one()
        )
        assert check.checked_on == dt.date(2026, 11, 16) and check.result.value == "eligible"
        assert check.checked_by == office.clerk.user_id
        assert "WARNING" not in screen_text(app)

        # Record two services: the code picked from the type-ahead list, then typed.
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ServiceForm)
        await pilot.press(*"g04")
        codes = app.screen.query_one("#code-list", OptionList)
        await wait_until(pilot, lambda: codes.option_count == 1, "the codes starting with g04")
        assert [codes.get_option_at_index(i).id for i in range(codes.option_count)] == ["G0439"]
        await pilot.press("down", "enter")
        assert app.screen.query_one("#input-code", Input).value == "G0439"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"G0008")
        await fill(pilot, "units", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen)
        svcs = office.db.read(
            lambda s: [
                (r.code.code, r.units, r.service_date, r.billed)
                for r in s.scalars(
                    sa.select(ServiceRendered)
                    .where(ServiceRendered.client_id == b.smith)
                    .order_by(ServiceRendered.id)
                )
            ]
        )
        assert svcs == [
            ("G0439", 1, dt.date(2026, 11, 16), False),
            ("G0008", 2, dt.date(2026, 11, 16), False),
        ]
        assert "0 open bills · 2 unbilled" in screen_text(app)

        # Build: an invoice to Bluewater (its codes and allowed amounts) and a statement.
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)
        assert "Unbilled services (2)" in screen_text(app)
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        assert "Invoice to Bluewater Health Plan (member W123 456)" in text
        assert "total $56.00 · will be INV-000001, issued 2026-11-16, due 2026-12-16 (30 days)" in text
        assert "Statement to Smith, John" in text and "total $84.00 · will be INV-000002" in text
        assert (
            "1 | 2026-11-16 | BW-0439 | Annual wellness visit, subsequent | 1 | $100.00 | $100.00 | $24.00"
            in text
        )
        assert (
            "2 | 2026-11-16 | BW-0008 | Administration of influenza virus vacci… | 2 | $20.00 | $40.00 | $32.00"
            in text
        )
        assert "all checks pass: i issues them" in text
        drafts = office.db.read(
            lambda s: [
                (i.status, i.total)
                for i in s.scalars(
                    sa.select(Invoice).where(Invoice.client_id == b.smith).order_by(Invoice.id)
                )
            ]
        )
        assert drafts == [(InvoiceStatus.DRAFT, Decimal("56.00")), (InvoiceStatus.DRAFT, Decimal("84.00"))]
        assert count(office, ServiceRendered, ServiceRendered.billed.is_(True)) == 2

        # Issue after the confirmation that states numbers, parties, totals and due dates.
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        confirm = screen_text(app)
        assert "INV-000001  Invoice to Bluewater Health Plan (member W123 456)" in confirm
        assert "total $56.00 · due 2026-12-16 (30 days)" in confirm
        assert "INV-000002  Statement to Smith, John" in confirm
        assert "total $84.00 · due 2026-12-16 (30 days)" in confirm
        assert "Together $140.00" in confirm
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)
        issued = office.db.read(
            lambda s: [
                (i.number, i.kind.value, i.status, i.total, i.issue_date, i.due_date, i.payer_id)
                for i in s.scalars(
                    sa.select(Invoice).where(Invoice.client_id == b.smith).order_by(Invoice.id)
                )
            ]
        )
        due = dt.date(2026, 12, 16)
        today = dt.date(2026, 11, 16)
        assert issued == [
            ("INV-000001", "invoice", InvoiceStatus.ISSUED, Decimal("56.00"), today, due, b.bluewater),
            ("INV-000002", "statement", InvoiceStatus.ISSUED, Decimal("84.00"), today, due, None),
        ]
        remaining = office.db.read(lambda s: s.get(Coverage, cov.id).deductible_remaining)
        assert remaining == Decimal("0.00")  # the 50.00 left was used by line 1
        assert "Issued just now" in screen_text(app)

        # Open the invoice to Bluewater: the Explain panel shows the split of line 1.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        text = screen_text(app)
        assert "Invoice INV-000001" in text and "to Bluewater Health Plan (member W123 456)" in text
        assert "Total $56.00 · paid $0.00 · balance $56.00" in text
        for step in (
            "1 × $100.00 (Bluewater Health Plan allowed) | $100.00",
            "Copay for the visit (Bluewater Health Plan) | $20.00",
            "Deductible ($50.00 remained) | $50.00",
            "Coinsurance 20% of $30.00 | $6.00",
            "Bluewater Health Plan pays | $24.00",
            "This line bills | $24.00",
        ):
            assert step in text
        await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert "Coinsurance 20% of $40.00 | $8.00" in text and "This line bills | $32.00" in text

        inv_txt, inv_pdf = await print_both(pilot, prints, "INV-000001")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "Statement INV-000002" in screen_text(app)
        st_txt, st_pdf = await print_both(pilot, prints, "INV-000002")

    for path in (inv_txt, inv_pdf, st_txt, st_pdf):
        assert path.is_file() and path.stat().st_size > 0
    assert inv_pdf.read_bytes().startswith(b"%PDF") and st_pdf.read_bytes().startswith(b"%PDF")
    inv_text = inv_txt.read_text(encoding="utf-8")
    st_text = st_txt.read_text(encoding="utf-8")
    # The files are exactly the service's fixed-format rendering...
    clerk = office.clerk
    ids = office.db.read(
        lambda s: s.scalars(
            sa.select(Invoice.id).where(Invoice.client_id == b.smith).order_by(Invoice.id)
        ).all()
    )
    assert inv_text == office.db.read(lambda s: render.render_text(render.draft_document(clerk, s, ids[0])))
    assert st_pdf.read_bytes() == office.db.read(
        lambda s: render.render_pdf(render.draft_document(clerk, s, ids[1]))
    )
    # ...and say the right things.
    assert "INVOICE" in inv_text and "INV-000001" in inv_text and "Bluewater Health Plan" in inv_text
    assert "BW-0439" in inv_text and "BW-0008" in inv_text and "Member id:" in inv_text
    assert "Total due:" in inv_text and "$56.00" in inv_text and "2026-12-16" in inv_text
    assert "STATEMENT" in st_text and "John Smith" in st_text and "$84.00" in st_text
    assert "G0439" in st_text and "$76.00" in st_text and "$8.00" in st_text
    assert all(len(line) <= 80 for line in inv_text.splitlines() + st_text.splitlines())


async def test_clerk_is_refused_the_eligibility_override_and_the_void(office: Office) -> None:
    b = make_billing(office)
    add_services(office, office.clerk, b.brackets, ("G0008", 1))
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceBuilderScreen(b.brackets))
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        assert "BLOCKS ISSUE" in text and "eligibility check is stale" in text
        assert "A supervisor must override this check, or record a fresh check with v." in text
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)
        assert "Only a supervisor can override an eligibility check" in notes(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)  # no confirmation: refused before
        assert "Cannot issue yet: 1 problem blocks the issue" in notes(app)
        # Even pushed directly, the override dialog refuses a clerk.
        app.push_screen(EligibilityOverrideDialog(1, "Bluewater"))
        await settle(pilot)
        assert not isinstance(app.screen, EligibilityOverrideDialog)
    assert count(office, EligibilityOverride) == 0
    assert count(office, Invoice, Invoice.status != InvoiceStatus.DRAFT) == 0

    # A supervisor overrides with a reason from the builder, then issues.
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceBuilderScreen(b.brackets))
        await settle(pilot)
        assert "o: override it (with a reason)" in screen_text(app)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, EligibilityOverrideDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Reason is required" in screen_text(app)
        assert count(office, EligibilityOverride) == 0
        await pilot.press(*"Payer portal down; eligible by phone")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceBuilderScreen)
        assert "all checks pass" in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
    ov = office.db.read(lambda s: s.scalars(sa.select(EligibilityOverride)).one())
    assert ov.reason == "Payer portal down; eligible by phone" and ov.granted_by == office.sup.user_id
    assert ov.valid_until == dt.date(2026, 11, 16)
    inv_id = office.db.read(lambda s: s.scalar(sa.select(Invoice.id).where(Invoice.number == "INV-000001")))

    # The clerk cannot void it; the supervisor can, with a reason and a confirmation.
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceViewScreen(inv_id))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "Only a supervisor can void an invoice" in notes(app)
        app.push_screen(VoidDialog(app.screen.view))
        await settle(pilot)
        assert not isinstance(app.screen, VoidDialog)
    assert office.db.read(lambda s: s.get(Invoice, inv_id).status) == InvoiceStatus.ISSUED

    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceViewScreen(inv_id))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, VoidDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Reason is required" in screen_text(app)
        await pilot.press(*"Billed to the wrong payer")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "becomes VOID. It keeps its number and nothing is owed on it" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert office.db.read(lambda s: s.get(Invoice, inv_id).status) == InvoiceStatus.ISSUED
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceViewScreen)
        assert "VOID" in screen_text(app) and "Billed to the wrong payer" in screen_text(app)
    inv = office.db.read(lambda s: s.get(Invoice, inv_id))
    assert inv.status == InvoiceStatus.VOID and inv.number == "INV-000001"
    assert inv.void_reason == "Billed to the wrong payer"


async def test_a_client_named_in_brackets_displays_literally(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("g", "c")
        await settle(pilot)
        await pilot.press(*"[Smi")
        await wait_for_list(pilot, "[Smi")
        table = app.screen.query_one("#clients DataTable", DataTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["[Smith], Alex"]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ClientAccountScreen) and app.screen.client_id == b.brackets
        head = str(app.screen.query_one("#acct-head").render())
        assert head.startswith("A000002  [Smith], Alex  [active]")
        # The stale check is a warning in words (readable without colour).
        warn = str(app.screen.query_one("#acct-warnings").render())
        assert (
            "WARNING" in warn and "eligibility check is stale: last checked 2026-09-01, 76 days ago" in warn
        )
        assert "STALE (76 days)" in head


async def test_search_by_account_phone_and_member_id_and_paging_keys(office: Office) -> None:
    b = make_billing(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ClientSearchScreen())
        await settle(pilot)
        table = app.screen.query_one("#clients DataTable", DataTable)
        assert table.row_count == 6  # everyone, by name
        for query, expected, how in (
            ("A000001", "Smith, John", "by account number"),
            ("413-555-0142", "Smith, John", "by phone number"),
            ("bw9", "[Smith], Alex", "by insurance member id"),
            ("smith", "Smith, John", "by name"),
        ):
            box = app.screen.query_one("#clients Input", Input)
            box.value = ""
            box.focus()
            await pilot.press(*query)
            await wait_for_list(pilot, query)
            assert str(table.get_row_at(0)[1]) == expected, query
            assert how in screen_text(app)
        # Escape empties the search box first; a second Escape leaves the screen.
        await pilot.press("escape")
        await wait_for_list(pilot, "")
        assert app.screen.query_one("#clients Input", Input).value == ""
        assert isinstance(app.screen, ClientSearchScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ClientSearchScreen)
    assert b.smith == 1
