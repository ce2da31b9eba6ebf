"""Time the per-clerk output report on the scale office (``bench.scale_office`` then
``bench.scale_reports``): whole-team periods, one clerk, drill-down pages, trends, dashboard.

Each figure is the median (and the worst) of several runs of the service call in its own read
transaction, after one warm-up run, as the screens and the CLI run them: wall-clock time, and
the process's CPU time (SQLite runs in the process, so on a shared, loaded machine the CPU time
is the better measure of the work; the wall time includes waiting for a core).

    python -m bench.bench_reports --db sqlite:////tmp/scale.db [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from tabulate import tabulate

from db.engine import Database
from db.models import Assignment, ContactAttempt, Invoice, Payment
from db.rights import Actor
from db.timeutil import now
from reports.dashboard import dashboard
from reports.output import _aggregate, drill, output_report, period_of, trend, worked_by_day
from scheduling.staff import resolve_actor


def measure(db: Database, fn: Callable[[Any], Any], runs: int) -> tuple[float, float, float]:
    """(median wall ms, worst wall ms, median CPU ms) over ``runs`` runs after a warm-up."""
    db.read(fn)
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        db.read(fn)
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    db = Database(args.db)
    sup: Actor = db.read(lambda s: resolve_actor(s, "sup000"))
    clerk: Actor = db.read(lambda s: resolve_actor(s, "clerk050"))
    local = now().in_timezone("America/New_York")
    today = dt.date(local.year, local.month, local.day)
    month = period_of("month", today - dt.timedelta(days=today.day))  # the last whole month
    week = period_of("week", today - dt.timedelta(days=7))
    day = today - dt.timedelta(days=(today.weekday() + 3) % 7 or 7)  # a recent working day
    counts = db.read(
        lambda s: {
            "invoices (all)": s.scalar(sa.select(sa.func.count()).select_from(Invoice)),
            "invoices in the month": s.scalar(
                sa.select(sa.func.count())
                .select_from(Invoice)
                .where(Invoice.issue_date.between(month.start, month.end))
            ),
            "payments in the month": s.scalar(
                sa.select(sa.func.count())
                .select_from(Payment)
                .where(Payment.received_on.between(month.start, month.end))
            ),
            "assignments in the month": s.scalar(
                sa.select(sa.func.count())
                .select_from(Assignment)
                .where(Assignment.day.between(month.start, month.end))
            ),
            "contacts (all)": s.scalar(sa.select(sa.func.count()).select_from(ContactAttempt)),
        }
    )
    for k, v in counts.items():
        print(f"{k}: {v:,}")
    clerk_ids = db.read(lambda s: [r.user_id for r in output_report(sup, s, month.start, month.end).rows])
    cases = [
        (f"team, month {month.label}", lambda s: output_report(sup, s, month.start, month.end)),
        (
            "  of which: the SQL aggregates",
            lambda s: _aggregate(s, month.start, month.end, "America/New_York", None),
        ),
        (
            f"  of which: hours of {len(clerk_ids)} people (timecard rules)",
            lambda s: worked_by_day(s, clerk_ids, month.start, month.end),
        ),
        (f"team, {week.label}", lambda s: output_report(sup, s, week.start, week.end)),
        (f"team, day {day.isoformat()}", lambda s: output_report(sup, s, day, day)),
        ("one clerk's own month", lambda s: output_report(clerk, s, month.start, month.end)),
        (
            "drill: a clerk's invoices, first page",
            lambda s: drill(sup, s, "invoices_issued", month.start, month.end, "clerk050"),
        ),
        (
            "drill: a clerk's payments, first page",
            lambda s: drill(sup, s, "collected", month.start, month.end, "clerk050"),
        ),
        ("drill: team contacts, first page", lambda s: drill(sup, s, "contacts", month.start, month.end)),
        (
            "drill: team invoices paid, first page",
            lambda s: drill(sup, s, "invoices_paid", month.start, month.end),
        ),
        ("trend: 8 weeks of 'collected' (sparklines)", lambda s: trend(sup, s, week, "collected", 8)),
        ("supervisor dashboard", lambda s: dashboard(sup, s)),
    ]
    rows = []
    for label, fn in cases:
        med, worst, cpu = measure(db, fn, args.runs)
        rows.append((label, round(med, 1), round(worst, 1), round(cpu, 1)))
        print(f"{label}: {med:.1f} ms (worst {worst:.1f}, CPU {cpu:.1f})", flush=True)
    print(tabulate(rows, headers=["call", "median ms", "worst ms", "CPU ms"], tablefmt="github"))


if __name__ == "__main__":
    main()
