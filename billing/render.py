"""Printing an invoice, statement or credit note: fixed 80-column text and a PDF (docs/billing.md).

Both come from one ``PrintDoc`` (every string already laid out: descriptions wrapped, money
formatted), so the text and the PDF carry the same content; the printed total is the sum of
the printed line amounts, because both are the stored cents.

The PDF embeds DejaVu Sans (packaged in ``billing/fonts``, subset into each file), so Latin,
Greek, Cyrillic and Vietnamese names print exactly (``Nguyễn``, ``Ærøskøbing``, ``Παπαδόπουλος``);
a character the font lacks (CJK, say) is folded to its base letter or printed as ``?``. fpdf is
imported only when a PDF is written. It is deterministic: its
creation date is the document's issue instant (a fixed date for drafts) and the producer is
fixed, so the same invoice always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from billing.catalog import setting
from billing.invoices import find_invoice, get_invoice_row, invoice_view
from db.errors import NotFound
from db.models import BillTo, Client, Invoice, InvoiceKind, InvoiceStatus, Payer
from db.money import fmt_money
from db.rights import Action, Actor, require

WIDTH = 80
# Line table: date, code, description, units, charge, amount (+ 5 single spaces = 78 columns).
COLS = (10, 10, 24, 5, 12, 12)
HEADS = ("Date", "Code", "Description", "Units", "Charge", "Amount")
DRAFT_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class PrintRow:
    """One table row; ``code`` and ``description`` may run over several physical lines."""

    date: str
    code: tuple[str, ...]
    description: tuple[str, ...]
    units: str
    charge: str
    amount: str

    @property
    def height(self) -> int:
        return max(len(self.code), len(self.description), 1)


@dataclass(frozen=True)
class PrintDoc:
    title: str  # INVOICE, STATEMENT, CREDIT NOTE (DRAFT …, … (VOID))
    number: str
    office: tuple[str, ...]  # name, address, phone
    bill_to: tuple[str, ...]  # party and address
    facts: tuple[tuple[str, str], ...]  # (label, value) beside the bill-to block
    rows: tuple[PrintRow, ...]
    totals: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    created: dt.datetime  # fixed: the issue instant (PDF metadata)


# --------------------------------------------------------------------------- building the document


def _width(text: str) -> int:
    return sum(
        2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text
    )


def fit(text: str, width: int) -> str:
    """Cut to ``width`` display columns (wide CJK characters count two), marking a cut with '~'."""
    if _width(text) <= width:
        return text
    out = ""
    for c in text:
        if _width(out + c) > width - 1:
            break
        out += c
    return out + "~"


def pad(text: str, width: int, *, right: bool = False) -> str:
    text = fit(text, width)
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _wrap(text: str, width: int) -> tuple[str, ...]:
    lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
    return tuple(lines) or ("",)


BILL_TO_WIDTH = 38


def _address(text: str) -> list[str]:
    """A payer's free-text address as lines: its own line breaks, else the street before the
    first comma and "City, ST ZIP" after it."""
    text = text.strip()
    if not text:
        return []
    if "\n" in text:
        return [line.strip() for line in text.splitlines() if line.strip()]
    street, _, rest = text.partition(",")
    return [part for part in (street.strip(), rest.strip()) if part]


def _client_address(c: Client) -> list[str]:
    city = " ".join(p for p in (f"{c.city}," if c.city else "", c.region, c.postal_code) if p).strip(" ,")
    return [line for line in (c.address_line1, c.address_line2, city) if line]


def build_document(session: Session, inv: Invoice) -> PrintDoc:
    view = invoice_view(session, inv)
    client = session.get(Client, inv.client_id)
    assert client is not None
    symbol = str(setting(session, "office.currency_symbol"))

    def money(v: Decimal) -> str:
        return fmt_money(v, symbol)

    office = tuple(
        line
        for line in (
            str(setting(session, "office.name")),
            str(setting(session, "office.address")),
            str(setting(session, "office.phone")),
        )
        if line
    )
    title = {
        InvoiceKind.INVOICE: "INVOICE",
        InvoiceKind.STATEMENT: "STATEMENT",
        InvoiceKind.CREDIT_NOTE: "CREDIT NOTE",
        InvoiceKind.FEE: "INVOICE",
    }[inv.kind]
    if inv.status == InvoiceStatus.DRAFT:
        title = f"DRAFT {title}"
    elif inv.status == InvoiceStatus.VOID:
        title = f"{title} (VOID)"
    number = inv.number or f"draft #{inv.id}"

    if inv.bill_to == BillTo.PAYER:
        payer = session.get(Payer, inv.payer_id)
        assert payer is not None
        bill_to = [payer.name, *_address(payer.address)]
        if payer.payer_ref:
            bill_to.append(f"Payer id: {payer.payer_ref}")
    else:
        bill_to = [f"{client.first_name} {client.last_name}".strip(), *_client_address(client)]

    bill_to = [piece for line in bill_to for piece in _wrap(line, BILL_TO_WIDTH)]

    facts: list[tuple[str, str]] = [("Number", number)]
    if inv.issue_date:
        facts.append(("Issue date", inv.issue_date.isoformat()))
    if inv.due_date and inv.kind != InvoiceKind.CREDIT_NOTE:
        facts.append(("Due date", inv.due_date.isoformat()))
    facts.append(("Account", client.account_number))
    if inv.bill_to == BillTo.PAYER:
        facts.append(("Client", client.display_name))
        facts.append(("Date of birth", client.date_of_birth.isoformat() if client.date_of_birth else ""))
        facts.append(("Member id", view.member_id))
    if inv.credits_invoice_id:
        orig = get_invoice_row(session, inv.credits_invoice_id)
        facts.append(("Credits", orig.number or ""))

    rows = tuple(
        PrintRow(
            date=ln.service_date.isoformat() if ln.service_date else "",
            code=_wrap(ln.code, COLS[1]),
            description=_wrap(ln.description, COLS[2]),
            units=str(ln.units),
            charge=money(ln.charge if inv.kind != InvoiceKind.CREDIT_NOTE else -ln.charge),
            amount=money(ln.amount),
        )
        for ln in view.lines
    )
    total_label = "Total credit" if inv.kind == InvoiceKind.CREDIT_NOTE else "Total"
    totals: list[tuple[str, str]] = [(total_label, money(view.total))]
    if view.amount_paid or view.amount_adjusted:
        if view.amount_paid:
            totals.append(("Paid", money(-view.amount_paid)))
        if view.amount_adjusted:
            totals.append(("Credits and adjustments", money(-view.amount_adjusted)))
        totals.append(("Balance due", money(view.balance)))
    elif inv.kind != InvoiceKind.CREDIT_NOTE:
        totals[0] = ("Total due", totals[0][1])

    notes: list[str] = []
    if inv.status == InvoiceStatus.VOID:
        notes.append(f"VOID: {inv.void_reason}. Nothing is owed on this document.")
    elif inv.kind == InvoiceKind.CREDIT_NOTE:
        reasons = sorted({s.label for ln in view.lines for s in ln.explain if s.key == "credit.amount"})
        notes.append("This credit note reduces what is owed on the invoice it credits.")
        notes.extend(reasons)
    else:
        if inv.kind == InvoiceKind.STATEMENT:
            notes.append("Charge is the price of the service; Amount is your share after insurance.")
        if inv.status != InvoiceStatus.DRAFT and view.balance <= 0:
            notes.append("Nothing is due on this document. Thank you.")
        else:
            if inv.due_date and inv.status != InvoiceStatus.DRAFT:
                notes.append(f"Please pay {money(view.balance)} by {inv.due_date.isoformat()}.")
            notes.append(f"How to pay: {setting(session, 'office.payment_methods')}")
            notes.append(f"Please quote {number} and account {client.account_number} with your payment.")
    created = inv.issued_at.astimezone(dt.UTC) if inv.issued_at else DRAFT_DATE
    return PrintDoc(
        title=title,
        number=number,
        office=office,
        bill_to=tuple(bill_to),
        facts=tuple(facts),
        rows=rows,
        totals=tuple(totals),
        notes=tuple(notes),
        created=created.replace(microsecond=0),
    )


def invoice_document(actor: Actor, session: Session, number: str) -> PrintDoc:
    """The printable document of an invoice, statement or credit note by its number."""
    require(actor, Action.VIEW)
    return build_document(session, find_invoice(session, number))


def draft_document(actor: Actor, session: Session, invoice_id: int) -> PrintDoc:
    require(actor, Action.VIEW)
    inv = get_invoice_row(session, invoice_id)
    if inv is None:
        raise NotFound(f"no invoice with id {invoice_id}")
    return build_document(session, inv)


# --------------------------------------------------------------------------- plain text


def _row_lines(r: PrintRow) -> list[str]:
    out = []
    for i in range(r.height):
        cells = (
            r.date if i == 0 else "",
            r.code[i] if i < len(r.code) else "",
            r.description[i] if i < len(r.description) else "",
            r.units if i == 0 else "",
            r.charge if i == 0 else "",
            r.amount if i == 0 else "",
        )
        out.append(
            " ".join(
                pad(c, w, right=n >= 3) for n, (c, w) in enumerate(zip(cells, COLS, strict=True))
            ).rstrip()
        )
    return out


def render_text(doc: PrintDoc) -> str:
    """80 columns, plain characters, one trailing newline."""
    out: list[str] = []
    head = list(doc.office) or [""]
    right = [doc.title, doc.number]
    for i in range(max(len(head), len(right))):
        left = head[i] if i < len(head) else ""
        r = right[i] if i < len(right) else ""
        out.append((pad(left, WIDTH - 1 - 26) + " " + pad(r, 26, right=True)).rstrip())
    out.append("=" * WIDTH)
    left_w, label_w = BILL_TO_WIDTH, 14
    value_w = WIDTH - left_w - 2 - label_w - 1
    bill = ["Bill to:", *doc.bill_to]
    for i in range(max(len(bill), len(doc.facts))):
        left = bill[i] if i < len(bill) else ""
        fact = doc.facts[i] if i < len(doc.facts) else None
        right_text = f"{pad(fact[0] + ':', label_w)} {fit(fact[1], value_w)}" if fact else ""
        out.append((pad(left, left_w) + "  " + right_text).rstrip())
    out.append("-" * WIDTH)
    out.append(
        " ".join(pad(h, w, right=n >= 3) for n, (h, w) in enumerate(zip(HEADS, COLS, strict=True))).rstrip()
    )
    out.append(" ".join("-" * w for w in COLS))
    for row in doc.rows:
        out.extend(_row_lines(row))
    out.append("-" * WIDTH)
    amount_end = sum(COLS) + len(COLS) - 1
    for label, value in doc.totals:
        out.append(
            pad(f"{label}:", amount_end - COLS[-1] - 1, right=True) + " " + pad(value, COLS[-1], right=True)
        )
    out.append("")
    for note in doc.notes:
        out.extend(textwrap.wrap(note, width=WIDTH) or [""])
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- PDF


FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}


@cache
def _font_chars() -> frozenset[int]:
    """The code points both embedded faces can draw (read once from their cmap tables)."""
    from fontTools.ttLib import TTFont

    faces = [set(TTFont(path, lazy=True).getBestCmap()) for path in FONT_FILES.values()]
    return frozenset(set.intersection(*faces))


def drawable(text: str) -> str:
    """``text`` as the embedded font can draw it: a character it lacks is folded to its base
    letter (NFKD without combining marks) or printed as ``?``; control characters go."""
    chars = _font_chars()
    out = []
    for c in text:
        if ord(c) in chars:
            out.append(c)
            continue
        if unicodedata.category(c) == "Cc":
            continue
        base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
        out.append(base if base and all(ord(b) in chars for b in base) else "?")
    return "".join(out)


def _new_pdf(doc_number: str) -> Any:
    from fpdf import FPDF  # only when a PDF is written (fpdf and fontTools cost ~0.4 s to import)

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", 8)
            self.cell(0, 5, drawable(f"{doc_number} - page {self.page_no()} of {{nb}}"), align="C")

    pdf = _Pdf(orientation="P", unit="mm", format="Letter")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, str(path))
    return pdf


def render_pdf(doc: PrintDoc) -> bytes:
    """A Letter-size PDF with the same content as ``render_text``; same input, same bytes."""
    pdf = _new_pdf(doc.number)
    pdf.set_creation_date(doc.created)
    pdf.set_producer("ClerkDesk")
    pdf.set_creator("ClerkDesk")
    pdf.set_title(drawable(f"{doc.title} {doc.number}"))
    pdf.set_author(drawable(doc.office[0] if doc.office else ""))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    full = pdf.epw

    # Office (left) and title (right).
    pdf.set_font(FONT, "B", 13)
    pdf.cell(full * 0.6, 7, drawable(doc.office[0] if doc.office else ""))
    pdf.cell(full * 0.4, 7, drawable(doc.title), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    rest = list(doc.office[1:])
    right = [doc.number]
    for i in range(max(len(rest), len(right))):
        pdf.cell(full * 0.6, 5, drawable(rest[i] if i < len(rest) else ""))
        pdf.cell(
            full * 0.4,
            5,
            drawable(right[i] if i < len(right) else ""),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + full, pdf.get_y())
    pdf.ln(3)

    # Bill-to block and facts.
    bill = ["Bill to:", *doc.bill_to]
    for i in range(max(len(bill), len(doc.facts))):
        pdf.set_font(FONT, "B" if i == 0 else "", 9)
        pdf.cell(full * 0.5, 5, drawable(bill[i] if i < len(bill) else ""))
        if i < len(doc.facts):
            label, value = doc.facts[i]
            pdf.set_font(FONT, "B", 9)
            pdf.cell(full * 0.18, 5, drawable(label + ":"))
            pdf.set_font(FONT, "", 9)
            pdf.cell(full * 0.32, 5, drawable(value))
        pdf.ln(5)
    pdf.ln(3)

    # Lines.
    widths = [full * w / sum(COLS) for w in COLS]
    aligns = ["L", "L", "L", "R", "R", "R"]

    def header() -> None:
        pdf.set_font(FONT, "B", 9)
        for h, w, a in zip(HEADS, widths, aligns, strict=True):
            pdf.cell(w, 6, h, border="B", align=a)
        pdf.ln(6)
        pdf.set_font(FONT, "", 9)

    header()
    for r in doc.rows:
        if pdf.will_page_break(5 * r.height):
            pdf.add_page()
            header()
        for i in range(r.height):
            cells = (
                r.date if i == 0 else "",
                r.code[i] if i < len(r.code) else "",
                r.description[i] if i < len(r.description) else "",
                r.units if i == 0 else "",
                r.charge if i == 0 else "",
                r.amount if i == 0 else "",
            )
            for c, w, a in zip(cells, widths, aligns, strict=True):
                pdf.cell(w, 5, drawable(c), align=a)
            pdf.ln(5)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + full, pdf.get_y())
    pdf.ln(2)
    for label, value in doc.totals:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(full - widths[-1], 5, drawable(label + ":"), align="R")
        pdf.cell(widths[-1], 5, drawable(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "", 9)
    for note in doc.notes:
        pdf.multi_cell(full, 5, drawable(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def print_text(actor: Actor, session: Session, number: str) -> str:
    return render_text(invoice_document(actor, session, number))


def print_pdf(actor: Actor, session: Session, number: str) -> bytes:
    return render_pdf(invoice_document(actor, session, number))
