"""Many processes writing at once: throughput, latency, lost writes and surfaced errors.

N processes (default 16) each make W (default 300) mixed writes through the services, as
clerks at separate terminals would: a payer's payment (4 shared payers, oldest invoice first),
a client's payment (one of 8 shared clients), a batch of 2 checks from a shared payer, and a
staff edit. Every write is one ``Database.write``; a failure that reaches the caller counts as
a surfaced error. Afterwards the payments are counted and the audit chain verified.

The reference is a raw sqlite3 loop of the same shape (N processes, W transactions each:
BEGIN IMMEDIATE, select the oldest open invoice, insert a payment, update the invoice, insert
an allocation, insert an audit row, update the head, COMMIT) on the same pragmas.

    python -m bench.bench_concurrency                                 # SQLite (a temp file)
    python -m bench.bench_concurrency --db postgresql://postgres@127.0.0.1/postgres
    python -m bench.bench_concurrency --procs 16 --writes 300 --raw   # also run the raw loop
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import payments
from db import audit, timeutil
from db.engine import BUSY_TIMEOUT_MS, Database, make_engine, normalize_url
from db.migrate import upgrade
from db.models import (
    BillTo,
    Client,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    PayerKind,
    Payment,
    Role,
)
from db.rights import SYSTEM
from scheduling import staff

NOW = "2026-11-16T15:00:00+00:00"
TODAY = dt.date(2026, 11, 16)
PAYERS = 4
CLIENTS = 8
INVOICES_PER_PARTY = 150  # a payer's open invoices
STATEMENTS_PER_CLIENT = 6  # a client's own open bills


def _setup(url: str, procs: int) -> dict[str, list[int]]:
    db = Database(url)

    def people(s: Session) -> None:
        staff.add_team(SYSTEM, s, "Bench")
        staff.add_user(SYSTEM, s, login="boss", name="Bench Boss", role=Role.SUPERVISOR, team="Bench")

    db.write(people)
    boss = db.read(lambda s: staff.resolve_actor(s, "boss"))

    def clerks(s: Session) -> None:
        for i in range(procs):
            staff.add_user(boss, s, login=f"clerk{i:02d}", name=f"Clerk {i}", role=Role.CLERK, team="Bench")

    db.write(clerks)

    def parties(s: Session) -> dict[str, list[int]]:
        payer_ids, client_ids = [], []
        for i in range(PAYERS):
            p = Payer(name=f"Payer {i}", kind=PayerKind.INSURER, terms_days=30)
            s.add(p)
            s.flush()
            payer_ids.append(p.id)
        for i in range(CLIENTS):
            c = Client(account_number=f"B-{i:04d}", first_name="Bench", last_name=f"Client{i}")
            s.add(c)
            s.flush()
            client_ids.append(c.id)
        for k in range(INVOICES_PER_PARTY):
            day = dt.date(2025, 1, 1) + dt.timedelta(days=k)
            for j, payer in enumerate(payer_ids):
                s.add(_invoice(f"P{j}-{k:04d}", client_ids[k % CLIENTS], payer, day, boss.user_id))
            if k < STATEMENTS_PER_CLIENT:
                for j, client in enumerate(client_ids):
                    s.add(_invoice(f"C{j}-{k:04d}", client, None, day, boss.user_id))
        return {"payers": payer_ids, "clients": client_ids}

    ids = db.write(parties)
    db.dispose()
    return ids


def _invoice(number: str, client: int, payer: int | None, day: dt.date, by: int) -> Invoice:
    return Invoice(
        number=number,
        kind=InvoiceKind.INVOICE if payer else InvoiceKind.STATEMENT,
        client_id=client,
        bill_to=BillTo.PAYER if payer else BillTo.CLIENT,
        payer_id=payer,
        status=InvoiceStatus.ISSUED,
        issue_date=day,
        due_date=day + dt.timedelta(days=30),
        total=Decimal("100000.00"),
        amount_paid=Decimal("0.00"),
        amount_adjusted=Decimal("0.00"),
        created_by=by,
        issued_by=by,
        issued_at=pendulum.datetime(day.year, day.month, day.day, 15, tz="UTC"),
    )


def _one_write(db: Database, actor: Any, boss: Any, worker: int, i: int, ids: dict[str, list[int]]) -> int:
    """One mixed write; returns how many payments it records."""
    kind = (worker + i) % 4
    payer = ids["payers"][(worker + i) % PAYERS]
    client = ids["clients"][(worker * 7 + i) % CLIENTS]
    key = f"w{worker}-{i}"
    if kind == 0:
        db.write(
            lambda s: payments.post_payment(
                actor, s, side="payer", payer_id=payer, amount=Decimal("3.00"), method="eft",
                received_on=TODAY, idempotency_key=key,
            )
        )  # fmt: skip
        return 1
    if kind == 1:
        db.write(
            lambda s: payments.post_payment(
                actor, s, side="client", client_id=client, amount=Decimal("2.00"), method="card",
                received_on=TODAY, idempotency_key=key,
            )
        )  # fmt: skip
        return 1
    if kind == 2:
        items = [payments.BatchItem(side="payer", payer_id=payer, amount=Decimal("1.50")) for _ in range(2)]
        db.write(
            lambda s: payments.post_batch(
                actor, s, batch_key=key, control_total=Decimal("3.00"), count=2,
                received_on=TODAY, items=items,
            )
        )  # fmt: skip
        return 2
    minutes = 2000 + (i % 200)
    db.write(lambda s: staff.edit_user(boss, s, f"clerk{worker:02d}", contracted_minutes=minutes))
    return 0


def _worker(
    url: str, worker: int, writes: int, ids: dict[str, list[int]], ready: Any, start: Any, out: Any
) -> None:
    timeutil.freeze(NOW)
    db = Database(url)
    actor = db.read(lambda s: staff.resolve_actor(s, f"clerk{worker:02d}"))
    boss = db.read(lambda s: staff.resolve_actor(s, "boss"))
    lat: list[float] = []
    errors: list[str] = []
    paid = 0
    ready.put(worker)
    start.wait()
    for i in range(writes):
        t = time.perf_counter()
        try:
            paid += _one_write(db, actor, boss, worker, i, ids)
        except Exception as exc:  # a surfaced error: what a clerk would see
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        lat.append(time.perf_counter() - t)
    db.dispose()
    out.put((lat, errors, paid, time.perf_counter()))


def _raw_worker(path: str, worker: int, writes: int, ready: Any, start: Any, out: Any) -> None:
    con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=ON")
    lat: list[float] = []
    errors: list[str] = []
    ready.put(worker)
    start.wait()
    for i in range(writes):
        t = time.perf_counter()
        try:
            con.execute("BEGIN IMMEDIATE")
            (inv,) = con.execute(
                "SELECT id FROM inv WHERE party = ? AND paid < total ORDER BY due, id LIMIT 1", (i % 8,)
            ).fetchone()
            cur = con.execute("INSERT INTO pay (key, amount) VALUES (?, 300)", (f"{worker}-{i}",))
            con.execute("UPDATE inv SET paid = paid + 300, version = version + 1 WHERE id = ?", (inv,))
            con.execute("INSERT INTO alloc (pay_id, inv_id, amount) VALUES (?, ?, 300)", (cur.lastrowid, inv))
            prev = con.execute("SELECT last_hash FROM head WHERE id = 1").fetchone()[0]
            a = con.execute("INSERT INTO log (body, prev) VALUES (?, ?)", (f"pay {cur.lastrowid}", prev))
            con.execute(
                "UPDATE head SET last_id = ?, last_hash = ? WHERE id = 1", (a.lastrowid, str(a.lastrowid))
            )
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            errors.append(str(exc))
            if con.in_transaction:
                con.execute("ROLLBACK")
        lat.append(time.perf_counter() - t)
    con.close()
    out.put((lat, errors, writes - len(errors), time.perf_counter()))


def _raw_setup(path: str) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(
        """
        CREATE TABLE inv (id INTEGER PRIMARY KEY, party INT, due TEXT, total INT, paid INT, version INT);
        CREATE INDEX inv_party ON inv (party, due);
        CREATE TABLE pay (id INTEGER PRIMARY KEY, key TEXT UNIQUE, amount INT);
        CREATE TABLE alloc (id INTEGER PRIMARY KEY, pay_id INT REFERENCES pay, inv_id INT REFERENCES inv,
                            amount INT);
        CREATE TABLE log (id INTEGER PRIMARY KEY, body TEXT, prev TEXT);
        CREATE TABLE head (id INTEGER PRIMARY KEY, last_id INT, last_hash TEXT);
        INSERT INTO head VALUES (1, 0, '');
        """
    )
    con.executemany(
        "INSERT INTO inv (party, due, total, paid, version) VALUES (?, ?, 10000000, 0, 0)",
        [(k % 8, f"2025-{1 + k % 12:02d}-01") for k in range(1200)],
    )
    con.close()


def _run(target: Any, argsets: list[tuple[Any, ...]]) -> tuple[list[float], list[str], int, float]:
    ctx = mp.get_context("spawn")
    ready, start, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, ready, start, out)) for a in argsets]
    for p in procs:
        p.start()
    for _ in procs:  # every child imported and connected before the clock starts
        ready.get(timeout=600)
    t0 = time.perf_counter()
    start.set()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    lat = [x for r in results for x in r[0]]
    errors = [e for r in results for e in r[1]]
    done = sum(r[2] for r in results)
    wall = max(r[3] for r in results) - t0
    return lat, errors, done, wall


def _report(name: str, lat: list[float], errors: list[str], wall: float) -> float:
    tx = len(lat) - len(errors)
    q = statistics.quantiles(lat, n=100)
    rate = tx / wall
    print(
        f"{name}: {tx} tx in {wall:.1f} s = {rate:.0f} tx/s; latency p50 {q[49] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms; {len(errors)} errors surfaced"
    )
    for e in sorted(set(errors))[:5]:
        print(f"   {errors.count(e)} x {e}")
    return rate


def _fresh_url(db_arg: str | None, folder: Path) -> tuple[str, Any]:
    if not db_arg:
        return f"sqlite:///{folder / 'bench.db'}", None
    admin = sa.create_engine(normalize_url(db_arg), isolation_level="AUTOCOMMIT")
    name = f"clerkdesk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(normalize_url(db_arg)).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--db", help="a PostgreSQL server URL (a throwaway database is made on it); default SQLite"
    )
    ap.add_argument("--procs", type=int, default=16)
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--raw", action="store_true", help="also run the raw sqlite3 loop (SQLite only)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.setdefault("CLERKDESK_AUDIT_KEY_FILE", str(folder / "audit.key"))
        url, drop = _fresh_url(args.db, folder)
        try:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            ids = _setup(url, args.procs)
            lat, errors, paid, wall = _run(_worker, [(url, w, args.writes, ids) for w in range(args.procs)])
            backend = "PostgreSQL" if drop else "SQLite"
            _report(
                f"ClerkDesk on {backend}, {args.procs} processes x {args.writes} mixed writes",
                lat,
                errors,
                wall,
            )
            db = Database(url)
            timeutil.freeze(NOW)
            stored = db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Payment)))
            check = db.read(audit.verify)
            db.dispose()
            print(
                f"   payments recorded {stored}, expected {paid}: {paid - stored} lost; audit: {check.message}"
            )
            if args.raw and not drop:
                raw = str(folder / "raw.db")
                _raw_setup(raw)
                lat, errors, _, wall = _run(_raw_worker, [(raw, w, args.writes) for w in range(args.procs)])
                _report(f"raw sqlite3 loop, {args.procs} processes x {args.writes}", lat, errors, wall)
        finally:
            if drop:
                drop()


if __name__ == "__main__":
    main()
