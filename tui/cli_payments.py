"""``clerkdesk payment …`` and ``clerkdesk plan …``: post payments, apply credit, plans.

Amounts are typed exactly: more than two decimals, exponents, zero or negative amounts are
refused (exit 2) rather than rounded. ``plan refresh`` is the nightly job that moves plans to
late / defaulted / completed; it is safe to run twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tabulate import tabulate

from billing import ledger, payments, plans
from db.enums import PayerSide, PaymentMethod, PlanInterval
from db.money import fmt_money
from db.rights import Actor
from db.settings import get_setting, office_timezone
from db.timeutil import office_today
from tui.cli import EXIT_FAILED, EXIT_USAGE, Ctx, errors_as_exit, fail, pass_ctx
from tui.exports import ExportError, cli_target, write_new

DATE = click.DateTime(["%Y-%m-%d"])


def _symbol(s: Session) -> str:
    return str(get_setting(s, "office.currency_symbol"))


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


# --------------------------------------------------------------------------- payments


@click.group("payment")
def payment_group() -> None:
    """Post payments and apply account credit."""


@payment_group.command("post")
@click.option("--client", "account", metavar="ACCOUNT", help="The client's account number.")
@click.option(
    "--payer",
    "payer_name",
    metavar="NAME",
    help="The paying payer; with --client the payment goes only to that client's invoices.",
)
@click.option(
    "--amount", required=True, metavar="AMOUNT", help="Exact amount, e.g. 12.34 (at most 2 decimals)."
)
@click.option("--method", type=click.Choice([m.value for m in PaymentMethod]), required=True)
@click.option("--date", "day", type=DATE, default=None, help="Received date YYYY-MM-DD (default today).")
@click.option("--reference", default="", help="Check number or remittance reference.")
@click.option("--key", required=True, help="Idempotency key: posting the same key again records nothing new.")
@click.option(
    "--invoice", "invoice_number", metavar="NUMBER", help="Pay this invoice (default: oldest first)."
)
@pass_ctx
def payment_post(
    c: Ctx,
    account: str | None,
    payer_name: str | None,
    amount: str,
    method: str,
    day: dt.datetime | None,
    reference: str,
    key: str,
    invoice_number: str | None,
) -> None:
    """Post a payment from a client (--client) or a payer (--payer) and allocate it."""
    if not account and not payer_name:
        fail("say who paid: --client ACCOUNT or --payer NAME", EXIT_USAGE)
    with errors_as_exit():
        value = payments.parse_amount(amount)  # before touching the database

    def go(actor: Actor, s: Session) -> str:
        client_id = ledger.resolve_client(s, account) if account else None
        payer_id = ledger.resolve_payer(s, payer_name) if payer_name else None
        invoice_id = ledger.resolve_invoice(s, invoice_number) if invoice_number else None
        received = _day(day) or office_today(office_timezone(s))
        result = payments.post_payment(
            actor,
            s,
            side=PayerSide.PAYER if payer_id is not None else PayerSide.CLIENT,
            client_id=client_id,
            payer_id=payer_id,
            amount=value,
            method=method,
            received_on=received,
            reference=reference,
            idempotency_key=key,
            invoice_id=invoice_id,
        )
        return result.describe(_symbol(s))

    click.echo(c.write(go))


@payment_group.command("apply-credit")
@click.option("--client", "account", metavar="ACCOUNT")
@click.option("--payer", "payer_name", metavar="NAME")
@click.option("--invoice", "invoice_number", metavar="NUMBER", help="Apply only to this invoice.")
@pass_ctx
def payment_apply_credit(
    c: Ctx, account: str | None, payer_name: str | None, invoice_number: str | None
) -> None:
    """Apply a client's or payer's account credit to open invoices, oldest first."""
    if not account and not payer_name:
        fail("say whose credit: --client ACCOUNT or --payer NAME", EXIT_USAGE)

    def go(actor: Actor, s: Session) -> str:
        client_id = ledger.resolve_client(s, account) if account else None
        payer_id = ledger.resolve_payer(s, payer_name) if payer_name else None
        invoice_id = ledger.resolve_invoice(s, invoice_number) if invoice_number else None
        r = payments.apply_credit(
            actor,
            s,
            side=PayerSide.PAYER if payer_id is not None else PayerSide.CLIENT,
            client_id=client_id,
            payer_id=payer_id,
            invoice_id=invoice_id,
        )
        sym = _symbol(s)
        if r.applied == 0:
            return f"nothing applied; account credit {fmt_money(r.credit_left, sym)}"
        spent = ", ".join(f"{i.number} ({i.status.value.replace('_', ' ')})" for i in r.invoices)
        return f"applied {fmt_money(r.applied, sym)} to {spent}; account credit left {fmt_money(r.credit_left, sym)}"

    click.echo(c.write(go))


@payment_group.command("list")
@click.option("--client", "account", metavar="ACCOUNT")
@click.option("--payer", "payer_name", metavar="NAME")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@pass_ctx
def payment_list(c: Ctx, account: str | None, payer_name: str | None, limit: int) -> None:
    """List payments, newest first."""

    def go(actor: Actor, s: Session) -> str:
        client_id = ledger.resolve_client(s, account) if account else None
        payer_id = ledger.resolve_payer(s, payer_name) if payer_name else None
        page = payments.list_payments(actor, s, client_id=client_id, payer_id=payer_id, limit=limit)
        sym = _symbol(s)
        rows = [
            [
                r.id,
                r.received_on.isoformat(),
                r.party,
                r.method.value,
                fmt_money(r.amount, sym),
                fmt_money(r.unapplied, sym),
                r.reference,
            ]
            for r in page.rows
        ]
        return tabulate(
            rows,
            headers=["#", "received", "from", "method", "amount", "credit", "reference"],
            colalign=("right", "left", "left", "left", "right", "right", "left"),
        )

    click.echo(c.read(go))


# --------------------------------------------------------------------------- plans


@click.group("plan")
def plan_group() -> None:
    """Payment plans: create, show (and print the agreement), refresh states, cancel."""


def _plan_table(p: plans.PlanView, sym: str) -> str:
    head = (
        f"{p.number}  {p.client_name} ({p.account_number})  {p.status.value}\n"
        f"financed {fmt_money(p.amount_financed, sym)} in {p.installment_count} "
        f"{plans.INTERVAL_WORDS[p.interval]} installments from {p.first_due.isoformat()}; "
        f"paid {fmt_money(p.paid_total, sym)}, remaining {fmt_money(p.remaining, sym)}"
    )
    rows = [
        [
            i.seq,
            i.due_date.isoformat(),
            fmt_money(i.amount, sym),
            fmt_money(i.paid_amount, sym),
            i.status.value,
        ]
        for i in p.installments
    ]
    table = tabulate(
        rows,
        headers=["no.", "due", "amount", "paid", "status"],
        colalign=("right", "left", "right", "right", "left"),
    )
    return f"{head}\n\n{table}"


@plan_group.command("show")
@click.argument("account")
@click.option("--agreement", is_flag=True, help="Print the plan agreement (80-column text).")
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the agreement as a PDF to this file.",
)
@pass_ctx
def plan_show(c: Ctx, account: str, agreement: bool, pdf_path: Path | None) -> None:
    """Show ACCOUNT's open payment plan (or its latest one) with the installments."""
    if pdf_path is not None:
        try:
            pdf_path = cli_target(pdf_path)
        except ExportError as e:
            fail(str(e), EXIT_USAGE)

    def go(actor: Actor, s: Session) -> tuple[str, bytes | None]:
        client_id = ledger.resolve_client(s, account)
        p = plans.current_plan(actor, s, client_id)
        if p is None:
            history = plans.client_plans(actor, s, client_id)
            if not history:
                raise _NoPlan(f"account {account} has no payment plan")
            p = history[0]
        text = plans.agreement_text(actor, s, p.id) if agreement else _plan_table(p, _symbol(s))
        pdf = plans.agreement_pdf(actor, s, p.id) if pdf_path is not None else None
        return text, pdf

    try:
        text, pdf = c.read(go)
    except _NoPlan as e:
        fail(str(e), EXIT_FAILED)
    click.echo(text, nl=not text.endswith("\n"))
    if pdf_path is not None and pdf is not None:
        try:
            write_new(pdf_path, pdf)  # a new 0600 file, whole or not at all (tui/exports.py)
        except ExportError as e:
            fail(str(e), EXIT_FAILED)
        click.echo(f"agreement written to {pdf_path} ({len(pdf)} bytes)", err=True)


class _NoPlan(Exception):
    pass


@plan_group.command("create")
@click.argument("account")
@click.option("--count", type=int, required=True, help="Number of installments (1-120).")
@click.option("--interval", type=click.Choice([i.value for i in PlanInterval]), required=True)
@click.option("--first-due", "first_due", type=DATE, required=True, help="First due date YYYY-MM-DD.")
@pass_ctx
def plan_create(c: Ctx, account: str, count: int, interval: str, first_due: dt.datetime) -> None:
    """Finance ACCOUNT's current open balance in installments."""

    def go(actor: Actor, s: Session) -> str:
        client_id = ledger.resolve_client(s, account)
        p = plans.create_plan(
            actor, s, client_id=client_id, count=count, interval=interval, first_due=first_due.date()
        )
        return _plan_table(p, _symbol(s))

    click.echo(c.write(go))


@plan_group.command("cancel")
@click.argument("plan")
@click.option("--reason", required=True, help="Why the plan is cancelled (kept in the audit log).")
@pass_ctx
def plan_cancel(c: Ctx, plan: str, reason: str) -> None:
    """Cancel an open plan (supervisors). PLAN is its number, e.g. PP-000012."""
    text = plan.strip().upper().removeprefix("PP-")
    if not text.isdigit():
        fail(f"{plan!r} is not a plan number (e.g. PP-000012)", EXIT_USAGE)
    p = c.write(lambda a, s: plans.cancel_plan(a, s, int(text), reason=reason))
    click.echo(f"{p.number} for {p.account_number} cancelled")


@plan_group.command("refresh")
@click.option(
    "--as-of", "as_of", type=DATE, default=None, help="Day to judge by, YYYY-MM-DD (default today)."
)
@click.option("--client", "account", metavar="ACCOUNT", help="Only this client's plan.")
@pass_ctx
def plan_refresh(c: Ctx, as_of: dt.datetime | None, account: str | None) -> None:
    """Move open plans to late / defaulted / completed as of a day (the nightly job).

    Safe to run again: a second run for the same day changes nothing.
    """

    def go(actor: Actor, s: Session) -> plans.RefreshResult:
        client_id = ledger.resolve_client(s, account) if account else None
        return plans.refresh_plan_states(actor, s, _day(as_of), client_id=client_id)

    r = c.write(go)
    click.echo(f"checked {r.checked} open plans as of {r.as_of.isoformat()}: {len(r.changes)} changed")
    for ch in r.changes:
        moved = (
            f"{ch.before.value} -> {ch.after.value}" if ch.before != ch.after else f"still {ch.after.value}"
        )
        click.echo(f"  {plans.plan_number(ch.plan_id)}  {ch.account_number}  {moved} ({ch.missed} missed)")
