"""``clerkdesk dunning …``, ``clerkdesk aging``, ``clerkdesk agency …``, ``clerkdesk dispute …``.

A dunning run is previewed with ``--dry-run`` (writes nothing) and applied with ``--apply``;
applying again the same day fires nothing new. Bad input is one line and exit 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tabulate import tabulate

from billing import agency, aging, disputes, dunning, ledger
from billing.aging import BUCKET_LABELS, BUCKETS, BucketAmounts
from billing.catalog import office_day
from db.enums import Channel, DisputeStatus
from db.errors import ValidationError
from db.money import fmt_money
from db.rights import Actor
from db.settings import get_setting
from tui.cli import EXIT_USAGE, Ctx, errors_as_exit, fail, pass_ctx

DATE = click.DateTime(["%Y-%m-%d"])


def _symbol(s: Session) -> str:
    return str(get_setting(s, "office.currency_symbol"))


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


# --------------------------------------------------------------------------- dunning


@click.group("dunning")
def dunning_group() -> None:
    """Dunning runs (preview, apply), letters and levels."""


@dunning_group.command("run")
@click.option("--dry-run", "dry_run", is_flag=True, help="Show what a run would do; write nothing.")
@click.option("--apply", "apply_", is_flag=True, help="Apply the run (supervisors).")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Run as of YYYY-MM-DD (default today).")
@pass_ctx
def dunning_run(c: Ctx, dry_run: bool, apply_: bool, as_of: dt.datetime | None) -> None:
    """Preview (--dry-run) or apply (--apply) a dunning run."""
    if dry_run == apply_:
        fail("say --dry-run or --apply (exactly one)", EXIT_USAGE)
    day = _day(as_of)

    def table(rows: tuple[dunning.PreviewRow, ...], sym: str) -> str:
        return tabulate(
            [
                [
                    r.account_number,
                    r.invoice_number,
                    r.days_overdue,
                    r.level,
                    fmt_money(r.balance, sym),
                    fmt_money(r.fee, sym) if r.fee else "",
                    r.why or f"send {r.level_name} ({r.channel.value})",
                ]
                for r in rows
            ],
            headers=["Account", "Invoice", "Days", "Level", "Due", "Fee", "Action"],
            disable_numparse=True,
        )

    if dry_run:

        def preview(actor: Actor, s: Session) -> str:
            p = dunning.preview_run(actor, s, as_of=day)
            if not p.rows:
                return f"dunning as of {p.as_of.isoformat()}: nothing to send"
            sym = _symbol(s)
            head = (
                f"dunning as of {p.as_of.isoformat()} (dry run, nothing written): {len(p.firing)} to send, "
                f"{len(p.skipped)} skipped, fees {fmt_money(p.fees, sym)}"
            )
            return head + "\n" + table(p.rows, sym)

        click.echo(c.read(preview))
        return

    def go(actor: Actor, s: Session) -> str:
        r = dunning.apply_run(actor, s, as_of=day)
        sym = _symbol(s)
        fees = sum(1 for f in r.fired if f.fee_invoice_number)
        line = (
            f"dunning run #{r.run_id} as of {r.as_of.isoformat()}: {len(r.fired)} levels fired, "
            f"{r.letters} letters, {fees} fee invoices, {len(r.skipped)} skipped"
        )
        if not r.fired:
            line += " (nothing new: each level fires once per invoice)"
        out = [line]
        for f in r.fired:
            fee = f" + fee {f.fee_invoice_number}" if f.fee_invoice_number else ""
            out.append(f"  {f.invoice_number}: level {f.level}, {fmt_money(f.balance_dunned, sym)}{fee}")
        for sk in r.skipped:
            out.append(f"  {sk.invoice_number}: skipped, {sk.why}")
        return "\n".join(out)

    click.echo(c.write(go))


@dunning_group.command("letters")
@click.argument("run_id", type=int)
@click.option(
    "--pdf-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write one PDF per letter into this folder (never overwrites).",
)
@pass_ctx
def dunning_letters(c: Ctx, run_id: int, pdf_dir: Path | None) -> None:
    """Print the letters of a run (text); optionally write them as PDFs."""
    if pdf_dir is not None and not pdf_dir.is_dir():
        fail(f"folder {pdf_dir} does not exist", EXIT_USAGE)

    def go(actor: Actor, s: Session) -> tuple[tuple[dunning.LetterDoc, ...], str]:
        return dunning.run_letters(actor, s, run_id), _symbol(s)

    docs, sym = c.read(go)
    if not docs:
        click.echo(f"run #{run_id} sent no letters")
        return
    for i, doc in enumerate(docs):
        if i:
            click.echo("\f")
        click.echo(dunning.render_letter_text(doc, sym), nl=False)
        if pdf_dir is not None:
            target = pdf_dir / f"dunning-{run_id}-{doc.account_number}.pdf"
            try:
                with target.open("xb") as fh:
                    fh.write(dunning.render_letter_pdf(doc, sym))
            except FileExistsError:
                fail(f"{target} exists already; choose another folder", 1)


@dunning_group.group("levels")
def levels_group() -> None:
    """Dunning levels (supervisors edit them)."""


@levels_group.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired levels.")
@pass_ctx
def levels_list(c: Ctx, include_retired: bool) -> None:
    """List the levels."""

    def go(actor: Actor, s: Session) -> str:
        rows = dunning.list_levels(actor, s, include_retired=include_retired)
        if not rows:
            return "no dunning levels; add one with `clerkdesk dunning levels set`"
        sym = _symbol(s)
        return tabulate(
            [
                [
                    lv.level,
                    lv.name,
                    lv.days_overdue,
                    lv.channel.value,
                    fmt_money(lv.fee, sym) if lv.fee else "",
                    "" if lv.active else "retired",
                    lv.letter_text[:40],
                ]
                for lv in rows
            ],
            headers=["Level", "Name", "Days", "Channel", "Fee", "", "Letter"],
            disable_numparse=True,
        )

    click.echo(c.read(go))


@levels_group.command("set")
@click.option("--level", "level", type=int, required=True)
@click.option("--name", required=True)
@click.option("--days", "days", type=int, required=True, help="Days overdue at which the level fires.")
@click.option(
    "--letter", "letter", required=True, help="Letter text; {name} {account} {amount} {pay_by} are filled in."
)
@click.option("--fee", default="0.00", help="Optional fee booked when the level fires.")
@click.option("--channel", type=click.Choice([ch.value for ch in Channel]), default=Channel.LETTER.value)
@click.option("--retire", is_flag=True, help="Retire the level: it never fires again.")
@pass_ctx
def levels_set(
    c: Ctx, level: int, name: str, days: int, letter: str, fee: str, channel: str, retire: bool
) -> None:
    """Create or change a level (supervisors)."""

    def go(actor: Actor, s: Session) -> str:
        lv = dunning.set_level(
            actor,
            s,
            level=level,
            name=name,
            days_overdue=days,
            letter_text=letter,
            fee=fee,
            channel=channel,
            active=not retire,
        )
        state = "retired" if not lv.active else f"fires at {lv.days_overdue} days"
        return f"level {lv.level} {lv.name!r}: {state}, fee {fmt_money(lv.fee, _symbol(s))}"

    click.echo(c.write(go))


# --------------------------------------------------------------------------- aging


def _bucket_row(label: str, b: BucketAmounts, sym: str) -> list[str]:
    return [label, *(fmt_money(v, sym) for v in b.as_tuple()), fmt_money(b.total, sym)]


@click.command("aging")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Aging as of YYYY-MM-DD (default today).")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "csv", "json"]), default="text")
@click.option("--client", "account", metavar="ACCOUNT", help="One account instead of the office.")
@click.option("--by-payer", is_flag=True, help="The payer side, one row per payer.")
@pass_ctx
def aging_cmd(c: Ctx, as_of: dt.datetime | None, fmt: str, account: str | None, by_payer: bool) -> None:
    """Receivables by days past due, client and payer side apart."""
    day = _day(as_of)
    if by_payer:
        if account:
            fail("--by-payer is for the office; leave out --client", EXIT_USAGE)
        _by_payer(c, day, fmt)
        return

    def go(actor: Actor, s: Session) -> tuple[dt.date, BucketAmounts, BucketAmounts, str, str]:
        if account:
            cid = ledger.resolve_client(s, account)
            r = aging.client_aging(actor, s, cid, as_of=day)
            return r.as_of, r.client, r.payer, f"{r.client_name} ({r.account_number})", _symbol(s)
        o = aging.office_aging(actor, s, as_of=day)
        return o.as_of, o.client, o.payer, "office", _symbol(s)

    when, client, payer, who, sym = c.read(go)
    keys = [b.value for b in BUCKETS]
    if fmt == "json":
        data = {
            "as_of": when.isoformat(),
            "scope": who,
            "client": {
                **{k: f"{v:.2f}" for k, v in zip(keys, client.as_tuple(), strict=True)},
                "total": f"{client.total:.2f}",
            },
            "payer": {
                **{k: f"{v:.2f}" for k, v in zip(keys, payer.as_tuple(), strict=True)},
                "total": f"{payer.total:.2f}",
            },
        }
        click.echo(json.dumps(data, indent=2))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["as_of", "side", *keys, "total"])
        for side, b in (("client", client), ("payer", payer)):
            w.writerow([when.isoformat(), side, *(f"{v:.2f}" for v in b.as_tuple()), f"{b.total:.2f}"])
        click.echo(buf.getvalue(), nl=False)
        return
    click.echo(f"{'## ' if fmt == 'md' else ''}aging as of {when.isoformat()}: {who}")
    if fmt == "md":
        click.echo()
    click.echo(
        tabulate(
            [_bucket_row("Client", client, sym), _bucket_row("Payer", payer, sym)],
            headers=["", *(BUCKET_LABELS[b] for b in BUCKETS), "Total"],
            disable_numparse=True,
            colalign=("left", *(["right"] * 7)),
            tablefmt="github" if fmt == "md" else "simple",
        )
    )


def _by_payer(c: Ctx, day: dt.date | None, fmt: str) -> None:
    def go(actor: Actor, s: Session) -> tuple[dt.date, tuple[aging.PayerAgingRow, ...], str]:
        when = day or office_day(s)
        return when, aging.payer_aging(actor, s, as_of=day), _symbol(s)

    when, rows, sym = c.read(go)
    keys = [b.value for b in BUCKETS]
    if fmt == "json":
        data = {
            "as_of": when.isoformat(),
            "payers": [
                {
                    "payer": r.payer_name,
                    "accounts": r.accounts,
                    **{k: f"{v:.2f}" for k, v in zip(keys, r.buckets.as_tuple(), strict=True)},
                    "total": f"{r.buckets.total:.2f}",
                }
                for r in rows
            ],
        }
        click.echo(json.dumps(data, indent=2))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["as_of", "payer", "accounts", *keys, "total"])
        for r in rows:
            w.writerow(
                [
                    when.isoformat(),
                    r.payer_name,
                    r.accounts,
                    *(f"{v:.2f}" for v in r.buckets.as_tuple()),
                    f"{r.buckets.total:.2f}",
                ]
            )
        click.echo(buf.getvalue(), nl=False)
        return
    click.echo(f"{'## ' if fmt == 'md' else ''}payer aging as of {when.isoformat()}")
    if fmt == "md":
        click.echo()
    click.echo(
        tabulate(
            [_bucket_row(r.payer_name, r.buckets, sym) for r in rows],
            headers=["Payer", *(BUCKET_LABELS[b] for b in BUCKETS), "Total"],
            disable_numparse=True,
            colalign=("left", *(["right"] * 7)),
            tablefmt="github" if fmt == "md" else "simple",
        )
    )


# --------------------------------------------------------------------------- agencies


@click.group("agency")
def agency_group() -> None:
    """Collection agencies: list, add, place, pay, recall, export."""


def _agency_id(actor: Actor, s: Session, name: str) -> int:
    for a in agency.list_agencies(actor, s, include_inactive=True):
        if a.name.lower() == name.strip().lower():
            return a.id
    raise ValidationError.from_fields({"agency": f"no agency named {name.strip()!r}"})


@agency_group.command("list")
@pass_ctx
def agency_list(c: Ctx) -> None:
    """Agencies with their fee and active placements."""

    def go(actor: Actor, s: Session) -> str:
        rows = agency.list_agencies(actor, s, include_inactive=True)
        if not rows:
            return "no agencies; add one with `clerkdesk agency add`"
        return tabulate(
            [
                [a.name, a.fee_percent, a.active_placements, "" if a.active else "inactive", a.contact]
                for a in rows
            ],
            headers=["Agency", "Fee", "Placed", "", "Contact"],
            disable_numparse=True,
        )

    click.echo(c.read(go))


@agency_group.command("add")
@click.option("--name", required=True)
@click.option("--fee", "fee", required=True, help="Fee percent, e.g. 30 or 27.5")
@click.option("--contact", default="")
@pass_ctx
def agency_add(c: Ctx, name: str, fee: str, contact: str) -> None:
    """Add an agency (supervisors)."""
    with errors_as_exit():
        agency.parse_fee_percent(fee)

    def go(actor: Actor, s: Session) -> str:
        a = agency.add_agency(actor, s, name=name, fee_bp=fee, contact=contact)
        return f"agency {a.name!r} added, fee {a.fee_percent}"

    click.echo(c.write(go))


@agency_group.command("place")
@click.option("--agency", "agency_name", required=True)
@click.argument("accounts", nargs=-1, required=True)
@pass_ctx
def agency_place(c: Ctx, agency_name: str, accounts: tuple[str, ...]) -> None:
    """Place accounts with an agency (supervisors)."""

    def go(actor: Actor, s: Session) -> str:
        ids = [ledger.resolve_client(s, a) for a in accounts]
        rows = agency.place_accounts(actor, s, agency_id=_agency_id(actor, s, agency_name), client_ids=ids)
        sym = _symbol(s)
        return "\n".join(
            f"placement #{p.id}: {p.account_number} with {p.agency_name}, {fmt_money(p.balance_placed, sym)}"
            for p in rows
        )

    click.echo(c.write(go))


def _placement_id(actor: Actor, s: Session, account: str) -> int:
    cid = ledger.resolve_client(s, account)
    p = agency.active_placement(actor, s, cid)
    if p is None:
        raise ValidationError.from_fields({"account": f"{account.strip()} is not placed with an agency"})
    return p.id


@agency_group.command("pay")
@click.option("--client", "account", required=True, metavar="ACCOUNT")
@click.option("--gross", required=True, help="What the agency collected (before its fee).")
@click.option("--date", "day", type=DATE, default=None)
@click.option("--key", required=True, help="Idempotency key of the remittance line.")
@click.option("--reference", default="")
@pass_ctx
def agency_pay(c: Ctx, account: str, gross: str, day: dt.datetime | None, key: str, reference: str) -> None:
    """Post money an agency collected: net payment plus its fee as an adjustment."""

    def go(actor: Actor, s: Session) -> str:
        r = agency.record_agency_payment(
            actor,
            s,
            placement_id=_placement_id(actor, s, account),
            gross=gross,
            received_on=_day(day) or office_day(s),
            idempotency_key=key,
            reference=reference,
        )
        sym = _symbol(s)
        if r.duplicate:
            return f"already posted as payment #{r.payment_id}; nothing changed"
        return (
            f"payment #{r.payment_id}: {fmt_money(r.gross, sym)} collected, agency fee {fmt_money(r.fee, sym)}, "
            f"{fmt_money(r.net, sym)} posted; {r.placement.account_number} now owes "
            f"{fmt_money(r.placement.balance_now, sym)}"
        )

    click.echo(c.write(go))


@agency_group.command("recall")
@click.option("--client", "account", required=True, metavar="ACCOUNT")
@click.option("--reason", required=True)
@pass_ctx
def agency_recall(c: Ctx, account: str, reason: str) -> None:
    """Bring an account back from its agency (supervisors)."""

    def go(actor: Actor, s: Session) -> str:
        p = agency.recall_placement(actor, s, _placement_id(actor, s, account), reason=reason)
        return f"placement #{p.id} recalled: {p.account_number} is back in dunning and work lists"

    click.echo(c.write(go))


@agency_group.command("export")
@click.option("--agency", "agency_name", required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_ctx
def agency_export(c: Ctx, agency_name: str, out: Path) -> None:
    """Write the placement file (CSV) of an agency's active placements; never overwrites."""

    def go(actor: Actor, s: Session) -> str:
        r = agency.export_placement_file(actor, s, path=out, agency_id=_agency_id(actor, s, agency_name))
        return f"{r.rows} placements written to {r.path}"

    click.echo(c.write(go))


# --------------------------------------------------------------------------- disputes


@click.group("dispute")
def dispute_group() -> None:
    """Disputes."""


@dispute_group.command("list")
@click.option("--status", type=click.Choice([*(x.value for x in DisputeStatus), "all"]), default="open")
@click.option("--limit", type=click.IntRange(1, 500), default=100)
@pass_ctx
def dispute_list(c: Ctx, status: str, limit: int) -> None:
    """The dispute queue, oldest first."""

    def go(actor: Actor, s: Session) -> str:
        page = disputes.dispute_queue(actor, s, status=None if status == "all" else status, limit=limit)
        if not page.rows:
            return f"no {status} disputes" if status != "all" else "no disputes"
        sym = _symbol(s)
        return tabulate(
            [
                [
                    d.id,
                    d.opened_at.date().isoformat(),
                    d.account_number,
                    d.invoice_number,
                    f"line {d.line_no}" if d.line_no else "all",
                    fmt_money(d.invoice_balance, sym),
                    d.reason_text,
                    d.status.value,
                    d.opened_by_login,
                ]
                for d in page.rows
            ],
            headers=["#", "Opened", "Account", "Invoice", "On", "Balance", "Reason", "Status", "By"],
            disable_numparse=True,
        )

    click.echo(c.read(go))
