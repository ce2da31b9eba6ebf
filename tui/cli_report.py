"""``clerkdesk report output``: per-clerk output for a range of office days, for people and scripts.

Text and markdown go through tabulate, CSV has a header row, JSON is for scripts. The same data
gives the same bytes. A supervisor sees every clerk and the team; anyone else only their own
figures (``--clerk`` for another person is refused, exit 1). Bad dates or ranges: exit 2.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy.orm import Session

from db.rights import Actor
from db.settings import get_setting
from reports.export import FORMATS, render
from reports.output import check_range, output_report
from tui.cli import EXIT_USAGE, Ctx, errors_as_exit, fail, pass_ctx
from tui.cli_collections import aging_cmd


def parse_day(value: str, option: str) -> dt.date:
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, not {value[:40]!r}", EXIT_USAGE)


@click.group("report")
def report_group() -> None:
    """Reports and exports."""


@report_group.command("output")
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="First office day.")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="Last office day (inclusive).")
@click.option("--clerk", "login", default=None, metavar="LOGIN", help="One person only.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@pass_ctx
def report_output(c: Ctx, start: str, end: str, login: str | None, fmt: str) -> None:
    """Per-clerk output (billed, paid, collected, work items, contacts, disputes, hours)."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    with errors_as_exit():
        check_range(first, last)  # before touching the database

    def go(actor: Actor, s: Session) -> str:
        report = output_report(actor, s, first, last, login.strip() if login else None)
        return render(report, fmt, str(get_setting(s, "office.currency_symbol")))

    click.echo(c.read(go), nl=False)


# `clerkdesk report aging` is the same command as `clerkdesk aging` (issue 10 names it here).
report_group.add_command(aging_cmd, "aging")
