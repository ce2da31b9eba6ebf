"""Aging: exact buckets today and as of past days (later payments and invoices ignored),
partly paid invoices, plan installments by their own due dates, drill-down, and a property
test that the buckets always sum to the balance."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from billing import aging, ledger, payments, plans
from billing.aging import Bucket, BucketAmounts, Side, bucket_of
from db import timeutil
from db.errors import ValidationError
from db.models import InvoiceStatus
from tests.billing.factories_payments import make_client, make_invoice, make_payer
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


def B(*values: str) -> BucketAmounts:
    return BucketAmounts.from_tuple([D(v) for v in values])


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, Bucket.CURRENT),
        (0, Bucket.CURRENT),
        (1, Bucket.D1_30),
        (30, Bucket.D1_30),
        (31, Bucket.D31_60),
        (60, Bucket.D31_60),
        (61, Bucket.D61_90),
        (90, Bucket.D61_90),
        (91, Bucket.D91_120),
        (120, Bucket.D91_120),
        (121, Bucket.OVER_120),
        (4000, Bucket.OVER_120),
    ],
)
def test_bucket_edges(days: int, bucket: Bucket) -> None:
    assert bucket_of(days) == bucket


@pytest.fixture
def books(office: Office) -> dict[str, int]:
    """Client A: three statements (100 due 07-31, 200 due 10-31, 50 due 12-10 issued 11-10) and
    a 300 payer invoice due 08-31; a 130 client payment received today (oldest first: 100 + 30)."""
    sup = office.sup

    def go(s: Session) -> dict[str, int]:
        c = make_client(s, "A-1001", "Ana", "García")
        payer = make_payer(s)
        ids = {
            "client": c,
            "s1": make_invoice(
                s,
                client_id=c,
                created_by=sup.user_id,
                total="100.00",
                issue_date=dt.date(2026, 7, 1),
                due_date=dt.date(2026, 7, 31),
                number="S-1",
            ),
            "s2": make_invoice(
                s,
                client_id=c,
                created_by=sup.user_id,
                total="200.00",
                issue_date=dt.date(2026, 10, 1),
                due_date=dt.date(2026, 10, 31),
                number="S-2",
            ),
            "s3": make_invoice(
                s,
                client_id=c,
                created_by=sup.user_id,
                total="50.00",
                issue_date=dt.date(2026, 11, 10),
                due_date=dt.date(2026, 12, 10),
                number="S-3",
            ),
            "p1": make_invoice(
                s,
                client_id=c,
                created_by=sup.user_id,
                total="300.00",
                payer_id=payer,
                issue_date=dt.date(2026, 8, 1),
                due_date=dt.date(2026, 8, 31),
                number="P-1",
            ),
        }
        payments.post_payment(
            sup,
            s,
            side="client",
            client_id=c,
            amount="130.00",
            method="cash",
            received_on=TODAY,
            idempotency_key="pay-1",
        )
        return ids

    return office.db.write(go)


def test_today_buckets_partly_paid_and_sides_apart(office: Office, books: dict[str, int]) -> None:
    r = office.db.read(lambda s: aging.office_aging(office.clerk, s))
    assert r.as_of == TODAY
    assert r.client == B("50.00", "170.00", "0", "0", "0", "0")  # S-2 dunned for the rest: 200 - 30
    assert r.payer == B("0", "0", "0", "300.00", "0", "0")
    assert (r.client_accounts, r.payer_accounts) == (1, 1)
    # reconciles with the ledger to the cent
    cid = books["client"]
    assert r.client.total == office.db.read(lambda s: ledger.client_balance(s, cid)) == D("220.00")


def test_as_of_yesterday_ignores_todays_payment(office: Office, books: dict[str, int]) -> None:
    r = office.db.read(lambda s: aging.office_aging(office.clerk, s, as_of=dt.date(2026, 11, 15)))
    assert r.client == B("50.00", "200.00", "0", "0", "100.00", "0")
    assert r.payer == B("0", "0", "0", "300.00", "0", "0")


def test_as_of_october_ignores_later_invoices(office: Office, books: dict[str, int]) -> None:
    r = office.db.read(lambda s: aging.office_aging(office.clerk, s, as_of=dt.date(2026, 10, 15)))
    # S-3 was issued on 11-10: not there yet. S-2 due 10-31: current. S-1 due 07-31: 76 days.
    assert r.client == B("200.00", "0", "0", "100.00", "0", "0")
    assert r.payer == B("0", "0", "300.00", "0", "0", "0")


def test_as_of_counts_received_date_and_posting_time(office: Office, books: dict[str, int]) -> None:
    # A payment received 11-05 but posted on 11-16 (today): as of 11-10 it had not been booked.
    cid = books["client"]
    office.db.write(
        lambda s: payments.post_payment(
            office.sup,
            s,
            side="client",
            client_id=cid,
            amount="20.00",
            method="check",
            received_on=dt.date(2026, 11, 5),
            idempotency_key="pay-late",
        )
    )
    r10 = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid, as_of=dt.date(2026, 11, 10)))
    assert r10.client.total == D("350.00")
    # Posted on 11-20 with received date 11-18: as of 11-19 it is a later payment (received after).
    timeutil.freeze("2026-11-20T15:00:00+00:00")
    office.db.write(
        lambda s: payments.post_payment(
            office.sup,
            s,
            side="client",
            client_id=cid,
            amount="10.00",
            method="check",
            received_on=dt.date(2026, 11, 18),
            idempotency_key="pay-18",
        )
    )
    r17 = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid, as_of=dt.date(2026, 11, 17)))
    r18 = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid, as_of=dt.date(2026, 11, 18)))
    now = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    assert r17.client.total == D("200.00")  # 350 - 130 - 20 (both posted 11-16)
    # As of 11-18 the 11-18 payment was received but posted only on the 20th: not booked yet.
    assert r18.client.total == D("200.00")
    assert now.client.total == D("190.00")
    assert now.client == B("50.00", "140.00", "0", "0", "0", "0")


def test_paid_in_full_later_still_owed_as_of_before(office: Office, books: dict[str, int]) -> None:
    cid = books["client"]
    timeutil.freeze("2026-11-18T15:00:00+00:00")
    office.db.write(
        lambda s: payments.post_payment(
            office.sup,
            s,
            side="client",
            client_id=cid,
            amount="220.00",
            method="cash",
            received_on=dt.date(2026, 11, 18),
            idempotency_key="pay-all",
        )
    )
    inv = office.db.read(lambda s: s.get(aging.Invoice, books["s2"]).status)
    assert inv == InvoiceStatus.PAID
    assert office.db.read(lambda s: aging.office_aging(office.clerk, s)).client == BucketAmounts()
    before = office.db.read(lambda s: aging.office_aging(office.clerk, s, as_of=dt.date(2026, 11, 17)))
    assert before.client == B("50.00", "170.00", "0", "0", "0", "0")


def test_drill_down_bucket_accounts_invoices(office: Office, books: dict[str, int]) -> None:
    def go(s: Session) -> None:
        other = make_client(s, "A-1002", "Bo", "Tran")
        make_invoice(
            s,
            client_id=other,
            created_by=office.sup.user_id,
            total="75.00",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 11, 1),
            number="S-9",
        )

    office.db.write(go)
    page = office.db.read(lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="1-30"))
    assert [(r.account_number, r.amount, r.total) for r in page.rows] == [
        ("A-1001", D("170.00"), D("220.00")),
        ("A-1002", D("75.00"), D("75.00")),
    ]
    assert page.next_after is None
    first = office.db.read(
        lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="1-30", limit=1)
    )
    assert [r.account_number for r in first.rows] == ["A-1001"]
    assert first.next_after is not None
    second = office.db.read(
        lambda s: aging.accounts_in_bucket(
            office.clerk, s, side="client", bucket="1-30", limit=1, after=first.next_after
        )
    )
    assert [r.account_number for r in second.rows] == ["A-1002"] and second.next_after is None
    tran = office.db.read(
        lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="1-30", filter_text="tra")
    )
    assert [r.account_number for r in tran.rows] == ["A-1002"]
    assert (
        office.db.read(lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="120+")).rows
        == ()
    )
    payer_rows = office.db.read(
        lambda s: aging.accounts_in_bucket(office.clerk, s, side="payer", bucket="61-90")
    )
    assert [(r.account_number, r.amount) for r in payer_rows.rows] == [("A-1001", D("300.00"))]
    invs = office.db.read(
        lambda s: aging.invoices_of_account(office.clerk, s, books["client"], side="client")
    )
    assert [(i.number, i.balance, i.days_past_due, i.bucket) for i in invs] == [
        ("S-2", D("170.00"), 16, Bucket.D1_30),
        ("S-3", D("50.00"), -24, Bucket.CURRENT),
    ]


def test_bad_side_and_bucket_are_refused(office: Office) -> None:
    with pytest.raises(ValidationError, match="bucket: must be one of"):
        office.db.read(lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="[99]"))
    with pytest.raises(ValidationError, match="side: must be client or payer"):
        office.db.read(lambda s: aging.invoices_of_account(office.clerk, s, 1, side="agency"))


def test_plan_installments_aged_by_their_own_due_dates(office: Office) -> None:
    sup = office.sup

    def go(s: Session) -> int:
        c = make_client(s, "A-2001", "Cy", "Plan")
        make_invoice(
            s,
            client_id=c,
            created_by=sup.user_id,
            total="300.00",
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 7, 1),
            number="S-P",
        )
        make_invoice(
            s,
            client_id=c,
            created_by=sup.user_id,
            total="40.00",
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
            number="S-Q",
        )
        return c

    cid = office.db.write(go)
    before = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    assert before.client == B("0", "0", "40.00", "0", "0", "300.00")
    office.db.write(
        lambda s: plans.create_plan(
            office.clerk, s, client_id=cid, count=4, interval="monthly", first_due=dt.date(2026, 11, 20)
        )
    )
    # 340 in four: 85 due 11-20, 12-20, 01-20, 02-20 — all current today
    now = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    assert now.client == B("340.00", "0", "0", "0", "0", "0")
    timeutil.freeze("2026-12-25T15:00:00+00:00")
    later = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    # 11-20 is 35 days past due, 12-20 is 5; the rest current
    assert later.client == B("170.00", "85.00", "85.00", "0", "0", "0")
    assert [(i.seq, i.remaining, i.bucket) for i in later.installments] == [
        (1, D("85.00"), Bucket.D31_60),
        (2, D("85.00"), Bucket.D1_30),
        (3, D("85.00"), Bucket.CURRENT),
        (4, D("85.00"), Bucket.CURRENT),
    ]
    office_r = office.db.read(lambda s: aging.office_aging(office.clerk, s))
    assert office_r.client == later.client
    page = office.db.read(lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="31-60"))
    assert [(r.account_number, r.amount) for r in page.rows] == [("A-2001", D("85.00"))]
    # The invoices' own over-120 amount is shown as financed: no account in 120+.
    assert (
        office.db.read(lambda s: aging.accounts_in_bucket(office.clerk, s, side="client", bucket="120+")).rows
        == ()
    )
    # a payment of 85 pays installment 1 (and the oldest invoice)
    office.db.write(
        lambda s: payments.post_payment(
            office.sup,
            s,
            side="client",
            client_id=cid,
            amount="85.00",
            method="cash",
            received_on=dt.date(2026, 12, 25),
            idempotency_key="inst-1",
        )
    )
    paid = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    assert paid.client == B("170.00", "85.00", "0", "0", "0", "0")
    asof = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid, as_of=dt.date(2026, 12, 24)))
    assert asof.client == later.client


# --------------------------------------------------------------------------- property


_seq = itertools.count(1)
invoice_st = st.tuples(
    st.integers(min_value=1, max_value=50_000),  # total, cents
    st.integers(min_value=0, max_value=300),  # issued days before today
    st.integers(min_value=0, max_value=60),  # terms
    st.integers(min_value=0, max_value=100),  # percent paid
    st.booleans(),  # to a payer
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    invoices=st.lists(invoice_st, min_size=1, max_size=12),
    as_of_back=st.integers(min_value=0, max_value=200),
    pay=st.integers(min_value=0, max_value=100_000),
)
def test_buckets_always_sum_to_the_balance(
    office: Office, invoices: list[tuple[int, int, int, int, bool]], as_of_back: int, pay: int
) -> None:
    sup = office.sup
    n = next(_seq)  # the office fixture lives across examples: fresh account numbers

    def go(s: Session) -> tuple[int, Decimal, Decimal]:
        c = make_client(s, f"P-{n}", "Prop", "Test")
        payer = make_payer(s, f"Payer {c}")
        expected_client = D("0")
        expected_payer = D("0")
        day = TODAY - dt.timedelta(days=as_of_back)
        for total_c, back, terms, pct, to_payer in invoices:
            total = D(total_c) / 100
            paid = (total * pct / 100).quantize(D("0.01"))
            issued = TODAY - dt.timedelta(days=back)
            make_invoice(
                s,
                client_id=c,
                created_by=sup.user_id,
                total=total,
                paid=paid,
                status=InvoiceStatus.PARTIALLY_PAID
                if 0 < paid < total
                else InvoiceStatus.PAID
                if paid == total
                else InvoiceStatus.ISSUED,
                issue_date=issued,
                due_date=issued + dt.timedelta(days=terms),
                payer_id=payer if to_payer else None,
            )
            if issued <= day:
                # ORM factories write amount_paid with no allocation rows: the paid part is old money
                if to_payer:
                    expected_payer += total - paid
                else:
                    expected_client += total - paid
        if pay:
            payments.post_payment(
                sup,
                s,
                side="client",
                client_id=c,
                amount=D(pay) / 100,
                method="cash",
                received_on=TODAY,
                idempotency_key=f"k-{c}",
            )
        return c, expected_client, expected_payer

    cid, exp_client, exp_payer = office.db.write(go)
    day = TODAY - dt.timedelta(days=as_of_back)
    r = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid, as_of=day))
    if as_of_back == 0:  # today: the payment is in, as far as there was something to pay
        exp_client -= min(D(pay) / 100, exp_client)
    assert r.client.total == exp_client  # a past day: today's payment is later
    assert r.payer.total == exp_payer
    assert r.client.total == sum((i.balance for i in r.invoices if i.side == Side.CLIENT), D("0"))
    now = office.db.read(lambda s: aging.client_aging(office.clerk, s, cid))
    assert now.client.total == office.db.read(lambda s: ledger.client_balance(s, cid))
    assert sum(now.client.as_tuple(), D("0")) == now.client.total


def test_payer_side_by_payer(office: Office, books: dict[str, int]) -> None:
    def go(s: Session) -> None:
        other = make_payer(s, "Zen Care")
        make_invoice(
            s,
            client_id=books["client"],
            created_by=office.sup.user_id,
            total="45.00",
            payer_id=other,
            issue_date=dt.date(2026, 11, 1),
            due_date=dt.date(2026, 12, 1),
            number="P-2",
        )

    office.db.write(go)
    rows = office.db.read(lambda s: aging.payer_aging(office.clerk, s))
    assert [(r.payer_name, r.buckets, r.accounts) for r in rows] == [
        ("Acme Health", B("0", "0", "0", "300.00", "0", "0"), 1),
        ("Zen Care", B("45.00", "0", "0", "0", "0", "0"), 1),
    ]
    past = office.db.read(lambda s: aging.payer_aging(office.clerk, s, as_of=dt.date(2026, 10, 15)))
    assert [(r.payer_name, r.buckets.total) for r in past] == [("Acme Health", D("300.00"))]
