"""Demo collections: dunning levels, reason codes, an agency with one placed account, contacts
with promises (one pending, one broken), and one open dispute, so the collections screens have
something to show. No dunning run is applied: that is for the person trying the demo.

Runs after the payments step (it needs the overdue statements the payments left open) and
hands over ``ctx.data["collections"]`` (what it made, by name → id).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import adjustments, agency, contacts, disputes, dunning, ledger
from db import timeutil
from db.models import BillTo, Invoice, InvoiceKind, PaymentPlan, PlanStatus
from db.money import ZERO
from tui.demo.context import DemoContext

LEVELS = (
    (
        1,
        "Friendly reminder",
        15,
        "0.00",
        "Dear {name}, our records show {amount} still open on account "
        "{account}. If you have paid already, thank you; otherwise please pay by {pay_by}.",
    ),
    (
        2,
        "Second notice",
        45,
        "5.00",
        "Dear {name}, account {account} is now well past due. Please pay "
        "{amount} by {pay_by}, or call us to set up a payment plan.",
    ),
    (
        3,
        "Final demand",
        75,
        "15.00",
        "Dear {name}, this is our final demand for {amount} on account "
        "{account}. Unless it is paid by {pay_by}, the account may be placed with a collection agency.",
    ),
)
REASON_CODES = (
    ("SMALL", "Small balance left after payment", "waive"),
    ("GOODWILL", "Goodwill gesture", "waive"),
    ("CONTRACT", "Contractual adjustment", "contractual"),
    ("BAD-DEBT", "Uncollectable: bad debt", "write_off"),
    ("DECEASED", "Client deceased, no estate", "write_off"),
)


@contextlib.contextmanager
def _clock_at(ctx: DemoContext, day: dt.date, hour: int = 10) -> Iterator[None]:
    previous = timeutil._frozen  # tests freeze the clock; put back exactly what was there
    timeutil.freeze(timeutil.local_instant(day, dt.time(hour, 0), ctx.tz))
    try:
        yield
    finally:
        timeutil.freeze(previous)


def _overdue_clients(s: Session, today: dt.date, n: int) -> list[tuple[int, int]]:
    """(client id, oldest overdue statement id) of clients without an open plan, oldest first."""
    planned = sa.select(PaymentPlan.client_id).where(PaymentPlan.status != PlanStatus.COMPLETED)
    rows = s.execute(
        sa.select(Invoice.client_id, Invoice.id)
        .where(
            Invoice.bill_to == BillTo.CLIENT,
            Invoice.kind == InvoiceKind.STATEMENT,
            Invoice.status.in_(ledger.OPEN_STATUSES),
            ledger.balance_expr() > ZERO,
            Invoice.due_date < today - dt.timedelta(days=20),
            Invoice.client_id.not_in(planned),
        )
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    seen: dict[int, int] = {}
    for cid, iid in rows:
        seen.setdefault(cid, iid)
    return list(seen.items())[:n]


def build_collections(ctx: DemoContext) -> None:
    sup = ctx.supervisor
    clerk = ctx.clerks[0]
    made: dict[str, int] = {}

    def setup(a: object, s: Session) -> None:
        for level, name, days, fee, text in LEVELS:
            dunning.set_level(sup, s, level=level, name=name, days_overdue=days, fee=fee, letter_text=text)
        for code, desc, kind in REASON_CODES:
            adjustments.set_reason_code(sup, s, code=code, description=desc, kind=kind)
        made["agency"] = agency.add_agency(
            sup,
            s,
            name="Keystone Recovery",
            fee_bp="30",
            contact="Dana Ortiz, (413) 555-0199, accounts@keystone.example",
        ).id

    ctx.write(sup, setup)
    picks = ctx.db.read(lambda s: _overdue_clients(s, ctx.today, 4))
    if len(picks) < 4:
        return  # a tiny demo office: nothing overdue enough to show
    (promise_c, _), (broken_c, _), (dispute_c, dispute_inv), (placed_c, _) = picks

    # A call today with a promise for next week (pending).
    ctx.write(
        clerk,
        lambda a, s: contacts.log_contact(
            a,
            s,
            client_id=promise_c,
            channel="phone",
            direction="outbound",
            outcome="reached",
            notes="Spoke with the client; will pay after payday.",
            promise_amount="40.00",
            promise_date=ctx.today + dt.timedelta(days=7),
        ),
    )
    # A promise made ten days ago for three days ago, not kept: broken.
    with _clock_at(ctx, ctx.today - dt.timedelta(days=10)):
        ctx.write(
            clerk,
            lambda a, s: contacts.log_contact(
                a,
                s,
                client_id=broken_c,
                channel="phone",
                direction="inbound",
                outcome="promise_to_pay",
                notes="Client called about the statement.",
                promise_amount="25.00",
                promise_date=ctx.today - dt.timedelta(days=3),
            ),
        )
    ctx.write(
        clerk,
        lambda a, s: contacts.log_contact(
            a,
            s,
            client_id=broken_c,
            channel="sms",
            direction="outbound",
            outcome="sent",
            notes="Reminder text about the promise.",
        ),
    )
    # An open dispute in the supervisors' queue.
    made["dispute"] = ctx.write(
        clerk,
        lambda a, s: disputes.open_dispute(
            a,
            s,
            invoice_id=dispute_inv,
            reason="amount_differs",
            description="Client says the front desk quoted a lower copay.",
        ),
    ).id
    # One account with the agency.
    (placement,) = ctx.write(
        sup, lambda a, s: agency.place_accounts(a, s, agency_id=made["agency"], client_ids=[placed_c])
    )
    made["placement"] = placement.id
    made.update(
        {
            "promise_client": promise_c,
            "broken_client": broken_c,
            "dispute_client": dispute_c,
            "placed_client": placed_c,
        }
    )
    ctx.data["collections"] = made
