"""Printing: the exact 80-column text, and a deterministic PDF with the same content."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from billing import invoices, render
from db.settings import put_setting
from tests.billing.billing_setup import World, make_world
from tests.conftest import Office

EXPECTED_INVOICE = """\
Riverside Billing Services                                               INVOICE
120 Harbor Street, Suite 4, Springfield, MA 01103                     INV-000001
(413) 555-0142
================================================================================
Bill to:                                Number:        INV-000001
Acme Health                             Issue date:    2026-11-16
1 Main St                               Due date:      2026-12-16
Hartford, CT 06101                      Account:       A000001
                                        Client:        García, Ana
                                        Date of birth: 1980-01-02
                                        Member id:     W123
--------------------------------------------------------------------------------
Date       Code       Description              Units       Charge       Amount
---------- ---------- ------------------------ ----- ------------ ------------
2026-11-09 FLU-ADM    Administration of            2       $80.00       $40.00
                      influenza virus vaccine
2026-11-10 E0114      Crutches, underarm,          1       $60.00       $40.00
                      other than wood, pair
--------------------------------------------------------------------------------
                                                       Total due:       $80.00

Please pay $80.00 by 2026-12-16.
How to pay: Check payable to the office; card or bank transfer by phone.
Please quote INV-000001 and account A000001 with your payment.
"""

EXPECTED_STATEMENT = """\
Riverside Billing Services                                             STATEMENT
120 Harbor Street, Suite 4, Springfield, MA 01103                     INV-000002
(413) 555-0142
================================================================================
Bill to:                                Number:        INV-000002
Ana García                              Issue date:    2026-11-16
5 Elm St                                Due date:      2026-12-16
Springfield, MA 01103                   Account:       A000001
--------------------------------------------------------------------------------
Date       Code       Description              Units       Charge       Amount
---------- ---------- ------------------------ ----- ------------ ------------
2026-11-09 G0008      Administration of            2       $80.00       $40.00
                      influenza virus vaccine
2026-11-10 E0114      Crutches, underarm,          1       $60.00       $20.00
                      other than wood, pair
--------------------------------------------------------------------------------
                                                       Total due:       $60.00

Charge is the price of the service; Amount is your share after insurance.
Please pay $60.00 by 2026-12-16.
How to pay: Check payable to the office; card or bank transfer by phone.
Please quote INV-000002 and account A000001 with your payment.
"""


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


def issued(w: World) -> tuple[invoices.InvoiceView, ...]:
    w.db.write(lambda s: put_setting(s, "office.name", "Riverside Billing Services"))
    w.db.write(
        lambda s: put_setting(s, "office.address", "120 Harbor Street, Suite 4, Springfield, MA 01103")
    )
    w.db.write(lambda s: put_setting(s, "office.phone", "(413) 555-0142"))
    w.service("G0008", units=2, day=dt.date(2026, 11, 9))
    w.service("E0114", day=dt.date(2026, 11, 10))
    drafts = w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, w.client)).drafts
    return w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [d.id for d in drafts]))


def test_text_invoice_and_statement_exactly(world: World) -> None:
    issued(world)
    text = world.r(world.clerk, lambda a, s: render.print_text(a, s, "INV-000001"))
    assert text == EXPECTED_INVOICE
    assert world.r(world.clerk, lambda a, s: render.print_text(a, s, "inv-000002")) == EXPECTED_STATEMENT
    assert max(len(line) for line in (EXPECTED_INVOICE + EXPECTED_STATEMENT).splitlines()) <= 80


def test_printed_total_is_the_sum_of_printed_lines(world: World) -> None:
    issued(world)
    for number in ("INV-000001", "INV-000002"):
        text = world.r(world.clerk, lambda a, s, n=number: render.print_text(a, s, n))
        amounts = [
            D(m.group(1).replace(",", ""))
            for m in re.finditer(r"^\d{4}-\d\d-\d\d .* \$([\d,]+\.\d\d)$", text, re.M)
        ]
        total = D(re.search(r"Total due: +\$([\d,.]+)", text).group(1))  # type: ignore[union-attr]
        assert amounts and sum(amounts) == total


def test_credit_note_and_void_print_what_they_are(world: World) -> None:
    acme, stmt = issued(world)
    world.w(
        world.clerk,
        lambda a, s: invoices.credit_invoice(a, s, stmt.id, reason="Copay paid at the desk", lines={1: "10"}),
    )
    text = world.r(world.clerk, lambda a, s: render.print_text(a, s, "CN-000001"))
    assert "CREDIT NOTE" in text.splitlines()[0]
    assert "Credits:       INV-000002" in text
    assert "2026-11-09 G0008      Administration of            2      -$80.00      -$10.00" in text
    assert "Total credit:      -$10.00" in text and "Credited: Copay paid at the desk" in text
    after = world.r(world.clerk, lambda a, s: render.print_text(a, s, "INV-000002"))
    assert "Credits and adjustments:      -$10.00" in after and "Balance due:       $50.00" in after
    world.w(world.sup, lambda a, s: invoices.void_invoice(a, s, acme.id, reason="Wrong payer"))
    void = world.r(world.clerk, lambda a, s: render.print_text(a, s, "INV-000001"))
    assert void.splitlines()[0].endswith("INVOICE (VOID)")
    assert "VOID: Wrong payer. Nothing is owed on this document." in void


def _pdf_text(data: bytes) -> str:
    """The text a PDF reader extracts (through the embedded font's ToUnicode map)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_is_deterministic_and_carries_the_same_content(world: World) -> None:
    issued(world)
    one = world.r(world.clerk, lambda a, s: render.print_pdf(a, s, "INV-000001"))
    two = world.r(world.clerk, lambda a, s: render.print_pdf(a, s, "INV-000001"))
    assert one.startswith(b"%PDF-") and one.rstrip().endswith(b"%%EOF")
    assert one == two
    assert b"/CreationDate (D:20261116150000Z" in one or b"/CreationDate (D:20261116150000+00'00'" in one
    assert b"DejaVu" in one  # the font is embedded, not a core font
    drawn = _pdf_text(one)
    doc = world.r(world.clerk, lambda a, s: render.invoice_document(a, s, "INV-000001"))
    for piece in (
        doc.title,
        doc.number,
        *doc.office,
        *doc.bill_to,
        "Total due:",
        "$80.00",
        "$40.00",
        "FLU-ADM",
    ):
        assert piece in drawn, piece
    assert "Garc\xeda, Ana" in drawn


def test_drawable_keeps_what_the_font_has_and_folds_the_rest() -> None:
    for name in ("Nguyễn Thị Hương", "Đặng", "Müller-Lüdenscheidt", "Åsa Ærøskøbing", "Παπαδόπουλος"):
        assert render.drawable(name) == name
    assert render.drawable("王伟 García") == "?? García"  # no CJK in DejaVu Sans
    assert render.drawable("a\x00b\x1bc") == "abc"


def test_pdf_prints_names_with_diacritics_exactly(world: World) -> None:
    numbers = []
    for first, last in (
        ("Hương", "Nguyễn"),
        ("Jürgen", "Groß"),
        ("Åsa", "Sjöström"),
        ("Νίκος", "Παπαδόπουλος"),
    ):
        c = world.new_client(first, last)
        world.service("E0114", client=c)
        (stmt,) = world.w(world.clerk, lambda a, s, c=c: invoices.build_invoices(a, s, c)).drafts
        number = world.w(world.clerk, lambda a, s, i=stmt.id: invoices.issue_invoice(a, s, i)).number
        assert number is not None
        numbers.append((f"{first} {last}", number))
    for name, number in numbers:
        assert name in _pdf_text(world.r(world.clerk, lambda a, s, n=number: render.print_pdf(a, s, n)))
        assert name in world.r(world.clerk, lambda a, s, n=number: render.print_text(a, s, n))


def test_a_settled_document_says_nothing_is_due(world: World) -> None:
    acme, _ = issued(world)
    world.w(world.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="Billed in error"))
    text = world.r(world.clerk, lambda a, s: render.print_text(a, s, "INV-000001"))
    assert "Balance due:        $0.00" in text
    assert text.endswith("Nothing is due on this document. Thank you.\n")
