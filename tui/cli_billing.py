"""``clerkdesk import …`` and ``clerkdesk invoice …``: CSV imports, invoice lists and printing.

Imports validate the whole file first: bad rows are listed one per line on stderr with their
line numbers and nothing is imported (exit 2), unless ``--skip-bad``. Invoice lists stream
page by page (keyset), so listing two million invoices does not load them into memory.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from billing import imports, invoices, render
from billing.clients import find_client
from db.enums import InvoiceKind, InvoiceStatus
from db.money import fmt_money
from db.rights import Actor
from db.settings import get_setting
from tui.cli import EXIT_USAGE, Ctx, errors_as_exit, fail, pass_ctx
from tui.exports import ExportError, cli_target, write_new

LIST_COLUMNS = (
    "number",
    "kind",
    "status",
    "account",
    "client",
    "bill_to",
    "issued",
    "due",
    "total",
    "balance",
)


# --------------------------------------------------------------------------- import


@click.group("import")
def import_group() -> None:
    """Import service codes or clients from a CSV file (all or nothing unless --skip-bad)."""


def _run_import(c: Ctx, what: str, file: Path, skip_bad: bool) -> None:
    if not file.exists():
        fail(f"no file {file}", EXIT_USAGE)
    if not file.is_file():
        fail(f"{file} is not a file", EXIT_USAGE)
    fn = imports.import_codes if what == "codes" else imports.import_clients
    db = c.database()
    actor = c.actor(db)
    with errors_as_exit():
        try:
            report = db.write(lambda s: fn(actor, s, file, skip_bad=skip_bad))
        except imports.ImportRefused as e:
            for bad in e.bad_rows:
                click.echo(f"{file}: {bad}", err=True)
            fail(
                f"{len(e.bad_rows)} bad rows in {file}; nothing imported (fix them, or use --skip-bad)",
                EXIT_USAGE,
            )
    for bad in report.skipped:
        click.echo(f"{file}: skipped {bad}", err=True)
    click.echo(report.summary)


@import_group.command("codes")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones.")
@pass_ctx
def import_codes(c: Ctx, file: Path, skip_bad: bool) -> None:
    """Upsert the service code catalog from FILE (columns: code,description,fee[,active])."""
    _run_import(c, "codes", file, skip_bad)


@import_group.command("clients")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones.")
@pass_ctx
def import_clients(c: Ctx, file: Path, skip_bad: bool) -> None:
    """Upsert clients from FILE (by account_number, else by name and date of birth).

    Columns: account_number, first_name, last_name, date_of_birth (YYYY-MM-DD), address_line1,
    address_line2, city, region, postal_code, phone, email, preferred_channel, language, notes,
    special_concerns, owner (a staff login). first_name and last_name are required.
    """
    _run_import(c, "clients", file, skip_bad)


# --------------------------------------------------------------------------- invoice


@click.group("invoice")
def invoice_group() -> None:
    """List and print invoices, statements and credit notes."""


def _cells(r: invoices.InvoiceRow, symbol: str) -> list[str]:
    return [
        r.number or f"draft #{r.id}",
        r.kind.value,
        r.status.value,
        r.account_number,
        r.client_name,
        r.bill_to_name,
        r.issue_date.isoformat() if r.issue_date else "",
        r.due_date.isoformat() if r.due_date else "",
        fmt_money(r.total, symbol),
        fmt_money(r.balance, symbol),
    ]


@invoice_group.command("list")
@click.option("--client", "account", metavar="ACCOUNT", help="Only this client's invoices.")
@click.option("--status", type=click.Choice([s.value for s in InvoiceStatus]), default=None)
@click.option("--kind", type=click.Choice([k.value for k in InvoiceKind]), default=None)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
@pass_ctx
def invoice_list(c: Ctx, account: str | None, status: str | None, kind: str | None, fmt: str) -> None:
    """List invoices oldest first, streamed a page at a time (text, CSV or JSON)."""
    db = c.database()
    actor = c.actor(db)

    def go(s: Session) -> int:
        client_id = find_client(s, account).id if account else None
        symbol = str(get_setting(s, "office.currency_symbol"))
        rows = invoices.iter_invoices(actor, s, client_id=client_id, status=status, kind=kind)
        out = sys.stdout  # written as rows arrive: nothing is held in memory
        count = 0
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(LIST_COLUMNS)
            for r in rows:
                # Plain numbers (no currency sign, no thousands separator) for spreadsheets.
                writer.writerow([*_cells(r, "")[:8], f"{r.total:.2f}", f"{r.balance:.2f}"])
                count += 1
        elif fmt == "json":
            out.write("[")
            for r in rows:
                item: dict[str, Any] = {
                    "id": r.id,
                    "number": r.number,
                    "kind": r.kind.value,
                    "status": r.status.value,
                    "account": r.account_number,
                    "client": r.client_name,
                    "bill_to": r.bill_to_name,
                    "issue_date": r.issue_date.isoformat() if r.issue_date else None,
                    "due_date": r.due_date.isoformat() if r.due_date else None,
                    "total": f"{r.total:.2f}",
                    "balance": f"{r.balance:.2f}",
                    "dispute_hold": r.dispute_hold,
                }
                out.write(("," if count else "") + "\n  " + json.dumps(item, ensure_ascii=False))
                count += 1
            out.write("\n]\n" if count else "]\n")
        else:
            widths = (10, 11, 14, 7, 18, 18, 10, 10, 11, 11)
            head = (
                "Number",
                "Kind",
                "Status",
                "Account",
                "Client",
                "Bill to",
                "Issued",
                "Due",
                "Total",
                "Balance",
            )

            def line(cells: list[str] | tuple[str, ...]) -> str:
                return " ".join(
                    render.pad(v, w, right=i >= 8) for i, (v, w) in enumerate(zip(cells, widths, strict=True))
                ).rstrip()

            out.write(line(head) + "\n")
            out.write(" ".join("-" * w for w in widths) + "\n")
            for r in rows:
                out.write(line(_cells(r, symbol)) + "\n")
                count += 1
            out.write(f"{count} invoice{'s' if count != 1 else ''}\n")
        return count

    with errors_as_exit():
        db.read(go)


@invoice_group.command("print")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "pdf"]), default="text", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: text to standard output).",
)
@pass_ctx
def invoice_print(c: Ctx, number: str, fmt: str, out: Path | None) -> None:
    """Print invoice, statement or credit note NUMBER as fixed 80-column text or PDF."""
    if out is not None:
        try:
            out = cli_target(out)
        except ExportError as e:
            fail(str(e), EXIT_USAGE)
    if fmt == "pdf" and out is None and sys.stdout.isatty():
        fail("a PDF goes to a file: add --out FILE.pdf (or redirect standard output)", EXIT_USAGE)

    def go(actor: Actor, s: Session) -> str | bytes:
        if fmt == "pdf":
            return render.print_pdf(actor, s, number)
        return render.print_text(actor, s, number)

    data = c.read(go)
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)  # click.get_binary_stream is deprecated (gone in Click 9)
        else:
            click.echo(data, nl=False)
        return
    try:
        write_new(out, data)  # a new 0600 file, whole or not at all (tui/exports.py)
    except ExportError as e:
        fail(str(e), EXIT_USAGE)
    click.echo(f"wrote {number.strip().upper()} ({fmt}) to {out}")
