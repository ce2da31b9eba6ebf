"""Payments: allocation oldest first, named invoice, credit, idempotency, batches, paging."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, payments
from billing.payments import BatchItem, parse_amount, plan_allocation
from db import audit
from db.engine import Database
from db.errors import ConflictError, NotFound, ValidationError
from db.models import (
    Allocation,
    AuditEntry,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PayerSide,
    Payment,
    PaymentBatch,
)
from tests.billing.factories_payments import (
    count_rows,
    invoice_figures,
    make_client,
    make_invoice,
    make_payer,
)
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)  # the frozen office day


@dataclass
class Acct:
    client: int
    other_client: int
    payer: int
    # Client statements, deliberately created out of date order.
    s_sep: int  # due 2026-10-10, 200.00
    s_aug: int  # due 2026-08-31, 100.00
    s_oct: int  # due 2026-10-31, 300.00


@pytest.fixture
def acct(office: Office) -> Acct:
    by = office.sup.user_id

    def go(s: Session) -> Acct:
        c = make_client(s, "A-1001")
        other = make_client(s, "A-2002", "John", "Roe")
        p = make_payer(s, "Acme Health")
        sep = make_invoice(
            s, client_id=c, created_by=by, total="200.00", issue_date=dt.date(2026, 9, 10), number="S-0002"
        )
        aug = make_invoice(
            s, client_id=c, created_by=by, total="100.00", issue_date=dt.date(2026, 8, 1), number="S-0001"
        )
        oct_ = make_invoice(
            s, client_id=c, created_by=by, total="300.00", issue_date=dt.date(2026, 10, 1), number="S-0003"
        )
        return Acct(c, other, p, sep, aug, oct_)

    return office.db.write(go)


def post(db: Database, actor: Any, **kw: Any) -> payments.PostResult:
    kw.setdefault("method", "check")
    kw.setdefault("received_on", TODAY)
    return db.write(lambda s: payments.post_payment(actor, s, **kw))


def allocations(db: Database, payment_id: int) -> list[tuple[int, Decimal, int | None]]:
    def go(s: Session) -> list[tuple[int, Decimal, int | None]]:
        rows = s.scalars(
            sa.select(Allocation).where(Allocation.payment_id == payment_id).order_by(Allocation.id)
        )
        return [(a.invoice_id, a.amount, a.installment_id) for a in rows]

    return db.read(go)


def audit_count(db: Database) -> int:
    return count_rows(db, AuditEntry)


# --------------------------------------------------------------------------- typed amounts


@pytest.mark.parametrize(
    ("text", "value"),
    [("12.34", "12.34"), ("12", "12.00"), ("12.5", "12.50"), ("$1,234.50", "1234.50"), (" 0.01 ", "0.01")],
)
def test_parse_amount_accepts(text: str, value: str) -> None:
    assert parse_amount(text) == D(value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("abc", "is not an amount"),
        ("-5", "must be more than zero"),
        ("0", "must be more than zero"),
        ("0.00", "must be more than zero"),
        ("1e400", "is not an amount"),
        ("0.001", "more than 2 decimals"),
        ("12.345", "more than 2 decimals"),
        ("1,23", "is not an amount"),
        ("", "is required"),
        ("NaN", "is not an amount"),
        ("100000000000.01", "is larger than"),
    ],
)
def test_parse_amount_refuses(text: str, why: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_amount(text)
    assert why in e.value.fields["amount"]


# --------------------------------------------------------------------------- pure planning


def test_plan_allocation_splits_over_invoices_then_installments() -> None:
    splits, credit = plan_allocation(
        D("500.00"),
        [(1, D("100.00")), (2, D("250.00")), (3, D("400.00"))],
        [(10, 1, D("120.00")), (11, 2, D("120.00"))],
    )
    assert [(s.invoice_id, s.amount, s.installment_id) for s in splits] == [
        (1, D("100.00"), 10),
        (2, D("20.00"), 10),
        (2, D("120.00"), 11),
        (2, D("110.00"), None),
        (3, D("150.00"), None),
    ]
    assert credit == D("0.00")
    splits, credit = plan_allocation(D("90.00"), [(1, D("60.00"))])
    assert [(s.invoice_id, s.amount) for s in splits] == [(1, D("60.00"))]
    assert credit == D("30.00")


# --------------------------------------------------------------------------- allocation


def test_oldest_first_across_three_invoices(office: Office, acct: Acct) -> None:
    r = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("250.00"),
        idempotency_key="k1",
    )
    assert not r.duplicate
    assert r.payment.unapplied == D("0.00")
    # Due Aug 31 first (100.00, paid), then due Oct 10 (150.00 of 200.00), Oct 31 untouched.
    assert allocations(office.db, r.payment.id) == [
        (acct.s_aug, D("100.00"), None),
        (acct.s_sep, D("150.00"), None),
    ]
    assert invoice_figures(office.db, acct.s_aug) == (D("100.00"), InvoiceStatus.PAID)
    assert invoice_figures(office.db, acct.s_sep) == (D("150.00"), InvoiceStatus.PARTIALLY_PAID)
    assert invoice_figures(office.db, acct.s_oct) == (D("0.00"), InvoiceStatus.ISSUED)
    assert [(i.number, i.balance, i.status) for i in r.invoices] == [
        ("S-0001", D("0.00"), InvoiceStatus.PAID),
        ("S-0002", D("50.00"), InvoiceStatus.PARTIALLY_PAID),
    ]
    assert r.describe() == (
        f"payment #{r.payment.id} posted: $250.00 from Doe, Jane (A-1001); "
        "applied to S-0001 $100.00 (paid), S-0002 $150.00 (partially paid)"
    )
    assert office.db.read(lambda s: ledger.client_balance(s, acct.client)) == D("350.00")


def test_order_ties_break_on_issue_date_then_number(office: Office) -> None:
    by = office.sup.user_id

    def go(s: Session) -> tuple[int, int, int, int]:
        c = make_client(s, "A-3003")
        due = dt.date(2026, 10, 31)
        b = make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="10.00",
            issue_date=dt.date(2026, 10, 2),
            due_date=due,
            number="X-2",
        )
        a = make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="10.00",
            issue_date=dt.date(2026, 10, 1),
            due_date=due,
            number="X-9",
        )
        cc = make_invoice(
            s,
            client_id=c,
            created_by=by,
            total="10.00",
            issue_date=dt.date(2026, 10, 2),
            due_date=due,
            number="X-1",
        )
        return c, a, b, cc

    c, a, b, cc = office.db.write(go)
    r = post(office.db, office.clerk, side="client", client_id=c, amount=D("25.00"), idempotency_key="tie")
    assert [(x[0], x[1]) for x in allocations(office.db, r.payment.id)] == [
        (a, D("10.00")),
        (cc, D("10.00")),
        (b, D("5.00")),
    ]


def test_status_moves_issued_partially_paid_paid(office: Office, acct: Acct) -> None:
    inv = acct.s_oct
    assert invoice_figures(office.db, inv) == (D("0.00"), InvoiceStatus.ISSUED)
    post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("100.00"),
        idempotency_key="a",
        invoice_id=inv,
    )
    assert invoice_figures(office.db, inv) == (D("100.00"), InvoiceStatus.PARTIALLY_PAID)
    post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("199.99"),
        idempotency_key="b",
        invoice_id=inv,
    )
    assert invoice_figures(office.db, inv) == (D("299.99"), InvoiceStatus.PARTIALLY_PAID)
    post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("0.01"),
        idempotency_key="c",
        invoice_id=inv,
    )
    assert invoice_figures(office.db, inv) == (D("300.00"), InvoiceStatus.PAID)


def test_named_invoice_takes_the_money_and_the_rest_is_credit(office: Office, acct: Acct) -> None:
    r = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("350.00"),
        idempotency_key="named",
        invoice_id=acct.s_oct,
    )
    assert allocations(office.db, r.payment.id) == [(acct.s_oct, D("300.00"), None)]
    assert r.payment.unapplied == D("50.00")
    # The older invoices were not touched although they are older.
    assert invoice_figures(office.db, acct.s_aug) == (D("0.00"), InvoiceStatus.ISSUED)
    assert office.db.read(lambda s: ledger.account_credit(s, PayerSide.CLIENT, client_id=acct.client)) == D(
        "50.00"
    )


def test_adjustments_count_against_the_balance(office: Office) -> None:
    def go(s: Session) -> tuple[int, int]:
        c = make_client(s, "A-4004")
        return c, make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="100.00",
            issue_date=dt.date(2026, 10, 1),
            adjusted="30.00",
        )

    c, inv = office.db.write(go)
    r = post(office.db, office.clerk, side="client", client_id=c, amount=D("80.00"), idempotency_key="adj")
    assert allocations(office.db, r.payment.id) == [(inv, D("70.00"), None)]
    assert r.payment.unapplied == D("10.00")
    assert invoice_figures(office.db, inv) == (D("70.00"), InvoiceStatus.PAID)


@pytest.mark.parametrize(
    "kw",
    [
        {"status": InvoiceStatus.VOID},
        {"status": InvoiceStatus.WRITTEN_OFF},
        {"status": InvoiceStatus.IN_COLLECTIONS},
        {"status": InvoiceStatus.DRAFT},
        {"status": InvoiceStatus.PAID, "paid": "50.00"},
        {"kind": InvoiceKind.CREDIT_NOTE},
        {"dispute_hold": True},
    ],
    ids=["void", "written_off", "in_collections", "draft", "paid", "credit_note", "dispute_hold"],
)
def test_never_allocated_automatically(office: Office, kw: dict[str, Any]) -> None:
    def go(s: Session) -> tuple[int, int]:
        c = make_client(s, "A-5005")
        return c, make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="50.00",
            issue_date=dt.date(2026, 10, 1),
            **kw,
        )

    c, inv = office.db.write(go)
    before = invoice_figures(office.db, inv)
    r = post(office.db, office.clerk, side="client", client_id=c, amount=D("20.00"), idempotency_key="x")
    assert r.payment.unapplied == D("20.00")
    assert allocations(office.db, r.payment.id) == []
    assert invoice_figures(office.db, inv) == before


@pytest.mark.parametrize(
    "status", [InvoiceStatus.VOID, InvoiceStatus.WRITTEN_OFF, InvoiceStatus.IN_COLLECTIONS]
)
def test_named_closed_invoice_is_refused_and_nothing_saved(office: Office, status: InvoiceStatus) -> None:
    def go(s: Session) -> tuple[int, int]:
        c = make_client(s, "A-6006")
        return c, make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="50.00",
            issue_date=dt.date(2026, 10, 1),
            status=status,
            number="V-1",
        )

    c, inv = office.db.write(go)
    n_audit = audit_count(office.db)
    with pytest.raises(ValidationError) as e:
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=c,
            amount=D("20.00"),
            idempotency_key="x",
            invoice_id=inv,
        )
    assert e.value.fields["invoice"] == f"V-1 is {status.value.replace('_', ' ')} and takes no payment"
    assert count_rows(office.db, Payment) == 0
    assert audit_count(office.db) == n_audit


def test_named_dispute_hold_invoice_may_be_paid(office: Office) -> None:
    def go(s: Session) -> tuple[int, int]:
        c = make_client(s, "A-6007")
        return c, make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="50.00",
            issue_date=dt.date(2026, 10, 1),
            dispute_hold=True,
        )

    c, inv = office.db.write(go)
    post(
        office.db,
        office.clerk,
        side="client",
        client_id=c,
        amount=D("50.00"),
        idempotency_key="x",
        invoice_id=inv,
    )
    assert invoice_figures(office.db, inv) == (D("50.00"), InvoiceStatus.PAID)


def test_named_invoice_of_another_party_is_refused(office: Office, acct: Acct) -> None:
    by = office.sup.user_id
    payer_inv = office.db.write(
        lambda s: make_invoice(
            s,
            client_id=acct.client,
            created_by=by,
            total="80.00",
            issue_date=dt.date(2026, 10, 1),
            payer_id=acct.payer,
            number="P-1",
        )
    )
    with pytest.raises(ValidationError) as e:
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=acct.other_client,
            amount=D("10.00"),
            idempotency_key="x",
            invoice_id=acct.s_aug,
        )
    assert "is not one of this client's own bills" in e.value.fields["invoice"]
    with pytest.raises(ValidationError) as e:
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=acct.client,
            amount=D("10.00"),
            idempotency_key="y",
            invoice_id=payer_inv,
        )
    assert e.value.fields["invoice"] == "P-1 is not one of this client's own bills"
    with pytest.raises(ValidationError) as e:
        post(
            office.db,
            office.clerk,
            side="payer",
            payer_id=acct.payer,
            amount=D("10.00"),
            idempotency_key="z",
            invoice_id=acct.s_aug,
        )
    assert e.value.fields["invoice"] == "S-0001 is not billed to this payer"
    assert count_rows(office.db, Payment) == 0


def test_payer_pays_only_its_own_invoices_optionally_for_one_client(office: Office, acct: Acct) -> None:
    by = office.sup.user_id

    def go(s: Session) -> tuple[int, int, int]:
        other_payer = make_payer(s, "Other Mutual")
        mine_other_client = make_invoice(
            s,
            client_id=acct.other_client,
            created_by=by,
            total="40.00",
            issue_date=dt.date(2026, 7, 1),
            payer_id=acct.payer,
        )
        mine = make_invoice(
            s,
            client_id=acct.client,
            created_by=by,
            total="60.00",
            issue_date=dt.date(2026, 9, 1),
            payer_id=acct.payer,
        )
        make_invoice(
            s,
            client_id=acct.client,
            created_by=by,
            total="500.00",
            issue_date=dt.date(2026, 6, 1),
            payer_id=other_payer,
        )
        return mine_other_client, mine, other_payer

    mine_other_client, mine, _ = office.db.write(go)
    # Limited to A-1001: the older invoice for A-2002 and the client's statements are skipped.
    r = post(
        office.db,
        office.clerk,
        side="payer",
        payer_id=acct.payer,
        client_id=acct.client,
        amount=D("75.00"),
        method="eft",
        idempotency_key="eft-1",
    )
    assert allocations(office.db, r.payment.id) == [(mine, D("60.00"), None)]
    assert r.payment.unapplied == D("15.00")
    assert r.payment.party == "Acme Health for A-1001"
    # Not limited: oldest first over all of this payer's invoices.
    r2 = post(
        office.db,
        office.clerk,
        side="payer",
        payer_id=acct.payer,
        amount=D("30.00"),
        method="eft",
        idempotency_key="eft-2",
    )
    assert allocations(office.db, r2.payment.id) == [(mine_other_client, D("30.00"), None)]
    assert invoice_figures(office.db, acct.s_aug) == (D("0.00"), InvoiceStatus.ISSUED)
    # Payer credit is the payer's, not the client's.
    assert office.db.read(lambda s: ledger.account_credit(s, PayerSide.CLIENT, client_id=acct.client)) == D(
        "0.00"
    )
    assert office.db.read(lambda s: ledger.account_credit(s, PayerSide.PAYER, payer_id=acct.payer)) == D(
        "15.00"
    )


def test_payer_allocation_spans_lock_chunks(
    office: Office, acct: Acct, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "LOCK_CHUNK", 2)
    by = office.sup.user_id
    ids = office.db.write(
        lambda s: [
            make_invoice(
                s,
                client_id=acct.client,
                created_by=by,
                total="10.00",
                issue_date=dt.date(2026, 9, 1) + dt.timedelta(days=i),
                payer_id=acct.payer,
            )
            for i in range(5)
        ]
    )
    r = post(
        office.db,
        office.clerk,
        side="payer",
        payer_id=acct.payer,
        amount=D("45.00"),
        idempotency_key="chunks",
    )
    assert allocations(office.db, r.payment.id) == [(i, D("10.00"), None) for i in ids[:4]] + [
        (ids[4], D("5.00"), None)
    ]


# --------------------------------------------------------------------------- credit


def test_overpayment_becomes_credit_applied_later_oldest_first(office: Office, acct: Acct) -> None:
    r = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("700.00"),
        idempotency_key="over",
    )
    assert r.payment.unapplied == D("100.00")
    assert r.describe().endswith("account credit $100.00")
    assert office.db.read(lambda s: ledger.client_balance(s, acct.client)) == D("0.00")
    # Nothing open: applying credit changes nothing.
    nothing = office.db.write(
        lambda s: payments.apply_credit(office.clerk, s, side="client", client_id=acct.client)
    )
    assert (nothing.applied, nothing.credit_left) == (D("0.00"), D("100.00"))

    by = office.sup.user_id
    new_a, new_b = office.db.write(
        lambda s: (
            make_invoice(
                s, client_id=acct.client, created_by=by, total="30.00", issue_date=dt.date(2026, 11, 10)
            ),
            make_invoice(
                s, client_id=acct.client, created_by=by, total="90.00", issue_date=dt.date(2026, 11, 2)
            ),
        )
    )
    res = office.db.write(
        lambda s: payments.apply_credit(office.clerk, s, side="client", client_id=acct.client)
    )
    assert res.applied == D("100.00")
    assert res.credit_left == D("0.00")
    assert [(a.payment_id, a.invoice_id, a.amount) for a in res.allocations] == [
        (r.payment.id, new_b, D("90.00")),
        (r.payment.id, new_a, D("10.00")),
    ]
    assert invoice_figures(office.db, new_b) == (D("90.00"), InvoiceStatus.PAID)
    assert invoice_figures(office.db, new_a) == (D("10.00"), InvoiceStatus.PARTIALLY_PAID)
    assert office.db.read(lambda s: s.get(Payment, r.payment.id).unapplied) == D("0.00")  # type: ignore[union-attr]


def test_apply_credit_spends_the_oldest_payment_first_and_to_a_named_invoice(
    office: Office, acct: Acct
) -> None:
    # Two overpayments on a fully paid account: 650 (50 over), then 30 (all credit).
    post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("650.00"),
        idempotency_key="p1",
        received_on=dt.date(2026, 11, 2),
    )
    p2 = post(
        office.db, office.clerk, side="client", client_id=acct.client, amount=D("30.00"), idempotency_key="p2"
    )
    by = office.sup.user_id
    older, newer = office.db.write(
        lambda s: (
            make_invoice(
                s, client_id=acct.client, created_by=by, total="20.00", issue_date=dt.date(2026, 11, 1)
            ),
            make_invoice(
                s, client_id=acct.client, created_by=by, total="70.00", issue_date=dt.date(2026, 11, 5)
            ),
        )
    )
    res = office.db.write(
        lambda s: payments.apply_credit(
            office.clerk, s, side="client", client_id=acct.client, invoice_id=newer
        )
    )
    p1_id = p2.payment.id - 1
    assert [(a.payment_id, a.invoice_id, a.amount) for a in res.allocations] == [
        (p1_id, newer, D("50.00")),
        (p2.payment.id, newer, D("20.00")),
    ]
    assert res.credit_left == D("10.00")
    assert invoice_figures(office.db, older) == (D("0.00"), InvoiceStatus.ISSUED)


# --------------------------------------------------------------------------- idempotency


def test_same_key_twice_records_one_payment(office: Office, acct: Acct) -> None:
    first = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("120.00"),
        idempotency_key="dup-1",
        reference="chk 5521",
    )
    n_audit = audit_count(office.db)
    again = post(
        office.db,
        office.clerk2,
        side="client",
        client_id=acct.client,
        amount=D("120.00"),
        idempotency_key="dup-1",
        reference="chk 5521",
    )
    assert again.duplicate and not first.duplicate
    assert again.payment.id == first.payment.id
    assert again.payment.allocations == first.payment.allocations
    assert again.describe().startswith(f"already posted as payment #{first.payment.id} (key dup-1")
    assert count_rows(office.db, Payment) == 1
    assert count_rows(office.db, Allocation) == 2
    assert invoice_figures(office.db, acct.s_aug) == (D("100.00"), InvoiceStatus.PAID)
    assert invoice_figures(office.db, acct.s_sep) == (D("20.00"), InvoiceStatus.PARTIALLY_PAID)
    assert audit_count(office.db) == n_audit


@pytest.mark.parametrize(
    "change",
    [
        {"amount": D("121.00")},
        {"reference": "chk 9999"},
        {"method": "cash"},
        {"received_on": dt.date(2026, 11, 15)},
    ],
    ids=["amount", "reference", "method", "date"],
)
def test_key_reused_with_different_figures_is_a_conflict(
    office: Office, acct: Acct, change: dict[str, Any]
) -> None:
    kw: dict[str, Any] = {
        "side": "client",
        "client_id": acct.client,
        "amount": D("120.00"),
        "idempotency_key": "dup-2",
        "reference": "chk 5521",
    }
    post(office.db, office.clerk, **kw)
    n_audit = audit_count(office.db)
    with pytest.raises(ConflictError, match="already used for payment"):
        post(office.db, office.clerk, **{**kw, **change})
    assert count_rows(office.db, Payment) == 1
    assert audit_count(office.db) == n_audit


def test_key_reused_by_another_client_is_a_conflict(office: Office, acct: Acct) -> None:
    post(
        office.db, office.clerk, side="client", client_id=acct.client, amount=D("10.00"), idempotency_key="k"
    )
    with pytest.raises(ConflictError):
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=acct.other_client,
            amount=D("10.00"),
            idempotency_key="k",
        )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kw", "field", "why"),
    [
        ({"amount": D("0.00")}, "amount", "must be more than zero"),
        ({"amount": D("-5.00")}, "amount", "must be more than zero"),
        ({"amount": D("10.001")}, "amount", "has more than 2 decimals"),
        ({"amount": D("Infinity")}, "amount", "is not an amount"),
        ({"amount": D("1E+400")}, "amount", "is larger than"),
        ({"amount": 10.5}, "amount", "must be an amount in dollars and cents"),
        ({"amount": "abc"}, "amount", "is not an amount"),
        ({"received_on": dt.date(2026, 11, 17)}, "date", "is in the future (today is 2026-11-16)"),
        ({"method": "bitcoin"}, "method", "must be one of"),
        ({"idempotency_key": "  "}, "key", "is required"),
        ({"idempotency_key": "x" * 121}, "key", "is longer than 120 characters"),
        ({"reference": "r" * 81}, "reference", "is longer than 80 characters"),
        ({"reference": "a\x1bb"}, "reference", "has control characters"),
        ({"side": "agency"}, "side", "must be payer or client"),
        ({"client_id": None}, "client", "is required"),
        ({"client_id": 99999}, "client", "no client with id 99999"),
        ({"payer_id": 1}, "payer", "a client's own payment has no payer"),
        ({"invoice_id": 99999}, "invoice", "no invoice with id 99999"),
    ],
)
def test_bad_input_refused_with_no_change(
    office: Office, acct: Acct, kw: dict[str, Any], field: str, why: str
) -> None:
    n_audit = audit_count(office.db)
    args: dict[str, Any] = {
        "side": "client",
        "client_id": acct.client,
        "amount": D("10.00"),
        "idempotency_key": "bad",
    }
    args.update(kw)
    with pytest.raises(ValidationError) as e:
        post(office.db, office.clerk, **args)
    assert why in e.value.fields[field]
    assert count_rows(office.db, Payment) == 0
    assert count_rows(office.db, Allocation) == 0
    assert audit_count(office.db) == n_audit
    assert invoice_figures(office.db, acct.s_aug) == (D("0.00"), InvoiceStatus.ISSUED)


def test_payer_payment_needs_a_payer(office: Office, acct: Acct) -> None:
    with pytest.raises(ValidationError) as e:
        post(office.db, office.clerk, side="payer", amount=D("10.00"), idempotency_key="p")
    assert e.value.fields == {"payer": "is required"}


def test_every_staff_member_may_post(office: Office, acct: Acct) -> None:
    for i, who in enumerate([office.sup, office.clerk, office.clerk3]):
        post(office.db, who, side="client", client_id=acct.client, amount=D("1.00"), idempotency_key=f"w{i}")
    assert count_rows(office.db, Payment) == 3


# --------------------------------------------------------------------------- preview


def test_preview_matches_posting_and_changes_nothing(office: Office, acct: Acct) -> None:
    pv = office.db.read(
        lambda s: payments.preview_payment(
            office.clerk, s, side="client", client_id=acct.client, amount="620.00"
        )
    )
    assert [(a.invoice_number, a.amount) for a in pv.allocations] == [
        ("S-0001", D("100.00")),
        ("S-0002", D("200.00")),
        ("S-0003", D("300.00")),
    ]
    assert pv.credit == D("20.00")
    assert count_rows(office.db, Payment) == 0
    r = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("620.00"),
        idempotency_key="pv",
    )
    assert [(a.invoice_number, a.amount) for a in r.payment.allocations] == [
        (a.invoice_number, a.amount) for a in pv.allocations
    ]
    assert r.payment.unapplied == pv.credit


# --------------------------------------------------------------------------- batches


def _batch(office: Office, acct: Acct, **kw: Any) -> payments.BatchResult:
    args: dict[str, Any] = {
        "batch_key": "deposit-2026-11-16",
        "control_total": D("475.00"),
        "count": 3,
        "received_on": TODAY,
        "items": [
            BatchItem(side="client", client_id=acct.client, amount=D("150.00"), reference="chk 101"),
            BatchItem(side="payer", payer_id=acct.payer, amount=D("25.00"), reference="chk 102"),
            BatchItem(
                side="client",
                client_id=acct.client,
                amount="300.00",
                reference="chk 103",
                invoice_id=acct.s_oct,
            ),
        ],
    }
    args.update(kw)
    return office.db.write(lambda s: payments.post_batch(office.clerk, s, **args))


def test_batch_posts_every_item_with_derived_keys(office: Office, acct: Acct) -> None:
    res = _batch(office, acct)
    assert not res.duplicate
    assert [p.idempotency_key for p in res.payments] == [f"deposit-2026-11-16#{n}" for n in (1, 2, 3)]
    assert {p.batch_id for p in res.payments} == {res.batch_id}
    assert res.credit_added == D("25.00")  # the payer has no invoices
    assert invoice_figures(office.db, acct.s_aug) == (D("100.00"), InvoiceStatus.PAID)
    assert invoice_figures(office.db, acct.s_sep) == (D("50.00"), InvoiceStatus.PARTIALLY_PAID)
    assert invoice_figures(office.db, acct.s_oct) == (D("300.00"), InvoiceStatus.PAID)
    again = _batch(office, acct)
    assert again.duplicate and again.batch_id == res.batch_id
    assert count_rows(office.db, Payment) == 3
    assert count_rows(office.db, PaymentBatch) == 1


def test_batch_with_a_wrong_control_total_saves_nothing(office: Office, acct: Acct) -> None:
    n_audit = audit_count(office.db)
    with pytest.raises(ValidationError) as e:
        _batch(office, acct, control_total=D("495.00"))
    assert e.value.fields == {
        "control_total": "the items add up to $475.00 but the control total is $495.00 (difference -$20.00)"
    }
    assert count_rows(office.db, Payment) == 0
    assert count_rows(office.db, PaymentBatch) == 0
    assert count_rows(office.db, Allocation) == 0
    assert audit_count(office.db) == n_audit
    assert invoice_figures(office.db, acct.s_aug) == (D("0.00"), InvoiceStatus.ISSUED)


def test_batch_with_a_wrong_count_saves_nothing(office: Office, acct: Acct) -> None:
    with pytest.raises(ValidationError) as e:
        _batch(office, acct, count=4)
    assert e.value.fields["count"] == "3 items entered but the control count is 4 (1 missing)"
    assert count_rows(office.db, Payment) == 0


def test_batch_line_errors_name_the_line(office: Office, acct: Acct) -> None:
    items = [
        BatchItem(side="client", client_id=acct.client, amount=D("150.00")),
        BatchItem(side="client", client_id=acct.client, amount="12.345"),
    ]
    with pytest.raises(ValidationError) as e:
        _batch(office, acct, items=items, count=2, control_total=D("162.35"))
    assert e.value.fields == {"line 2": "amount 12.345 has more than 2 decimals; amounts are in whole cents"}
    assert count_rows(office.db, Payment) == 0


def test_batch_is_all_or_nothing_when_a_later_line_fails(office: Office, acct: Acct) -> None:
    # Line 1 pays S-0003 in full; line 2 names it too, which only fails once line 1 is in.
    items = [
        BatchItem(side="client", client_id=acct.client, amount=D("300.00"), invoice_id=acct.s_oct),
        BatchItem(side="client", client_id=acct.client, amount=D("10.00"), invoice_id=acct.s_oct),
    ]
    n_audit = audit_count(office.db)
    with pytest.raises(ValidationError) as e:
        _batch(office, acct, items=items, count=2, control_total=D("310.00"))
    assert "S-0003 is paid and takes no payment" in e.value.fields["line 2"]
    assert count_rows(office.db, Payment) == 0
    assert count_rows(office.db, PaymentBatch) == 0
    assert audit_count(office.db) == n_audit
    assert invoice_figures(office.db, acct.s_oct) == (D("0.00"), InvoiceStatus.ISSUED)


def test_batch_key_reused_for_different_items_is_a_conflict(office: Office, acct: Acct) -> None:
    _batch(office, acct)
    items = [BatchItem(side="client", client_id=acct.client, amount=D("5.00"))]
    with pytest.raises(ConflictError):
        _batch(office, acct, items=items, count=1, control_total=D("5.00"))
    assert count_rows(office.db, Payment) == 3


# --------------------------------------------------------------------------- queries


def test_payments_are_paged_by_key_newest_first(office: Office, acct: Acct) -> None:
    days = [dt.date(2026, 11, d) for d in (3, 9, 9, 1, 12)]
    ids = [
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=acct.client,
            amount=D("1.00"),
            idempotency_key=f"pg{i}",
            received_on=day,
        ).payment.id
        for i, day in enumerate(days)
    ]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = office.db.read(lambda s, c=cursor: payments.list_payments(office.clerk, s, after=c, limit=2))
        seen.extend(r.id for r in page.rows)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # received 12th, 9th (the later id first), 9th, 3rd, 1st
    assert seen == [ids[4], ids[2], ids[1], ids[0], ids[3]]
    assert pages == 3
    only_payer = office.db.read(lambda s: payments.list_payments(office.clerk, s, payer_id=acct.payer))
    assert only_payer.rows == () and only_payer.next_cursor is None


def test_client_ledger_shows_balances_payments_and_credit(office: Office, acct: Acct) -> None:
    by = office.sup.user_id
    payer_inv = office.db.write(
        lambda s: make_invoice(
            s,
            client_id=acct.client,
            created_by=by,
            total="400.00",
            issue_date=dt.date(2026, 10, 5),
            payer_id=acct.payer,
            number="P-7",
        )
    )
    # A payer check that also covers another client's invoice: only this client's part shows.
    office.db.write(
        lambda s: make_invoice(
            s,
            client_id=acct.other_client,
            created_by=by,
            total="40.00",
            issue_date=dt.date(2026, 10, 6),
            payer_id=acct.payer,
        )
    )
    post(
        office.db,
        office.clerk,
        side="payer",
        payer_id=acct.payer,
        amount=D("420.00"),
        method="eft",
        idempotency_key="e",
    )
    post(
        office.db, office.clerk, side="client", client_id=acct.client, amount=D("650.00"), idempotency_key="c"
    )
    led = office.db.read(lambda s: ledger.client_ledger(office.clerk, s, acct.client))
    assert (led.client_balance, led.payer_balance, led.account_credit) == (D("0.00"), D("0.00"), D("50.00"))
    assert [i.number for i in led.invoices] == ["P-7", "S-0003", "S-0002", "S-0001"]
    assert [(p.side, p.amount, p.unapplied) for p in led.payments] == [
        (PayerSide.CLIENT, D("650.00"), D("50.00")),
        (PayerSide.PAYER, D("420.00"), D("0.00")),
    ]
    payer_row = led.payments[1]
    assert payer_row.payer_name == "Acme Health"
    assert [(a.invoice_number, a.amount) for a in payer_row.allocations] == [("P-7", D("400.00"))]
    assert payer_inv in {i.id for i in led.invoices}
    items = office.db.read(
        lambda s: ledger.open_items(office.clerk, s, side="client", client_id=acct.other_client)
    )
    assert items.count == 0 and items.total == D("0.00")


def test_open_items_in_allocation_order(office: Office, acct: Acct) -> None:
    items = office.db.read(
        lambda s: ledger.open_items(office.clerk, s, side="client", client_id=acct.client, limit=2)
    )
    assert [i.number for i in items.items] == ["S-0001", "S-0002"]
    assert (items.count, items.total, items.more) == (3, D("600.00"), True)
    assert items.items[0].overdue(TODAY)


def test_lookups(office: Office, acct: Acct) -> None:
    assert office.db.read(lambda s: ledger.resolve_client(s, "A-1001")) == acct.client
    assert office.db.read(lambda s: ledger.resolve_payer(s, "acme health")) == acct.payer
    assert office.db.read(lambda s: ledger.resolve_invoice(s, "S-0003")) == acct.s_oct
    with pytest.raises(NotFound):
        office.db.read(lambda s: ledger.resolve_client(s, "nope"))


def test_find_and_get_payment(office: Office, acct: Acct) -> None:
    r = post(
        office.db, office.clerk, side="client", client_id=acct.client, amount=D("5.00"), idempotency_key="fk"
    )
    got = office.db.read(lambda s: payments.find_payment_by_key(office.clerk, s, "fk"))
    assert got == office.db.read(lambda s: payments.get_payment(office.clerk, s, r.payment.id))
    assert got is not None and got.posted_by == "cleo"
    assert office.db.read(lambda s: payments.find_payment_by_key(office.clerk, s, "nope")) is None


def test_every_change_is_audited_and_the_chain_holds(office: Office, acct: Acct) -> None:
    r = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("250.00"),
        idempotency_key="au",
    )

    def rows(s: Session) -> list[tuple[str, str, str]]:
        q = (
            sa.select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.action)
            .where(AuditEntry.entity.in_(["payment", "invoice"]))
            .order_by(AuditEntry.id)
        )
        return [tuple(x) for x in s.execute(q)]  # type: ignore[misc]

    assert office.db.read(rows) == [
        ("invoice", str(acct.s_aug), "payment"),
        ("invoice", str(acct.s_sep), "payment"),
        ("payment", str(r.payment.id), "post"),
    ]
    assert office.db.read(audit.verify).ok


def test_amount_paid_never_exceeds_the_total(office: Office, acct: Acct) -> None:
    for i in range(4):
        post(
            office.db,
            office.clerk,
            side="client",
            client_id=acct.client,
            amount=D("170.00"),
            idempotency_key=f"m{i}",
        )

    def check(s: Session) -> list[tuple[Decimal, Decimal]]:
        return [(i.total, i.amount_paid) for i in s.scalars(sa.select(Invoice).order_by(Invoice.id))]

    assert office.db.read(check) == [
        (D("200.00"), D("200.00")),
        (D("100.00"), D("100.00")),
        (D("300.00"), D("300.00")),
    ]
    assert office.db.read(lambda s: ledger.account_credit(s, PayerSide.CLIENT, client_id=acct.client)) == D(
        "80.00"
    )


def test_the_worked_example_in_docs_payments_md(office: Office, acct: Acct) -> None:
    r1 = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("250.00"),
        idempotency_key="chk-5521",
    )
    assert [(a.invoice_number, a.amount) for a in r1.payment.allocations] == [
        ("S-0001", D("100.00")),
        ("S-0002", D("150.00")),
    ]
    assert office.db.read(lambda s: ledger.client_balance(s, acct.client)) == D("350.00")
    again = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("250.00"),
        idempotency_key="chk-5521",
    )
    assert again.duplicate
    r3 = post(
        office.db,
        office.clerk,
        side="client",
        client_id=acct.client,
        amount=D("400.00"),
        idempotency_key="chk-5522",
    )
    assert [(a.invoice_number, a.amount) for a in r3.payment.allocations] == [
        ("S-0002", D("50.00")),
        ("S-0003", D("300.00")),
    ]
    assert r3.payment.unapplied == D("50.00")
    s4 = office.db.write(
        lambda s: make_invoice(
            s,
            client_id=acct.client,
            created_by=office.sup.user_id,
            total="90.00",
            issue_date=dt.date(2026, 11, 2),
            number="S-0004",
        )
    )
    res = office.db.write(
        lambda s: payments.apply_credit(office.clerk, s, side="client", client_id=acct.client)
    )
    assert (res.applied, res.credit_left) == (D("50.00"), D("0.00"))
    assert invoice_figures(office.db, s4) == (D("50.00"), InvoiceStatus.PARTIALLY_PAID)
    assert office.db.read(lambda s: ledger.client_balance(s, acct.client)) == D("40.00")
