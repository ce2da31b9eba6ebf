"""``clerkdesk assign …``: the day's work items from the command line (docs/assignment.md).

    clerkdesk assign generate --date D          create the day's items (idempotent)
    clerkdesk assign auto --date D [--preview]  auto-assign (or only show the plan)
    clerkdesk assign rebalance --date D --clerk LOGIN [--preview]
    clerkdesk assign undo --date D              undo the last auto-assign or rebalance
    clerkdesk assign publish --date D           clerks see their lists
    clerkdesk assign list --date D [--format text|csv|json] [--show all|unassigned|…] [--clerk LOGIN]

``--date`` is YYYY-MM-DD, ``today`` or ``tomorrow`` (default today). A date that is not one,
or one too far from today (9999-12-31), is refused with one line and exit code 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tabulate import tabulate

from db.errors import NotFound
from db.models import User
from db.money import fmt_money
from db.rights import Actor
from db.settings import office_timezone
from db.timeutil import office_today
from scheduling import work_items as wi
from scheduling import work_plan as wp
from tui.cli import EXIT_USAGE, Ctx, fail, pass_ctx

DATE_HELP = "The day: YYYY-MM-DD, today or tomorrow (default today)."
MAX_SHOWN = 40  # moves and unassigned items printed by a preview (the counts are always full)


def _parse_day(value: str | None, s: Session) -> dt.date:
    today = office_today(office_timezone(s))
    text = (value if value is not None else "today").strip().lower()
    if text == "today":
        return today
    if text == "tomorrow":
        return today + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        shown = text[:40] or "(empty)"
        fail(f"--date: {shown!r} is not a date (use YYYY-MM-DD, today or tomorrow)", EXIT_USAGE)


def _check_date_text(value: str | None) -> None:
    """Refuse an unreadable --date before touching the database."""
    if value is None:
        return
    text = value.strip().lower()
    if text in ("today", "tomorrow"):
        return
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        shown = text[:40] or "(empty)"
        fail(f"--date: {shown!r} is not a date (use YYYY-MM-DD, today or tomorrow)", EXIT_USAGE)


def _user_id(s: Session, login: str) -> int:
    uid = s.scalar(sa.select(User.id).where(User.login == login.strip()))
    if uid is None:
        raise NotFound(f"No user {login.strip()[:40]!r}")
    return int(uid)


date_option = click.option("--date", "day_text", metavar="D", default=None, help=DATE_HELP)


@click.group("assign")
def assign_group() -> None:
    """The day's work items: generate, auto-assign, publish, list."""


@assign_group.command("generate")
@date_option
@pass_ctx
def assign_generate(c: Ctx, day_text: str | None) -> None:
    """Create the day's work items (running it again creates nothing new)."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> str:
        r = wi.generate_items(actor, s, _parse_day(day_text, s))
        kinds = ", ".join(f"{k.value} {n}" for k, n in r.created.items() if n)
        new = f"{r.total_created} new item{'s' if r.total_created != 1 else ''}"
        parts = [f"{r.day.isoformat()}: {new}" + (f" ({kinds})" if kinds else "")]
        parts.append(f"{r.carried} carried over")
        parts.append(f"{r.resolved} resolved since")
        parts.append(f"{r.existing} already there")
        if r.excluded_agency:
            parts.append(f"{r.excluded_agency} skipped (with an agency)")
        return ", ".join(parts)

    click.echo(c.write(go))


def _preview_text(p: wp.PlanPreview) -> str:
    lines: list[str] = []
    what = "Auto-assign" if p.kind == "auto" else "Rebalance"
    lines.append(
        f"{what} {p.day.isoformat()}: {len(p.moves)} move{'s' if len(p.moves) != 1 else ''}, "
        f"{len(p.unassigned)} unassigned, {p.kept_manual} manual kept, owner kept {p.owner_kept_pct:.1f} %"
    )
    if p.moves:
        rows = [
            [
                m.item.id,
                m.item.priority,
                m.item.kind.value,
                m.item.account_number,
                m.item.client_name[:24],
                m.item.effort_minutes,
                m.from_login or "-",
                m.to_login or "-",
            ]
            for m in p.moves[:MAX_SHOWN]
        ]
        lines.append(
            tabulate(rows, headers=["item", "prio", "kind", "account", "client", "min", "from", "to"])
        )
        if len(p.moves) > MAX_SHOWN:
            lines.append(f"… and {len(p.moves) - MAX_SHOWN} more moves")
    if p.unassigned:
        rows = [
            [u.item.id, u.item.priority, u.item.kind.value, u.item.account_number, u.reason]
            for u in p.unassigned[:MAX_SHOWN]
        ]
        lines.append("Unassigned:")
        lines.append(tabulate(rows, headers=["item", "prio", "kind", "account", "why"]))
        if len(p.unassigned) > MAX_SHOWN:
            lines.append(f"… and {len(p.unassigned) - MAX_SHOWN} more")
    if p.loads:
        rows = [
            [
                lc.login,
                lc.capacity_minutes,
                lc.before_minutes,
                lc.after_minutes,
                f"{100 * lc.after_minutes / lc.capacity_minutes:.0f} %" if lc.capacity_minutes else "-",
            ]
            for lc in p.loads
        ]
        lines.append(tabulate(rows, headers=["clerk", "capacity", "before", "after", "load"]))
    return "\n".join(lines)


def _apply_text(r: wp.ApplyResult) -> str:
    text = (
        f"Applied: {r.moved} assigned, {r.unassigned} unassigned (undo: clerkdesk assign undo --date {r.day})"
    )
    return text


@assign_group.command("auto")
@date_option
@click.option("--preview", is_flag=True, help="Only show the plan; change nothing.")
@pass_ctx
def assign_auto(c: Ctx, day_text: str | None, preview: bool) -> None:
    """Auto-assign the day's open items over the clerks on shift."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> str:
        p = wp.preview_auto_assign(actor, s, _parse_day(day_text, s))
        if preview:
            return _preview_text(p)
        return _preview_text(p) + "\n" + _apply_text(wp.apply_plan(actor, s, p))

    click.echo(c.read(go) if preview else c.write(go))


@assign_group.command("rebalance")
@date_option
@click.option("--clerk", "login", required=True, metavar="LOGIN", help="The absent or leaving clerk.")
@click.option("--preview", is_flag=True, help="Only show the plan; change nothing.")
@pass_ctx
def assign_rebalance(c: Ctx, day_text: str | None, login: str, preview: bool) -> None:
    """Move an absent or leaving clerk's open items over the others."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> str:
        p = wp.preview_rebalance(actor, s, _parse_day(day_text, s), _user_id(s, login))
        if preview:
            return _preview_text(p)
        return _preview_text(p) + "\n" + _apply_text(wp.apply_plan(actor, s, p))

    click.echo(c.read(go) if preview else c.write(go))


@assign_group.command("undo")
@date_option
@pass_ctx
def assign_undo(c: Ctx, day_text: str | None) -> None:
    """Undo the day's last auto-assign or rebalance (items changed since stay as they are)."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> str:
        r = wp.undo_last_plan(actor, s, _parse_day(day_text, s))
        lines = [f"Undone: {r.moved} back with their clerk, {r.unassigned} unassigned again"]
        lines += [f"kept: {m}" for m in r.skipped]
        return "\n".join(lines)

    click.echo(c.write(go))


@assign_group.command("publish")
@date_option
@pass_ctx
def assign_publish(c: Ctx, day_text: str | None) -> None:
    """Publish the day: every clerk sees their list."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> str:
        r = wp.publish_day(actor, s, _parse_day(day_text, s))
        return (
            f"Published {r.day.isoformat()}: {r.assigned} open item{'s' if r.assigned != 1 else ''} "
            f"for {r.clerks} clerk{'s' if r.clerks != 1 else ''}, {r.unassigned} unassigned"
        )

    click.echo(c.write(go))


FIELDS = [
    "id",
    "priority",
    "kind",
    "account",
    "client",
    "summary",
    "effort",
    "due",
    "age",
    "clerk",
    "status",
    "outcome",
    "terms",
]


def _record(r: wi.ItemRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "priority": r.priority,
        "kind": r.kind.value,
        "account": r.account_number,
        "client": r.client_name,
        "summary": r.summary,
        "effort": r.effort_minutes,
        "due": r.due_date.isoformat() if r.due_date else "",
        "age": r.age_days,
        "clerk": r.assignee_login or "",
        "status": r.status.value,
        "outcome": r.outcome.value if r.outcome else "",
        "terms": r.terms.explain(),
        "amount": str(r.amount),
        "needs": list(r.needs),
        "manual": r.manual,
        "published": r.published,
    }


@assign_group.command("list")
@date_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
@click.option(
    "--show", type=click.Choice([f.value for f in wi.AssignedFilter]), default="all", show_default=True
)
@click.option("--clerk", "login", metavar="LOGIN", default=None, help="Only this clerk's items.")
@pass_ctx
def assign_list(c: Ctx, day_text: str | None, fmt: str, show: str, login: str | None) -> None:
    """The day's items in priority order, with the priority formula term by term."""
    _check_date_text(day_text)

    def go(actor: Actor, s: Session) -> list[dict[str, Any]]:
        day = wi.check_day(s, _parse_day(day_text, s), past_ok=True)
        uid = _user_id(s, login) if login else None
        out: list[dict[str, Any]] = []
        after = None
        while True:
            page = wi.list_items(
                actor, s, day, after=after, limit=500, assigned=wi.AssignedFilter(show), user_id=uid
            )
            out += [_record(r) for r in page.rows]
            after = page.next_after
            if after is None:
                return out

    records = c.read(go)
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=[*FIELDS, "amount"], extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(records)
        click.echo(buf.getvalue(), nl=False)
    else:
        if not records:
            click.echo("No items.")
            return
        rows = [
            [
                r["id"],
                r["priority"],
                r["kind"],
                r["account"],
                r["client"][:22],
                r["effort"],
                r["clerk"] or "-",
                r["outcome"] or r["status"],
                fmt_money(Decimal(r["amount"])),
                r["summary"][:50],
            ]
            for r in records
        ]
        click.echo(
            tabulate(
                rows,
                headers=[
                    "id",
                    "prio",
                    "kind",
                    "account",
                    "client",
                    "min",
                    "clerk",
                    "state",
                    "amount",
                    "summary",
                ],
            )
        )
        click.echo(f"{len(records)} item{'s' if len(records) != 1 else ''}")
