"""Generate an office at scale for the benchmarks: 200 clerks, 200,000 clients, 2,000,000 invoices.

The rows go in with bulk Core inserts, not through the services: the services (one audited
transaction per action) would take hours for two million invoices, and the benchmarks measure
the read paths a person waits on (dashboard, search, lists, account header), which do not care
how the rows were written. The database is marked ``office.bench`` so nobody mistakes it for
an office; its audit log is empty.

    python -m bench.scale_office --db sqlite:////tmp/scale.db [--clients 200000] [--invoices 2000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from db.engine import Database
from db.migrate import upgrade
from db.models import (
    Client,
    Coverage,
    Invoice,
    InvoiceLine,
    Payer,
    ServiceCode,
    Setting,
    Shift,
    ShiftType,
    Team,
    User,
    name_search_key,
)
from db.timeutil import local_instant, now

FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vic",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Smith",
    "Johnson",
    "Nguyen",
    "Garcia",
    "Chen",
    "Okafor",
    "Müller",
    "Rossi",
    "Kim",
    "Patel",
    "Lopez",
    "Brown",
    "Novak",
    "Haddad",
    "Silva",
    "Kowalski",
    "Ivanova",
    "Tanaka",
    "O'Brien",
    "Dubois",
    "Schmidt",
    "Andersen",
    "Costa",
    "Yilmaz",
    "Moreau",
    "Sato",
    "Reyes",
    "Walker",
    "Adeyemi",
    "Khan",
]

BATCH = 20_000


def batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    buf: list[dict[str, Any]] = []
    for r in rows:
        buf.append(r)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def generate(db: Database, *, clerks: int, clients: int, invoices: int, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    instant = now()
    created = dt.datetime(*instant.timetuple()[:6])  # naive UTC, as the UTCDateTime column stores it
    local = instant.in_timezone("America/New_York")
    today = dt.date(local.year, local.month, local.day)

    def insert(table: sa.Table, rows: Iterator[dict[str, Any]], label: str) -> None:
        # A bare table() has untyped columns: values go to the driver as they are (cents as ints,
        # naive UTC datetimes), skipping per-value type processing that would dominate 2M rows.
        t = time.perf_counter()
        first = next(rows, None)
        if first is None:
            return
        raw = sa.table(table.name, *[sa.column(k) for k in first])
        stmt = raw.insert()
        for chunk in batches(itertools.chain([first], rows)):
            with db.write_session() as s:
                s.execute(stmt, chunk)
        timings[label] = time.perf_counter() - t

    with db.write_session() as s:
        s.add(Setting(key="office.bench", value=True))
        s.add(Setting(key="office.demo", value=True))  # a demo-like office (--as: see main)
        s.add_all([Team(name=f"Team {i}") for i in range(1, 11)])
        for kind in ("insurer", "government", "employer", "other"):
            for i in range(5):
                s.add(Payer(name=f"{kind.title()} payer {i}", kind=kind, terms_days=30))
        for i in range(40):
            s.add(ServiceCode(code=f"X{i:04d}", description=f"Bench service {i}", fee=Decimal("85.00")))
        s.add(ShiftType(code="E", name="Early", start_time=dt.time(7), minutes=480))
    insert(
        User.__table__,
        (
            {
                "login": f"{'sup' if i < 10 else 'clerk'}{i:03d}",
                "name": f"Bench Person {i}",
                "role": "supervisor" if i < 10 else "clerk",
                "team_id": i % 10 + 1,
                "skills": '["insurer"]',
                "contracted_minutes": 2400,
                "email": "",
                "active": True,
                "hire_date": dt.date(2020, 1, 1),
                "created_at": created,
                "version": 1,
            }
            for i in range(clerks + 10)
        ),
        "users",
    )
    clerk_ids = list(range(11, clerks + 11))

    def client_rows() -> Iterator[dict[str, Any]]:
        for i in range(1, clients + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            yield {
                "account_number": f"A{i:07d}",
                "first_name": first,
                "last_name": last,
                "search_name": name_search_key(last, first),
                "date_of_birth": dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                "phone": f"555{rng.randrange(10**7):07d}",
                "email": "",
                "preferred_channel": "phone",
                "language": "en",
                "notes": "",
                "special_concerns": "",
                "status": "active",
                "owner_id": rng.choice(clerk_ids),
                "created_at": created,
                "version": 1,
                "address_line1": f"{i} Main St",
                "address_line2": "",
                "city": "Springfield",
                "region": "MA",
                "postal_code": "01103",
            }

    insert(Client.__table__, client_rows(), "clients")
    insert(
        Coverage.__table__,
        (
            {
                "client_id": i,
                "payer_id": 1 + i % 20,
                "rank": "primary",
                "member_id": f"M{i:09d}",
                "group_number": "",
                "subscriber_name": "",
                "subscriber_relation": "self",
                "effective_from": dt.date(2024, 1, 1),
                "copay": 2000,
                "coinsurance_bp": 2000,
                "deductible": 50000,
                "deductible_remaining": 0,
                "active": True,
                "created_at": created,
                "version": 1,
            }
            for i in range(1, clients + 1)
            if i % 10 < 7
        ),
        "coverages",
    )

    statuses = ["paid"] * 6 + ["issued", "partially_paid", "issued", "void"]

    def invoice_rows() -> Iterator[dict[str, Any]]:
        for i in range(1, invoices + 1):
            issued = today - dt.timedelta(days=rng.randrange(720))
            to_payer = i % 3 != 0
            status = rng.choice(statuses)
            total = rng.randrange(2000, 90000)  # cents
            paid = total if status == "paid" else total // 2 if status == "partially_paid" else 0
            yield {
                "number": f"INV-{i:08d}",
                "kind": "invoice" if to_payer else "statement",
                "client_id": rng.randrange(1, clients + 1),
                "bill_to": "payer" if to_payer else "client",
                "payer_id": 1 + i % 20 if to_payer else None,
                "status": status,
                "issue_date": issued,
                "due_date": issued + dt.timedelta(days=30),
                "total": total,
                "amount_paid": paid,
                "amount_adjusted": 0,
                "dispute_hold": False,
                "void_reason": "",
                "created_by": rng.choice(clerk_ids),
                "issued_by": rng.choice(clerk_ids),
                "issued_at": created,
                "created_at": created,
                "version": 1,
            }

    insert(Invoice.__table__, invoice_rows(), "invoices")
    insert(
        InvoiceLine.__table__,
        (
            {
                "invoice_id": i,
                "line_no": 1,
                "code": "X0001",
                "description": "Bench service",
                "service_date": today,
                "units": 1,
                "unit_price": 8500,
                "amount": 8500,
                "explain": "[]",
            }
            for i in range(1, invoices + 1)
        ),
        "invoice lines",
    )
    start_at = local_instant(today, dt.time(7), "America/New_York").in_timezone("UTC")
    start = dt.datetime(*start_at.timetuple()[:6])
    insert(
        Shift.__table__,
        (
            {
                "user_id": uid,
                "day": today,
                "shift_type_id": 1,
                "status": "published",
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=8),
                "fixed": False,
                "created_by": 1,
                "created_at": created,
                "version": 1,
            }
            for uid in clerk_ids[: int(len(clerk_ids) * 0.7)]
        ),
        "shifts",
    )
    return timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--clerks", type=int, default=200)
    ap.add_argument("--clients", type=int, default=200_000)
    ap.add_argument("--invoices", type=int, default=2_000_000)
    args = ap.parse_args()
    db = Database(args.db)
    upgrade(db.engine)
    from tui.demos import record_demo

    record_demo(args.db)  # `--as` works on it for this Unix account (a row in it would not do)
    t = time.perf_counter()
    timings = generate(db, clerks=args.clerks, clients=args.clients, invoices=args.invoices)
    for k, v in timings.items():
        print(f"{k:>14}: {v:7.1f} s")
    if db.is_sqlite:
        with db.engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(f"{'total':>14}: {time.perf_counter() - t:7.1f} s")


if __name__ == "__main__":
    main()
