"""``clerkdesk clock|timecard|payroll|attendance``: time and attendance from the command line.

Registered in tui/cli.py's ``LAZY_COMMANDS`` (imported only when one of these commands runs);
the timecard signature chain is in its ``AUDIT_CHECKS``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from db.enums import ClockKind, TimecardStatus
from db.rights import Actor
from scheduling import attendance, clock, payroll, timecards
from scheduling.timecards import hours_text

if TYPE_CHECKING:
    from tui.cli import Ctx

# The commands take the Ctx through click's obj (tui.cli only under TYPE_CHECKING).
pass_ctx = click.pass_obj

DATE = click.DateTime(["%Y-%m-%d"])


def _day(value: dt.datetime) -> dt.date:
    return value.date()


# --------------------------------------------------------------------------- clock


@click.group("clock")
def clock_group() -> None:
    """Clock in and out for yourself (the time is always the server's clock)."""


def _punch(c: Ctx, kind: ClockKind) -> None:
    def go(actor: Actor, s: Session) -> tuple[clock.ClockEventView, clock.ClockState]:
        ev = clock.punch(actor, s, kind)
        return ev, clock.clock_state(actor, s)

    ev, state = c.write(go)
    click.echo(f"{ev.label} recorded at {ev.local.format('YYYY-MM-DD HH:mm')} ({state.text})")


@clock_group.command("in")
@pass_ctx
def clock_in_cmd(c: Ctx) -> None:
    """Clock in now."""
    _punch(c, ClockKind.IN)


@clock_group.command("out")
@pass_ctx
def clock_out_cmd(c: Ctx) -> None:
    """Clock out now."""
    _punch(c, ClockKind.OUT)


@clock_group.command("break")
@pass_ctx
def clock_break_cmd(c: Ctx) -> None:
    """Start a break now (breaks are unpaid)."""
    _punch(c, ClockKind.BREAK_START)


@clock_group.command("resume")
@pass_ctx
def clock_resume_cmd(c: Ctx) -> None:
    """End your break now."""
    _punch(c, ClockKind.BREAK_END)


@clock_group.command("status")
@pass_ctx
def clock_status_cmd(c: Ctx) -> None:
    """Show whether you are clocked in."""
    click.echo(c.read(lambda a, s: clock.clock_state(a, s)).text)


# --------------------------------------------------------------------------- timecards


@click.group("timecard")
def timecard_group() -> None:
    """Timecards of a pay period."""


@timecard_group.command("list")
@click.option(
    "--period", "period", type=DATE, required=True, help="First day of the pay period (YYYY-MM-DD)."
)
@click.option(
    "--status",
    type=click.Choice([s.value for s in TimecardStatus]),
    default=None,
    help="Only cards in this state.",
)
@pass_ctx
def timecard_list(c: Ctx, period: dt.datetime, status: str | None) -> None:
    """List every timecard of a period with its hours and variance (supervisors)."""
    from tabulate import tabulate

    rows = c.read(lambda a, s: timecards.list_timecards(a, s, _day(period), status))
    table = [
        [
            r.login,
            r.name,
            r.status.value,
            hours_text(r.scheduled_minutes),
            hours_text(r.worked_minutes),
            hours_text(r.regular_minutes),
            hours_text(r.overtime_minutes),
            "; ".join(r.variance) or "-",
            r.signed_by or "",
        ]
        for r in rows
    ]
    click.echo(
        tabulate(
            table,
            headers=[
                "login",
                "name",
                "status",
                "sched",
                "worked",
                "regular",
                "overtime",
                "variance",
                "signed by",
            ],
        )
    )
    click.echo(f"{len(rows)} timecard(s)")


# --------------------------------------------------------------------------- payroll


@click.group("payroll")
def payroll_group() -> None:
    """Payroll export of signed timecards."""


@payroll_group.command("export")
@click.option(
    "--period", "period", type=DATE, required=True, help="First day of the pay period (YYYY-MM-DD)."
)
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this new file instead of standard output.",
)
@click.option(
    "--signed-only", is_flag=True, help="Export the signed cards even if others are not signed yet."
)
@pass_ctx
def payroll_export(c: Ctx, period: dt.datetime, fmt: str, out: Path | None, signed_only: bool) -> None:
    """Export the period's signed timecards (regular and overtime hours per person).

    Refuses, listing them, while any card of the period is not signed (unless --signed-only).
    The exported cards move to `exported`.
    """
    from tui.cli import EXIT_USAGE, fail
    from tui.exports import ExportError, cli_target, write_new

    if out is not None:
        try:
            out = cli_target(out)
        except ExportError as e:
            fail(str(e), EXIT_USAGE)
    written: list[Path] = []

    def go(actor: Actor, s: Session) -> payroll.PayrollExport:
        result = payroll.export_payroll(actor, s, _day(period), signed_only=signed_only)
        if out is not None:
            # Written inside the transaction: if the file cannot be written nothing is exported.
            written.append(write_new(out, result.csv_text))
        return result

    try:
        result = c.write(go)
    except ExportError as e:
        fail(str(e), EXIT_USAGE)
    except BaseException:
        for p in written:  # the export did not commit: no file that claims it did
            p.unlink(missing_ok=True)
        raise
    if out is not None:
        click.echo(f"exported {len(result.rows)} timecard(s) of {result.period.label} to {out}", err=True)
    else:
        click.echo(result.csv_text, nl=False)
    if result.left_out:
        names = ", ".join(f"{u.login} ({u.status})" for u in result.left_out)
        click.echo(f"not exported (not signed): {names}", err=True)


# --------------------------------------------------------------------------- attendance


@click.group("attendance")
def attendance_group() -> None:
    """Attendance incidents (late, left early, absent)."""


@attendance_group.command("record")
@click.option("--date", "day", type=DATE, required=True, help="The day to check (YYYY-MM-DD).")
@pass_ctx
def attendance_record(c: Ctx, day: dt.datetime) -> None:
    """Record the day's incidents from clock events against the published schedule (idempotent)."""
    run = c.write(lambda a, s: attendance.record_incidents(a, s, _day(day)))
    for inc in run.created:
        click.echo(f"recorded: {inc.login} {inc.text}")
    click.echo(
        f"{len(run.created)} new incident(s) on {run.day.isoformat()}, {run.already_recorded} already recorded"
    )


@attendance_group.command("suggestions")
@click.option("--date", "day", type=DATE, default=None, help="As of this day (default: today).")
@pass_ctx
def attendance_suggestions(c: Ctx, day: dt.datetime | None) -> None:
    """Discipline the office's rules suggest (never applied by themselves)."""
    rows = c.read(lambda a, s: attendance.discipline_suggestions(a, s, _day(day) if day else None))
    for sug in rows:
        click.echo(sug.text)
    if not rows:
        click.echo("no suggestions")
