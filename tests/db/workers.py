"""Code run in child processes by the concurrency tests (spawned: importable, top-level)."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy.orm import Session

from db import audit
from db.engine import Database
from db.models import Setting
from db.rights import SYSTEM

COUNTER = "test.counter"


def bump_counter(url: str, times: int, seed: int, start: Any) -> None:
    """Read-modify-write a counter ``times`` times, each in its own write transaction.

    The read uses ``SELECT ... FOR UPDATE``: on PostgreSQL (READ COMMITTED) a plain read lets two
    transactions read the same value and one update is lost; services that read a row to compute
    its new value must lock it the same way. On SQLite the clause is ignored and BEGIN IMMEDIATE
    already serialises writers.
    """
    db = Database(url)
    rng = random.Random(seed)
    start.wait()
    for _ in range(times):

        def bump(s: Session) -> None:
            row = s.get(Setting, COUNTER, with_for_update=True)
            assert row is not None
            value = int(row.value)
            time.sleep(rng.random() * 0.002)  # widen the window between read and write
            row.value = value + 1

        db.write(bump)
    db.dispose()


def audited_changes(url: str, worker: int, times: int, seed: int, start: Any) -> None:
    db = Database(url)
    rng = random.Random(seed)
    start.wait()
    for i in range(times):

        def change(s: Session, i: int = i) -> None:
            time.sleep(rng.random() * 0.002)  # overlap the transactions
            audit.record(s, SYSTEM, "test", f"{worker}-{i}", "bump", {"n": i}, {"n": i + 1})

        db.write(change)
    db.dispose()
