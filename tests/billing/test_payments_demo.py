"""The demo payments step, on a small billing history made with the ORM factories."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger
from db import audit
from db.engine import Database
from db.migrate import upgrade
from db.models import Invoice, InvoiceStatus, PayerSide, Payment, PaymentBatch, PaymentPlan, PlanStatus
from tests.billing.factories_payments import make_client, make_invoice, make_payer
from tui.demo.context import DemoContext
from tui.demo.payments import build_payments
from tui.demo.staff import build_staff

D = Decimal


def _history(ctx: DemoContext) -> None:
    """About what the billing step hands over: 8 weeks of payer invoices and statements."""
    rng = random.Random(7)
    by = ctx.supervisor.user_id

    def go(s: Session) -> tuple[list[int], list[int]]:
        payers = [make_payer(s, f"Payer {k}", terms_days=t) for k, t in enumerate((30, 45, 60))]
        issued: list[int] = []
        statements: list[int] = []
        for c in range(40):
            cid = make_client(s, f"D-{c:04d}", f"First{c}", f"Last{c}")
            for week in range(rng.randint(1, 3)):
                day = ctx.today - dt.timedelta(days=7 * rng.randint(1, 8) + 3)
                payer = rng.choice(payers)
                issued.append(
                    make_invoice(
                        s,
                        client_id=cid,
                        created_by=by,
                        total=D(rng.randint(8000, 40000)) / 100,
                        issue_date=day,
                        payer_id=payer,
                        number=f"D{c:03d}-{week}P",
                    )
                )
                sid = make_invoice(
                    s,
                    client_id=cid,
                    created_by=by,
                    total=D(rng.randint(2500, 30000)) / 100,
                    issue_date=day,
                    number=f"D{c:03d}-{week}S",
                )
                issued.append(sid)
                statements.append(sid)
        return issued, statements

    issued, statements = ctx.db.write(go)
    ctx.data["issued_invoice_ids"] = issued
    ctx.data["statement_ids"] = statements


def _build(db: Database) -> DemoContext:
    ctx = DemoContext.start(db, 1)
    build_staff(ctx)
    _history(ctx)
    build_payments(ctx)
    return ctx


def test_demo_step_pays_some_leaves_some_overdue_and_makes_plans(db: Database) -> None:
    ctx = _build(db)
    plan_ids = ctx.data["plan_ids"]
    statuses = db.read(lambda s: {k: s.get(PaymentPlan, v).status for k, v in plan_ids.items()})  # type: ignore[union-attr]
    assert statuses == {
        "new": PlanStatus.ACTIVE,
        "history": PlanStatus.ACTIVE,
        "late": PlanStatus.LATE,
        "completed": PlanStatus.COMPLETED,
    }

    def figures(s: Session) -> dict[str, object]:
        by_status: dict[InvoiceStatus, int] = {}
        for st in s.scalars(sa.select(Invoice.status)):
            by_status[st] = by_status.get(st, 0) + 1
        overdue = s.scalar(
            sa.select(sa.func.count())
            .select_from(Invoice)
            .where(Invoice.status.in_(ledger.OPEN_STATUSES), Invoice.due_date < ctx.today)
        )
        return {
            "by_status": by_status,
            "overdue": overdue,
            "batches": s.scalar(sa.select(sa.func.count()).select_from(PaymentBatch)),
            "payer_payments": s.scalar(
                sa.select(sa.func.count()).select_from(Payment).where(Payment.side == PayerSide.PAYER)
            ),
            "credit": [
                ledger.account_credit(s, PayerSide.CLIENT, client_id=c) for c in ctx.data["credit_client_ids"]
            ],
            "future_received": s.scalar(
                sa.select(sa.func.count()).select_from(Payment).where(Payment.received_on > ctx.today)
            ),
            "chain": audit.verify(s).ok,
        }

    f = db.read(figures)
    by_status = f["by_status"]
    assert isinstance(by_status, dict)
    for st in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.ISSUED):
        assert by_status.get(st, 0) > 0, st
    assert f["overdue"] and f["payer_payments"]
    assert f["batches"] == 1
    assert len(ctx.data["credit_client_ids"]) == 2
    assert any(c > 0 for c in f["credit"])  # type: ignore[attr-defined]
    assert f["future_received"] == 0
    assert f["chain"]


def test_demo_step_without_billing_history_does_nothing(db: Database) -> None:
    ctx = DemoContext.start(db, 1)
    build_staff(ctx)
    build_payments(ctx)
    assert db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Payment))) == 0


@pytest.mark.slow
def test_demo_step_is_deterministic(tmp_path: Path) -> None:
    def run(name: str) -> list[tuple[str, Decimal, Decimal, dt.date]]:
        db = Database(f"sqlite:///{tmp_path / name}")
        upgrade(db.engine)
        _build(db)
        rows = db.read(
            lambda s: [
                (p.idempotency_key, p.amount, p.unapplied, p.received_on)
                for p in s.scalars(sa.select(Payment).order_by(Payment.id))
            ]
        )
        db.dispose()
        return rows

    assert run("a.db") == run("b.db")
