"""``clerkdesk payer …``: payers and their code crosswalk (what each payer calls a standard code,
and the amount it allows per unit). Reading is for everyone; changing needs a supervisor."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from typing import Any

import click
from sqlalchemy.orm import Session

from billing import catalog
from db.money import fmt_money
from tui.cli import Ctx, errors_as_exit, pass_ctx

FORMATS = click.Choice(["text", "csv", "json"])


def _emit(fmt: str, heads: list[str], rows: list[list[Any]]) -> None:
    if fmt == "json":
        click.echo(json.dumps([dict(zip(heads, r, strict=True)) for r in rows], indent=2))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(heads)
        w.writerows(rows)
    else:
        from tabulate import tabulate

        click.echo(tabulate(rows, headers=heads, disable_numparse=True) if rows else "(none)")


def _amount(v: Decimal | None) -> str:
    return "" if v is None else str(v)


@click.group("payer")
def payer_group() -> None:
    """Payers and their code crosswalk."""


@payer_group.command("list")
@click.option("--inactive", is_flag=True, help="Include payers no longer in use.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@pass_ctx
def payer_list(c: Ctx, inactive: bool, fmt: str) -> None:
    """Payers by kind and name, with how many codes each maps."""
    db = c.database()
    actor = c.actor(db)
    with errors_as_exit():
        payers = db.read(lambda s: catalog.list_payers(actor, s, include_inactive=inactive))
    heads = ["name", "kind", "terms_days", "crosswalk_entries", "active"]
    _emit(fmt, heads, [[p.name, p.kind.value, p.terms_days, p.crosswalk_entries, p.active] for p in payers])


@payer_group.command("codes")
@click.argument("payer")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@pass_ctx
def payer_codes(c: Ctx, payer: str, fmt: str) -> None:
    """PAYER's crosswalk: standard code, the payer's code, catalog fee, allowed amount."""
    db = c.database()
    actor = c.actor(db)

    def go(s: Session) -> tuple[catalog.CrosswalkEntry, ...]:
        return catalog.list_crosswalk(actor, s, catalog.find_payer(s, payer).id)

    with errors_as_exit():
        entries = db.read(go)
    heads = ["code", "payer_code", "description", "fee", "allowed_amount"]
    rows = [
        [e.code, e.payer_code, e.description, str(e.fee), _amount(e.allowed_amount)]
        if fmt != "text"
        else [
            e.code,
            e.payer_code,
            e.description,
            fmt_money(e.fee),
            "" if e.allowed_amount is None else fmt_money(e.allowed_amount),
        ]
        for e in entries
    ]
    _emit(fmt, heads, rows)


@payer_group.command("map")
@click.argument("payer")
@click.argument("code")
@click.option("--as", "payer_code", metavar="THEIR_CODE", help="The payer's own code (default: the same).")
@click.option("--allowed", metavar="AMOUNT", help="The payer's allowed amount per unit (default: the fee).")
@pass_ctx
def payer_map(c: Ctx, payer: str, code: str, payer_code: str | None, allowed: str | None) -> None:
    """Set what PAYER calls standard CODE, and optionally its allowed amount (supervisor)."""
    db = c.database()
    actor = c.actor(db)

    def go(s: Session) -> catalog.CrosswalkEntry:
        p = catalog.find_payer(s, payer)
        return catalog.set_crosswalk(actor, s, p.id, code, payer_code=payer_code, allowed_amount=allowed)

    with errors_as_exit():
        e = db.write(go)
    price = "the catalog fee" if e.allowed_amount is None else f"{fmt_money(e.allowed_amount)} a unit"
    click.echo(f"{payer}: {e.code} is billed as {e.payer_code} at {price}")


@payer_group.command("unmap")
@click.argument("payer")
@click.argument("code")
@pass_ctx
def payer_unmap(c: Ctx, payer: str, code: str) -> None:
    """Remove PAYER's entry for CODE (issued invoices keep what they were billed with)."""
    db = c.database()
    actor = c.actor(db)

    def go(s: Session) -> None:
        catalog.remove_crosswalk(actor, s, catalog.find_payer(s, payer).id, code)

    with errors_as_exit():
        db.write(go)
    click.echo(f"{payer}: no entry for {code.strip().upper()} any more")
