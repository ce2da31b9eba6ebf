"""Invoice numbers stay gap-free and unique when 8 processes issue at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import TypeVar

import pytest
import sqlalchemy as sa

from billing import invoices
from db import audit, timeutil
from db.engine import Database
from db.models import Invoice, InvoiceStatus, NumberSequence
from db.rights import Actor
from tests.billing.billing_setup import World, make_world
from tests.conftest import FROZEN_NOW, Office

T = TypeVar("T")
PROCESSES = 8
PER_PROCESS = 5


class _Boom(Exception):
    pass


def _write(db: Database, fn: Callable[[sa.orm.Session], T]) -> T:
    """SQLite gives up after its 15 s busy timeout; on a loaded test machine eight writers can
    queue longer than that, so a writer that timed out simply tries again (as a clerk would)."""
    for attempt in range(20):
        try:
            return db.write(fn)
        except sa.exc.OperationalError as e:
            if "database is locked" not in str(e) or attempt == 19:
                raise
    raise AssertionError("unreachable")


def _issuer(
    url: str, actor: Actor, ids: list[int], barrier: Barrier, roll_back_first: bool, out: Queue
) -> None:
    """One process: its own Database on the same file / PostgreSQL database."""
    timeutil.freeze(FROZEN_NOW)
    db = Database(url)
    numbers: list[str | None] = []
    try:
        barrier.wait(timeout=120)
        if roll_back_first:
            # Take a number, then fail the transaction: the number must come back for the next issuer.
            def fail_after_numbering(s: sa.orm.Session) -> None:
                invoices.issue_invoice(actor, s, ids[0])
                raise _Boom()

            try:
                _write(db, fail_after_numbering)
            except _Boom:
                pass
        for iid in ids:
            numbers.append(_write(db, lambda s, iid=iid: invoices.issue_invoice(actor, s, iid)).number)
        out.put(("ok", numbers))
    except Exception as e:  # reported to the test, which fails with it
        out.put(("error", f"{type(e).__name__}: {e}"))
    finally:
        db.dispose()


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


@pytest.mark.slow
def test_eight_processes_issue_without_gaps_or_duplicates(world: World, db_url: str) -> None:
    bo = world.new_client()
    # One service a day: the same code twice on one day is a duplicate the issue check refuses.
    first = dt.date(2026, 1, 1)
    sids = [
        world.service("T1013", client=bo, day=first + dt.timedelta(days=k))
        for k in range(PROCESSES * PER_PROCESS)
    ]
    drafts = [
        world.w(world.clerk, lambda a, s, sid=sid: invoices.build_invoices(a, s, bo, service_ids=[sid]))
        .drafts[0]
        .id
        for sid in sids
    ]
    clerks = [world.office.clerk, world.office.clerk2, world.office.clerk3, world.sup]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out: Queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=_issuer,
            args=(
                db_url,
                clerks[p % len(clerks)],
                drafts[p * PER_PROCESS : (p + 1) * PER_PROCESS],
                barrier,
                p % 3 == 0,
                out,
            ),
        )
        for p in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    reports = [out.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert [r for r in reports if r[0] != "ok"] == []
    numbers = [n for _, got in reports for n in got]
    expected = [f"INV-{n:06d}" for n in range(1, PROCESSES * PER_PROCESS + 1)]
    assert sorted(numbers) == expected  # every number once: no gap, no duplicate

    def stored(s: sa.orm.Session) -> tuple[list[str], int, bool]:
        rows = s.scalars(sa.select(Invoice.number).where(Invoice.status == InvoiceStatus.ISSUED)).all()
        seq = s.scalar(sa.select(NumberSequence.next_value).where(NumberSequence.name == "invoice"))
        return sorted(n for n in rows if n), seq, audit.verify(s).ok

    assert world.db.read(stored) == (expected, PROCESSES * PER_PROCESS + 1, True)
