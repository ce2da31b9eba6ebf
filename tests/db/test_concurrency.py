"""Several processes writing at once (issue 11 §5): no lost update, no error, no forked audit chain.

On SQLite, ``Database.write`` starts with BEGIN IMMEDIATE, so read-modify-write transactions are
serialised by the database lock (waiting up to the busy timeout). On PostgreSQL (READ COMMITTED)
the same code would lose updates: a transaction that reads a row to compute its new value must
lock it with ``SELECT ... FOR UPDATE`` (``session.get(..., with_for_update=True)`` or
``select(...).with_for_update()``), as the workers here do. Services must do the same.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from db import audit
from db.engine import Database
from db.models import AuditEntry, AuditHead, Setting
from tests.db import workers

pytestmark = pytest.mark.slow


def _run_all(target: Callable[..., None], argsets: list[tuple[Any, ...]]) -> None:
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited engine, lock or thread
    start = ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, start)) for args in argsets]
    for p in procs:
        p.start()
    start.set()  # all at once, to collide as much as possible
    for p in procs:
        p.join(timeout=180)
    codes = [p.exitcode for p in procs]
    for p in procs:
        if p.is_alive():
            p.kill()
    assert codes == [0] * len(procs), f"worker exit codes {codes} (tracebacks above)"


def test_eight_processes_read_modify_write_without_lost_updates(db: Database) -> None:
    db.write(lambda s: s.add(Setting(key=workers.COUNTER, value=0)))
    _run_all(workers.bump_counter, [(db.url, 50, seed) for seed in range(8)])
    assert db.read(lambda s: s.get(Setting, workers.COUNTER).value) == 400


def test_audit_chain_stays_linear_under_concurrent_writers(db: Database) -> None:
    # No audit row and no head row yet: the first writers also race to create the head.
    assert db.read(lambda s: s.get(AuditHead, 1)) is None
    _run_all(workers.audited_changes, [(db.url, w, 25, w) for w in range(4)])
    result = db.read(audit.verify)
    assert result.ok, result.message
    assert result.rows_checked == 100
    rows = db.read(lambda s: s.execute(sa.select(AuditEntry.prev_hash, AuditEntry.hash)).all())
    assert len({r.prev_hash for r in rows}) == 100  # every row extends a different tip: no fork
    head = db.read(lambda s: s.get(AuditHead, 1))
    assert head.last_id == db.read(lambda s: s.scalar(sa.select(sa.func.max(AuditEntry.id))))
