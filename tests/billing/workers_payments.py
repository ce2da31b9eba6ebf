"""Code run in child processes by the payment concurrency tests (spawned: importable, top-level)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from billing import payments
from db import timeutil
from db.engine import Database
from scheduling import staff

TODAY = dt.date(2026, 11, 16)


def _errors(results: Any, worker: str, exc: BaseException) -> None:
    results.put((worker, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))


def batch_writer(
    url: str, login: str, worker: int, times: int, payer_id: int, now: str, results: Any, start: Any
) -> None:
    """``times`` batches of 3 checks from one payer, each batch one transaction."""
    timeutil.freeze(now)
    db = Database(url)
    actor = db.read(lambda s: staff.resolve_actor(s, login))
    start.wait()
    for i in range(times):
        items = [
            payments.BatchItem(side="payer", payer_id=payer_id, amount=Decimal("7.00")) for _ in range(3)
        ]
        try:
            db.write(
                lambda s, i=i, items=items: payments.post_batch(
                    actor,
                    s,
                    batch_key=f"b{worker}-{i}",
                    control_total=Decimal("21.00"),
                    count=3,
                    received_on=TODAY,
                    items=items,
                )
            )
            results.put((f"batch{worker}", "ok"))
        except Exception as exc:  # counted by the test: every failure is one surfaced error
            _errors(results, f"batch{worker}", exc)
    db.dispose()


def payment_writer(
    url: str, login: str, worker: int, times: int, payer_id: int, now: str, results: Any, start: Any
) -> None:
    """``times`` single payments from one payer, oldest invoice first."""
    timeutil.freeze(now)
    db = Database(url)
    actor = db.read(lambda s: staff.resolve_actor(s, login))
    start.wait()
    for i in range(times):
        try:
            db.write(
                lambda s, i=i: payments.post_payment(
                    actor,
                    s,
                    side="payer",
                    payer_id=payer_id,
                    amount=Decimal("5.00"),
                    method="eft",
                    received_on=TODAY,
                    idempotency_key=f"p{worker}-{i}",
                )
            )
            results.put((f"pay{worker}", "ok"))
        except Exception as exc:
            _errors(results, f"pay{worker}", exc)
    db.dispose()
