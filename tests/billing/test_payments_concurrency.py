"""Several clerks paying the same invoice at once: nothing is spent twice, keys hold.

Each thread has its own engine (its own connections), like separate terminals. A short sleep
inside the allocation widens the window between reading a balance and writing it, so without
the row locks (PostgreSQL) the second writer would hit a stale version; on SQLite BEGIN
IMMEDIATE serialises the writers. The subprocess test runs real ``clerkdesk`` processes.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from billing import payments
from db import audit
from db.engine import Database
from db.models import Allocation, InvoiceStatus, Payment
from tests.billing.factories_payments import count_rows, invoice_figures, make_client, make_invoice
from tests.conftest import FROZEN_NOW, Office, mark_demo

D = Decimal
TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def slow_spend(monkeypatch: pytest.MonkeyPatch) -> None:
    real = payments._spend

    def slow(*a: Any, **kw: Any) -> Any:
        time.sleep(0.05)
        return real(*a, **kw)

    monkeypatch.setattr(payments, "_spend", slow)


def _run_threads(db_url: str, n: int, fn: Any) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            r = db.write(lambda s: fn(s, i))
            with lock:
                results.append(r)
        except BaseException as e:  # collected and asserted on below
            with lock:
                errors.append(e)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def _setup(office: Office) -> tuple[int, int, int]:
    def go(s: sa.orm.Session) -> tuple[int, int, int]:
        c = make_client(s, "A-7007")
        a = make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="100.00",
            issue_date=dt.date(2026, 9, 1),
            number="C-1",
        )
        b = make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="50.00",
            issue_date=dt.date(2026, 10, 1),
            number="C-2",
        )
        return c, a, b

    return office.db.write(go)


def _allocated(db: Database, invoice_id: int) -> Decimal:
    return db.read(
        lambda s: s.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount), D("0.00"))).where(
                Allocation.invoice_id == invoice_id
            )
        )
    )


@pytest.mark.parametrize("named", [True, False], ids=["named_invoice", "oldest_first"])
def test_concurrent_payments_never_over_allocate(
    office: Office, db_url: str, slow_spend: None, named: bool
) -> None:
    client, inv_a, inv_b = _setup(office)
    n = 6

    def pay(s: sa.orm.Session, i: int) -> payments.PostResult:
        return payments.post_payment(
            office.clerk if i % 2 else office.clerk2,
            s,
            side="client",
            client_id=client,
            amount=D("100.00"),
            method="check",
            received_on=TODAY,
            idempotency_key=f"race-{i}",
            invoice_id=inv_a if named else None,
        )

    results, errors = _run_threads(db_url, n, pay)
    assert invoice_figures(office.db, inv_a) == (D("100.00"), InvoiceStatus.PAID)
    assert _allocated(office.db, inv_a) == D("100.00")
    if named:
        # One clerk paid C-1; the others were told it is paid now, and nothing of theirs was saved.
        assert len(results) == 1
        assert [str(e) for e in errors] == ["invoice: C-1 is paid and takes no payment"] * (n - 1)
        assert invoice_figures(office.db, inv_b) == (D("0.00"), InvoiceStatus.ISSUED)
        assert count_rows(office.db, Payment) == 1
    else:
        # Oldest first: the first takes C-1, the next C-2, the rest is credit. Nothing twice.
        assert errors == []
        assert invoice_figures(office.db, inv_b) == (D("50.00"), InvoiceStatus.PAID)
        assert _allocated(office.db, inv_b) == D("50.00")
        assert sum((r.payment.unapplied for r in results), D("0.00")) == D("450.00")
        assert count_rows(office.db, Payment) == n


def test_concurrent_reposts_of_one_key_record_one_payment(
    office: Office, db_url: str, slow_spend: None
) -> None:
    client, inv_a, _ = _setup(office)
    n = 5

    def pay(s: sa.orm.Session, i: int) -> payments.PostResult:
        return payments.post_payment(
            office.clerk,
            s,
            side="client",
            client_id=client,
            amount=D("30.00"),
            method="card",
            received_on=TODAY,
            idempotency_key="same-key",
        )

    results, errors = _run_threads(db_url, n, pay)
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False] + [True] * (n - 1)
    assert {r.payment.id for r in results} == {results[0].payment.id}
    assert count_rows(office.db, Payment) == 1
    assert invoice_figures(office.db, inv_a) == (D("30.00"), InvoiceStatus.PARTIALLY_PAID)


def test_a_twin_insert_after_the_lookup_becomes_the_duplicate_path(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index settles a twin that slipped past the look-up (savepoint, then replay)."""
    client, inv_a, _ = _setup(office)
    kw: dict[str, Any] = {
        "side": "client",
        "client_id": client,
        "amount": D("10.00"),
        "method": "check",
        "received_on": TODAY,
        "idempotency_key": "twin",
    }
    first = office.db.write(lambda s: payments.post_payment(office.clerk, s, **kw))
    real = payments._by_key
    calls = {"n": 0}

    def blind_once(s: sa.orm.Session, key: str) -> Payment | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(s, key)

    monkeypatch.setattr(payments, "_by_key", blind_once)
    again = office.db.write(lambda s: payments.post_payment(office.clerk2, s, **kw))
    assert calls["n"] == 2
    assert again.duplicate and again.payment.id == first.payment.id
    assert count_rows(office.db, Payment) == 1
    assert invoice_figures(office.db, inv_a) == (D("10.00"), InvoiceStatus.PARTIALLY_PAID)


@pytest.mark.slow
def test_separate_clerkdesk_processes_paying_one_invoice(office: Office, db_url: str, tmp_path: Path) -> None:
    _client, inv_a, _ = _setup(office)
    mark_demo(db_url)
    env = {**os.environ, "CLERKDESK_NOW": FROZEN_NOW}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "--db",
                db_url,
                "--as",
                login,
                "payment",
                "post",
                "--client",
                "A-7007",
                "--amount",
                "100.00",
                "--method",
                "check",
                "--date",
                "2026-11-16",
                "--key",
                f"proc-{i}",
                "--invoice",
                "C-1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i, login in enumerate(["cleo", "carl", "cora"])
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    # One process pays C-1; the two that lose the race are refused (exit 2) and save nothing.
    assert sorted(p.returncode for p in procs) == [0, 2, 2], outs
    assert (
        sorted(err for _, err in outs)[1:] == ["clerkdesk: invoice: C-1 is paid and takes no payment\n"] * 2
    )
    assert invoice_figures(office.db, inv_a) == (D("100.00"), InvoiceStatus.PAID)
    assert _allocated(office.db, inv_a) == D("100.00")
    assert count_rows(office.db, Payment) == 1


@pytest.mark.slow
def test_batch_and_payment_writers_on_one_payer_never_deadlock(office: Office, db_url: str) -> None:
    """2 batch writers + 2 payment writers on one payer's invoices (issue 11 §5).

    Before one lock order, a batch locked the audit head first and then the invoices, a
    payment the invoices and then the head: on PostgreSQL most of these transactions deadlocked.
    """
    import multiprocessing as mp

    from tests.billing import workers_payments as wp
    from tests.billing.factories_payments import make_payer, payments_total

    def go(s: sa.orm.Session) -> int:
        c = make_client(s, "A-8008")
        payer = make_payer(s)
        for k in range(40):
            make_invoice(
                s,
                client_id=c,
                payer_id=payer,
                created_by=office.sup.user_id,
                total="100.00",
                issue_date=dt.date(2026, 9, 1) + dt.timedelta(days=k),
            )
        return payer

    payer = office.db.write(go)
    times = 15
    ctx = mp.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    targets = [wp.batch_writer, wp.batch_writer, wp.payment_writer, wp.payment_writer]
    procs = [
        ctx.Process(target=t, args=(db_url, login, w, times, payer, FROZEN_NOW, results, start))
        for w, (t, login) in enumerate(zip(targets, ["cleo", "carl", "cora", "cleo"], strict=True))
    ]
    for p in procs:
        p.start()
    start.set()
    got = [results.get(timeout=240) for _ in range(len(procs) * times)]
    for p in procs:
        p.join(timeout=60)
    failures = [r for r in got if r[1] != "ok"]
    assert failures == [], f"{len(failures)} of {len(got)} transactions failed: {failures[:3]}"
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    # Nothing lost: 2 x 15 batches of $21 and 2 x 15 payments of $5, all allocated.
    assert count_rows(office.db, Payment) == 2 * times * 3 + 2 * times
    assert payments_total(office.db) == D("780.00")
    assert _allocated_all(office.db) == D("780.00")
    assert office.db.read(audit.verify).ok


def _allocated_all(db: Database) -> Decimal:
    return db.read(lambda s: s.scalar(sa.select(sa.func.sum(Allocation.amount))))
