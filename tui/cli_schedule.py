"""``clerkdesk schedule …`` and ``clerkdesk timeoff …``: build, publish, check and export the
staff schedule; list and decide time-off requests.

Dates are YYYY-MM-DD; a range is at most 26 weeks. Exit codes as everywhere: 0 done, 1 failed
(refused, or a week could not be built), 2 bad usage or input.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from db.enums import RequestStatus
from scheduling import rostering, shifts, timeoff
from scheduling.roster import StopReason
from scheduling.roster.problem import fmt_day
from tui.cli import EXIT_FAILED, EXIT_USAGE, Ctx, errors_as_exit, fail, pass_ctx
from tui.exports import ExportError, cli_target, write_new


class DateParam(click.ParamType):
    """A calendar day written YYYY-MM-DD; anything else is bad usage (exit 2)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a valid date (YYYY-MM-DD)", param, ctx)


DATE = DateParam()


def _range(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    with errors_as_exit():
        shifts.check_range(start, end)
    return start, end


def range_options(fn: Any) -> Any:
    fn = click.option("--to", "end", type=DATE, required=True, metavar="DATE", help="Last day (YYYY-MM-DD).")(
        fn
    )
    fn = click.option(
        "--from", "start", type=DATE, required=True, metavar="DATE", help="First day (YYYY-MM-DD)."
    )(fn)
    return fn


# --------------------------------------------------------------------------- schedule


@click.group("schedule")
def schedule_group() -> None:
    """The staff schedule: build a roster, check it, publish it, export it."""


@schedule_group.command("build")
@range_options
@click.option(
    "--time-limit",
    type=click.FloatRange(0.5, 3600),
    default=10.0,
    show_default=True,
    metavar="S",
    help="Seconds for the solver, shared out over the weeks.",
)
@click.option("--keep-edits", is_flag=True, help="Keep every existing cell; fill only the empty ones.")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Solver threads.")
@click.option("--seed", type=click.IntRange(0, 2**31), default=0, show_default=True)
@pass_ctx
def schedule_build(
    c: Ctx, start: dt.date, end: dt.date, time_limit: float, keep_edits: bool, workers: int, seed: int
) -> None:
    """Propose a roster for the range and save it as draft shifts.

    Fixed cells (hand edits) and published shifts are kept; with --keep-edits every existing
    cell is. Prints the solver's progress, then what it could not satisfy and why.
    """
    a, b = _range(start, end)
    db = c.database()
    actor = c.actor(db)
    with errors_as_exit():
        plan = db.read(lambda s: rostering.plan_build(actor, s, a, b, keep_edits=keep_edits))
        click.echo(f"building {a} .. {b} ({len(plan.context.people)} people, {time_limit:g} s) ...", err=True)
        outcome = rostering.solve_plan(
            plan,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            progress=lambda line: click.echo(f"  {line}", err=True),
        )
        result = db.write(lambda s: rostering.save_build(actor, s, outcome))
    pen = "-" if result.penalty is None else str(result.penalty)
    click.echo(f"roster {a} .. {b}: {result.status.value}, penalty {pen}")
    words = result.words
    if result.stop_reason == StopReason.TIME_LIMIT and result.penalty is None:
        words = words.rstrip(".") + " (--time-limit)."
    click.echo(words)
    for w in result.weeks:
        line = f"  {w.start} .. {w.end}: {w.status.value}"
        if w.penalty is not None:
            line += f", penalty {w.penalty}"
            if w.lower_bound is not None and w.lower_bound < w.penalty:
                line += f" (at least {w.lower_bound} is unavoidable)"
        line += f", {w.seconds:.1f} s, {w.kept} fixed cell{'s' if w.kept != 1 else ''} kept"
        click.echo(line)
    click.echo(f"draft shifts: {result.created} created, {result.changed} changed, {result.removed} removed")
    if result.unmet:
        click.echo("not satisfied (soft rules):")
        for msg in result.unmet:
            click.echo(f"  - {msg}")
    failed = [w for w in result.weeks if w.penalty is None]
    for w in failed:
        click.echo(f"no roster for {w.start} .. {w.end} (the grid was left as it was):")
        for msg in w.conflicts or (w.words,):
            click.echo(f"  - {msg}")
    if failed:
        sys.exit(EXIT_FAILED)
    click.echo(f"review: clerkdesk schedule check --from {a} --to {b}; then: clerkdesk schedule publish ...")


@schedule_group.command("publish")
@range_options
@pass_ctx
def schedule_publish(c: Ctx, start: dt.date, end: dt.date) -> None:
    """Publish the draft shifts of the range: clerks see them from now on."""
    a, b = _range(start, end)
    res = c.write(lambda actor, s: shifts.publish(actor, s, a, b))
    click.echo(
        f"published {res.published} shifts {a} .. {b} ({res.already_published} were already published)"
    )


@schedule_group.command("check")
@range_options
@pass_ctx
def schedule_check(c: Ctx, start: dt.date, end: dt.date) -> None:
    """Check the grid against every rule: rule breaks, coverage shortfalls, unmet requests.

    Exits 1 when a hard rule is broken.
    """
    a, b = _range(start, end)
    ev = c.read(lambda actor, s: rostering.evaluate_grid(actor, s, a, b))
    click.echo(f"{a} .. {b}: {len(ev.violations)} rule breaks, penalty {ev.penalty}")
    for v in ev.violations:
        click.echo(f"  ! {v.message}")
    for cov in ev.shortfalls:
        click.echo(
            f"  short: {fmt_day(cov.day)} {cov.shift_code}: {cov.scheduled} scheduled, minimum {cov.required}"
        )
    for it in ev.items:
        click.echo(f"  - {it.message} (penalty {it.amount})")
    if ev.violations:
        sys.exit(EXIT_FAILED)


@schedule_group.command("export")
@range_options
@click.option(
    "--format", "fmt", type=click.Choice(list(shifts.EXPORT_FORMATS)), default="text", show_default=True
)
@click.option("--published-only", is_flag=True, help="Leave out draft shifts (clerks always get only these).")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to FILE."
)
@pass_ctx
def schedule_export(
    c: Ctx, start: dt.date, end: dt.date, fmt: str, published_only: bool, output: Path | None
) -> None:
    """Clerks × days with shift codes (drafts marked *), as text, markdown or CSV."""
    a, b = _range(start, end)
    if output is not None:
        try:
            output = cli_target(output)
        except ExportError as e:
            fail(str(e), EXIT_USAGE)
    text = c.read(lambda actor, s: shifts.export_schedule(actor, s, a, b, fmt, published_only=published_only))
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_new(output, text)  # a new 0600 file, whole or not at all (tui/exports.py)
        except ExportError as e:
            fail(str(e), EXIT_USAGE)
        click.echo(f"wrote {output}", err=True)


# --------------------------------------------------------------------------- time off


@click.group("timeoff")
def timeoff_group() -> None:
    """Time-off requests: list, approve, decline."""


@timeoff_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in RequestStatus]), default=None)
@click.option("--clerk", "login", default=None, metavar="LOGIN")
@pass_ctx
def timeoff_list(c: Ctx, status: str | None, login: str | None) -> None:
    """List time-off requests (a clerk sees their own)."""
    rows = c.read(
        lambda actor, s: timeoff.list_time_off(
            actor, s, status=RequestStatus(status) if status else None, login=login
        )
    )
    from tabulate import tabulate

    table = [
        [
            r.id,
            r.login,
            str(r.start_date),
            str(r.end_date),
            r.days,
            r.status.value,
            r.reason,
            r.decided_by or "",
            r.decision_reason,
            ", ".join(str(d) for d in r.clashes),
        ]
        for r in rows
    ]
    headers = ["id", "clerk", "from", "to", "days", "status", "reason", "decided by", "why", "scheduled on"]
    click.echo(tabulate(table, headers=headers, disable_numparse=True) if table else "no time-off requests")


@timeoff_group.command("approve")
@click.argument("request_id", type=int)
@click.option("--note", default="", help="Optional note for the clerk.")
@pass_ctx
def timeoff_approve(c: Ctx, request_id: int, note: str) -> None:
    """Approve a request: its days become fixed days off."""
    r = c.write(lambda actor, s: timeoff.approve_time_off(actor, s, request_id, note))
    click.echo(f"approved #{r.id}: {r.login} off {r.start_date} .. {r.end_date} ({r.days} days)")
    if r.clashes:
        days = ", ".join(str(d) for d in r.clashes)
        click.echo(f"note: {r.login} is scheduled on {days}; change those shifts (schedule check shows them)")


@timeoff_group.command("decline")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (the clerk sees it).")
@pass_ctx
def timeoff_decline(c: Ctx, request_id: int, reason: str) -> None:
    """Decline a request; a reason is required."""
    r = c.write(lambda actor, s: timeoff.decline_time_off(actor, s, request_id, reason))
    click.echo(f"declined #{r.id}: {r.login} {r.start_date} .. {r.end_date}")
