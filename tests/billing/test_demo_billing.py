"""The demo billing step: every kind of payer billed, overdue statements, today's work, same data
from the same seed (a smaller office than ``clerkdesk demo`` builds, to keep the test short)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import tui.demo.billing as demo_billing
from billing import services
from db import audit, timeutil
from db.engine import Database
from db.models import Client, Invoice, InvoiceKind, InvoiceStatus, Payer, PayerKind
from tui.demo.context import DemoContext
from tui.demo.staff import build_staff


def _build(db: Database, monkeypatch: pytest.MonkeyPatch) -> DemoContext:
    monkeypatch.setattr(demo_billing, "CLIENTS", 120)
    monkeypatch.setattr(demo_billing, "WEEKS", 6)
    ctx = DemoContext.start(db, seed=3)
    build_staff(ctx)
    demo_billing.build_billing(ctx)
    return ctx


def _ledger(s: Session) -> list[tuple[Any, ...]]:
    rows = s.execute(
        sa.select(
            Invoice.number, Invoice.kind, Invoice.status, Invoice.total, Client.account_number, Payer.name
        )
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Payer, Payer.id == Invoice.payer_id)
        .order_by(Invoice.id)
    ).all()
    return [tuple(r) for r in rows]


@pytest.mark.slow
def test_demo_billing_step(
    db: Database, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _build(db, monkeypatch)
    assert timeutil.now().isoformat() == "2026-11-16T15:00:00+00:00"  # the clock is put back
    today = ctx.today

    def facts(s: Session) -> dict[str, Any]:
        billed_kinds = set(
            s.scalars(
                sa.select(Payer.kind)
                .join(Invoice, Invoice.payer_id == Payer.id)
                .where(Invoice.status != InvoiceStatus.DRAFT)
            )
        )
        overdue = s.scalar(
            sa.select(sa.func.count()).where(
                Invoice.kind == InvoiceKind.STATEMENT,
                Invoice.status == InvoiceStatus.ISSUED,
                Invoice.due_date < today,
            )
        )
        return {
            "payer_kinds": set(s.scalars(sa.select(Payer.kind))),
            "billed_kinds": billed_kinds,
            "clients": s.scalar(sa.select(sa.func.count()).select_from(Client)),
            "brackets": s.scalar(sa.select(Client.account_number).where(Client.last_name == "[Smith]")),
            "overdue": overdue,
            "audit": audit.verify(s).ok,
            "unbilled": services.clients_with_unbilled(ctx.supervisor, s).rows,
        }

    f = db.read(facts)
    assert f["payer_kinds"] == set(PayerKind) and f["billed_kinds"] == set(PayerKind)
    assert f["clients"] == 120 and f["brackets"] is not None
    assert f["overdue"] > 0 and f["audit"]
    assert {r.client_id for r in f["unbilled"]} == set(ctx.data["unbilled_client_ids"])
    issued = ctx.data["issued_invoice_ids"]
    assert issued and set(ctx.data["statement_ids"]) <= set(issued)
    assert all(
        s == InvoiceStatus.ISSUED
        for s in db.read(lambda s: s.scalars(sa.select(Invoice.status).where(Invoice.id.in_(issued))).all())
    )

    # The same seed builds the same office, on any backend.
    path = tmp_path / "again.db"
    shutil.copy(sqlite_template, path)
    again = Database(f"sqlite:///{path}")
    try:
        _build(again, monkeypatch)
        assert again.read(_ledger) == db.read(_ledger)
    finally:
        again.dispose()
    assert dt.date(2026, 11, 16) == today
