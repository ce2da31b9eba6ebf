"""Demo payments: payers pay most invoices (some short, some not yet: those are overdue),
clients pay their statements (some in part), one stack of checks as a batch, two
overpayments left as account credit (one later applied), and four payment plans: a new one,
a current one with payments behind it, a late one and a completed one.

Runs after the billing step and reads what it handed over in ``ctx.data``:
``issued_invoice_ids`` (oldest first) and ``statement_ids``. Plans made in the past are made
with the program clock set to that day (like the billing history), so their dates, states
and audit rows are what they would have been. Hands over ``ctx.data["plan_ids"]`` (kind →
plan id) and ``ctx.data["credit_client_ids"]``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, payments, plans
from billing.payments import BatchItem
from db import timeutil
from db.models import BillTo, Invoice, Payer, PayerSide, PaymentMethod, PlanInterval
from db.money import ZERO, to_money
from db.rights import Actor
from tui.demo.context import DemoContext

CHUNK = 60  # payments per transaction while building (the app itself posts one at a time)
CLIENT_METHODS = [
    PaymentMethod.CHECK,
    PaymentMethod.CARD,
    PaymentMethod.CARD,
    PaymentMethod.CASH,
    PaymentMethod.BANK_TRANSFER,
]


@dataclass(frozen=True)
class _Inv:
    id: int
    client_id: int
    payer_id: int | None
    bill_to: BillTo
    issue_date: dt.date
    due_date: dt.date
    balance: Decimal
    terms: int


@dataclass(frozen=True)
class _Pay:
    side: PayerSide
    client_id: int | None
    payer_id: int | None
    amount: Decimal
    method: PaymentMethod
    received_on: dt.date
    reference: str
    key: str
    invoice_id: int | None


@contextlib.contextmanager
def _clock_at(ctx: DemoContext, day: dt.date, hour: int = 11) -> Iterator[None]:
    """Run with the program clock at ``hour`` o'clock office time on ``day``, then restore it."""
    previous = timeutil._frozen  # tests freeze the clock; put back exactly what was there
    timeutil.freeze(timeutil.local_instant(day, dt.time(hour, 0), ctx.tz))
    try:
        yield
    finally:
        timeutil.freeze(previous)


def _facts(s: Session, ids: list[int]) -> list[_Inv]:
    out: list[_Inv] = []
    for k in range(0, len(ids), 500):
        rows = s.execute(
            sa.select(Invoice, Payer.terms_days)
            .outerjoin(Payer, Payer.id == Invoice.payer_id)
            .where(Invoice.id.in_(ids[k : k + 500]))
        ).all()
        for inv, terms in rows:
            if inv.status not in ledger.OPEN_STATUSES or inv.balance <= 0 or inv.issue_date is None:
                continue
            out.append(
                _Inv(
                    inv.id,
                    inv.client_id,
                    inv.payer_id,
                    inv.bill_to,
                    inv.issue_date,
                    inv.due_date or inv.issue_date,
                    inv.balance,
                    terms or 30,
                )
            )
    return sorted(out, key=lambda i: (i.issue_date, i.id))


def _post_day(ctx: DemoContext, rng: random.Random, day: dt.date, items: list[_Pay]) -> None:
    """Post one day's mail with the clock on that day, so posted dates match received dates."""
    for k in range(0, len(items), CHUNK):
        part = items[k : k + CHUNK]
        clerk = rng.choice(ctx.clerks)

        def go(actor: Actor, s: Session, part: list[_Pay] = part) -> None:
            for p in part:
                payments.post_payment(
                    actor,
                    s,
                    side=p.side,
                    client_id=p.client_id,
                    payer_id=p.payer_id,
                    amount=p.amount,
                    method=p.method,
                    received_on=p.received_on,
                    reference=p.reference,
                    idempotency_key=p.key,
                    invoice_id=p.invoice_id,
                )

        with _clock_at(ctx, day, 15):
            ctx.write(clerk, go)


def _share(rng: random.Random, balance: Decimal, lo: int, hi: int) -> Decimal:
    """A part of a balance (lo..hi percent), at least a cent and less than the whole."""
    part = to_money(balance * Decimal(rng.randint(lo, hi)) / 100)
    return min(max(part, Decimal("0.01")), balance - Decimal("0.01"))


def build_payments(ctx: DemoContext) -> None:
    issued: list[int] = list(ctx.data.get("issued_invoice_ids", []))
    if not issued:
        return  # no billing history to pay (the billing step did not run)
    rng = ctx.rng_for("payments")
    today = ctx.today
    facts = ctx.db.read(lambda s: _facts(s, issued))
    statements = [f for f in facts if f.bill_to == BillTo.CLIENT]
    payer_invs = [f for f in facts if f.bill_to == BillTo.PAYER]

    # ---------------------------------------------------------------- plan candidates (kept unpaid)
    by_client: dict[int, list[_Inv]] = {}
    for f in statements:
        by_client.setdefault(f.client_id, []).append(f)
    plan_clients = _pick_plan_clients(by_client, today)
    reserved = set(plan_clients.values())

    # ---------------------------------------------------------------- payers: remittances by invoice
    pays: list[_Pay] = []
    for f in payer_invs:
        days = rng.randint(12, f.terms + 20)
        received = f.issue_date + dt.timedelta(days=days)
        if received > today:
            continue  # not paid yet
        roll = rng.random()
        if roll < 0.72:
            amount = f.balance
        elif roll < 0.84:
            amount = _share(rng, f.balance, 55, 90)  # short-paid: the rest stays open
        else:
            continue  # never paid: overdue for the collections work
        pays.append(
            _Pay(
                PayerSide.PAYER,
                f.client_id,
                f.payer_id,
                amount,
                PaymentMethod.EFT,
                received,
                f"EFT {rng.randint(100000, 999999)}",
                f"demo-eft-{f.id}",
                f.id,
            )
        )

    # ---------------------------------------------------------------- clients: their statements
    overpaid: list[int] = []
    for f in statements:
        if f.client_id in reserved:
            continue
        received = f.issue_date + dt.timedelta(days=rng.randint(6, 45))
        if received > today:
            continue
        roll = rng.random()
        if len(overpaid) < 2 and f.client_id not in overpaid and roll < 0.5:
            # Two clients paid a statement with too much: the rest is account credit.
            amount = f.balance + Decimal(rng.choice([15, 25, 40]))
            overpaid.append(f.client_id)
        elif roll < 0.45:
            amount = f.balance
        elif roll < 0.60:
            amount = _share(rng, f.balance, 30, 70)
        else:
            continue
        method = rng.choice(CLIENT_METHODS)
        ref = f"chk {rng.randint(1001, 4999)}" if method == PaymentMethod.CHECK else ""
        pays.append(
            _Pay(
                PayerSide.CLIENT, f.client_id, None, amount, method, received, ref, f"demo-stmt-{f.id}", f.id
            )
        )
    by_day: dict[dt.date, list[_Pay]] = {}
    for p in sorted(pays, key=lambda p: (p.received_on, p.key)):
        by_day.setdefault(p.received_on, []).append(p)
    # The plans' own history happens on its days too, in date order with the mail.
    plan_events = _plan_events(ctx, rng, plan_clients)
    made: dict[str, int] = {}
    for day in sorted(set(by_day) | {d for d, _ in plan_events}):
        for when, event in plan_events:
            if when == day:
                event(made)
        if day in by_day:
            _post_day(ctx, rng, day, by_day[day])

    # One overpaid client's credit is applied to their open statements (if any are left).
    if overpaid:
        ctx.write(
            ctx.clerks[0],
            lambda a, s: payments.apply_credit(a, s, side=PayerSide.CLIENT, client_id=overpaid[0]),
        )

    # ---------------------------------------------------------------- today's stack of checks
    def open_statements(s: Session) -> list[tuple[int, int, Decimal]]:
        rows = s.scalars(
            sa.select(Invoice)
            .where(
                Invoice.bill_to == BillTo.CLIENT,
                Invoice.status.in_(ledger.OPEN_STATUSES),
                Invoice.client_id.not_in(reserved | set(overpaid)) if reserved or overpaid else sa.true(),
            )
            .order_by(Invoice.id)
        ).all()
        return [(i.id, i.client_id, i.balance) for i in rows if i.balance > 0]

    candidates = ctx.db.read(open_statements)
    stack: list[BatchItem] = []
    used: set[int] = set()
    for iid, cid, balance in rng.sample(candidates, k=min(len(candidates), 12)):
        if cid in used or len(stack) >= 6:
            continue
        used.add(cid)
        amount = balance if rng.random() < 0.6 or balance < Decimal("0.10") else _share(rng, balance, 40, 80)
        stack.append(
            BatchItem(
                side=PayerSide.CLIENT,
                client_id=cid,
                amount=amount,
                reference=f"chk {rng.randint(5000, 5999)}",
                invoice_id=iid,
            )
        )
    if stack:
        total = sum((to_money(i.amount) for i in stack), ZERO)
        ctx.write(
            ctx.clerks[1 % len(ctx.clerks)],
            lambda a, s: payments.post_batch(
                a,
                s,
                batch_key=f"demo-deposit-{today.isoformat()}",
                control_total=total,
                count=len(stack),
                received_on=today,
                items=stack,
                note="Morning mail: client checks",
            ),
        )

    ctx.data["plan_ids"] = made
    ctx.data["credit_client_ids"] = overpaid
    # The nightly job, as of today: the late plan shows as late.
    ctx.write(ctx.supervisor, lambda a, s: plans.refresh_plan_states(a, s, today))


def _pick_plan_clients(by_client: dict[int, list[_Inv]], today: dt.date) -> dict[str, int]:
    """Clients with the largest open statement balances, whose bills all predate their plan."""
    made_on = {
        "completed": today - dt.timedelta(days=28),
        "late": today - dt.timedelta(days=30),
        "history": today - dt.timedelta(days=30),
        "new": today,
    }
    ranked = sorted(by_client.items(), key=lambda kv: (-sum(f.balance for f in kv[1]), kv[0]))
    chosen: dict[str, int] = {}
    for kind in ("new", "late", "history", "completed"):
        for cid, bills in ranked:
            if cid in chosen.values():
                continue
            if all(f.issue_date <= made_on[kind] for f in bills) and sum(f.balance for f in bills) >= 40:
                chosen[kind] = cid
                break
    return chosen


Event = Callable[[dict[str, int]], None]


def _plan_events(
    ctx: DemoContext, rng: random.Random, clients: dict[str, int]
) -> list[tuple[dt.date, Event]]:
    """Plan creations and plan payments, each on its own day; ``made`` collects kind → plan id."""
    today = ctx.today
    events: list[tuple[dt.date, Event]] = []
    views: dict[str, plans.PlanView] = {}

    def create(kind: str, day: dt.date, count: int, interval: PlanInterval, first_due: dt.date) -> None:
        def run(made: dict[str, int]) -> None:
            with _clock_at(ctx, day):
                view = ctx.write(
                    rng.choice(ctx.clerks),
                    lambda a, s: plans.create_plan(
                        a, s, client_id=clients[kind], count=count, interval=interval, first_due=first_due
                    ),
                )
            views[kind] = view
            made[kind] = view.id

        events.append((day, run))

    def pay(kind: str, day: dt.date, seq: int, fraction: Decimal = Decimal(1)) -> None:
        """Pay (a fraction of) installment ``seq`` of the plan made earlier, on ``day``."""

        def run(made: dict[str, int]) -> None:
            inst = views[kind].installments[seq - 1]
            amount = to_money(inst.amount * fraction)
            if amount <= 0:
                return
            with _clock_at(ctx, day, 14):
                ctx.write(
                    rng.choice(ctx.clerks),
                    lambda a, s: payments.post_payment(
                        a,
                        s,
                        side=PayerSide.CLIENT,
                        client_id=clients[kind],
                        amount=amount,
                        method=PaymentMethod.CARD,
                        received_on=day,
                        idempotency_key=f"demo-plan-{kind}-{seq}",
                    ),
                )

        events.append((day, run))

    if "history" in clients:  # current, two installments paid on time
        start = today - dt.timedelta(days=30)
        create("history", start, 6, PlanInterval.BIWEEKLY, start + dt.timedelta(days=2))
        pay("history", start + dt.timedelta(days=2), 1)
        pay("history", start + dt.timedelta(days=16), 2)
    if "late" in clients:  # half of the first installment, then nothing: late
        start = today - dt.timedelta(days=30)
        create("late", start, 4, PlanInterval.MONTHLY, start + dt.timedelta(days=7))
        pay("late", start + dt.timedelta(days=10), 1, Decimal("0.5"))
    if "completed" in clients:  # two weekly installments, both paid
        start = today - dt.timedelta(days=28)
        create("completed", start, 2, PlanInterval.WEEKLY, start + dt.timedelta(days=7))
        pay("completed", start + dt.timedelta(days=7), 1)
        pay("completed", start + dt.timedelta(days=14), 2)
    if "new" in clients:  # agreed today, first installment in two weeks
        create("new", today, 6, PlanInterval.MONTHLY, today + dt.timedelta(days=14))
    return sorted(events, key=lambda e: e[0])  # stable: same-day events keep their order
