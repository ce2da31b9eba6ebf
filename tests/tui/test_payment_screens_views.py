"""``billing.payment_views``: the figures the payment screens show before saving, exact, and
read-only (no row and no audit entry is written by looking)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from billing import payment_views as pv
from billing import plans
from db.errors import ValidationError
from db.models import AuditEntry, InvoiceStatus, PayerSide, PlanStatus
from tests.conftest import Office
from tests.tui.test_payment_screens import TODAY, Books, make_books

D = Decimal


@pytest.fixture
def books(office: Office) -> Books:
    return make_books(office)


def audit_rows(b: Books) -> int:
    return b.office.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0)


def test_explain_oldest_first_and_named(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    before = audit_rows(books)
    e = db.read(
        lambda s: pv.explain_payment(clerk, s, side="client", amount=D("200.00"), client_id=books.garcia)
    )
    assert [(x.invoice_id, x.balance_before, x.amount, x.balance_after, x.status_after) for x in e.lines] == [
        (books.garcia_old, D("150.00"), D("150.00"), D("0.00"), InvoiceStatus.PAID),
        (books.garcia_new, D("1000.00"), D("50.00"), D("950.00"), InvoiceStatus.PARTIALLY_PAID),
    ]
    assert (e.amount, e.credit, e.plan_number) == (D("200.00"), D("0.00"), "")
    named = db.read(
        lambda s: pv.explain_payment(
            clerk, s, side="client", amount="1200.00", client_id=books.garcia, invoice_id=books.garcia_new
        )
    )
    assert [(x.invoice_id, x.amount) for x in named.lines] == [(books.garcia_new, D("1000.00"))]
    assert named.credit == D("200.00")
    everything = db.read(
        lambda s: pv.explain_payment(clerk, s, side="client", amount="5000", client_id=books.doe)
    )
    assert [x.amount for x in everything.lines] == [D("150.00")] and everything.credit == D("4850.00")
    assert audit_rows(books) == before  # looking writes nothing


def test_explain_names_the_plan_installments(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    db.write(
        lambda s: plans.create_plan(
            clerk, s, client_id=books.smith, count=3, interval="monthly", first_due=dt.date(2026, 12, 16)
        )
    )
    e = db.read(lambda s: pv.explain_payment(clerk, s, side="client", amount="400.00", client_id=books.smith))
    assert [(x.amount, x.installments) for x in e.lines] == [(D("400.00"), (1, 2))]
    assert e.plan_number == "PP-000001"


def test_explain_refuses_bad_input(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    with pytest.raises(ValidationError) as bad:
        db.read(lambda s: pv.explain_payment(clerk, s, side="client", amount="-5", client_id=books.doe))
    assert bad.value.fields == {"amount": "must be more than zero"}
    with pytest.raises(ValidationError) as other:
        db.read(
            lambda s: pv.explain_payment(
                clerk, s, side="client", amount="5", client_id=books.doe, invoice_id=books.smith_inv
            )
        )
    assert "is not one of this client's own bills" in other.value.fields["invoice"]


def test_party_summary_and_invoice_numbers(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    mine = db.read(lambda s: pv.party_summary(clerk, s, side=PayerSide.CLIENT, client_id=books.garcia))
    assert (mine.open_count, mine.open_total, mine.credit, mine.more) == (2, D("1150.00"), D("0.00"), False)
    assert [i.id for i in mine.items] == [books.garcia_old, books.garcia_new] and mine.clients == {}
    payer = db.read(lambda s: pv.party_summary(clerk, s, side=PayerSide.PAYER, payer_id=books.acme))
    assert payer.clients == {books.acme_inv: "A000004 Nguyen, Thi"}
    few = db.read(lambda s: pv.party_summary(clerk, s, side="client", client_id=books.garcia, limit=1))
    assert (len(few.items), few.open_count, few.more) == (1, 2, True)
    with pytest.raises(ValidationError):
        db.read(lambda s: pv.party_summary(clerk, s, side="payer"))
    number = books.number(books.doe_inv)
    assert db.read(lambda s: pv.find_invoice_id(clerk, s, f"  {number.lower()} ")) == books.doe_inv
    with pytest.raises(ValidationError) as missing:
        db.read(lambda s: pv.find_invoice_id(clerk, s, "INV-999999"))
    assert missing.value.fields == {"invoice": "no invoice numbered 'INV-999999'"}


def test_plan_context_says_what_is_financed_or_why_not(books: Books) -> None:
    db, clerk = books.office.db, books.office.clerk
    ctx = db.read(lambda s: pv.plan_context(clerk, s, books.smith))
    assert (ctx.financeable, ctx.disputed, ctx.credit, ctx.blocked, ctx.today) == (
        D("1000.00"),
        D("0.00"),
        D("0.00"),
        "",
        TODAY,
    )
    assert (ctx.grace_days, ctx.default_after) == (10, 2)
    db.write(
        lambda s: plans.create_plan(
            clerk, s, client_id=books.smith, count=2, interval="weekly", first_due=dt.date(2026, 11, 20)
        )
    )
    ctx = db.read(lambda s: pv.plan_context(clerk, s, books.smith))
    assert ctx.open_plan == "PP-000001" and ctx.open_plan_status == PlanStatus.ACTIVE
    assert "already has an open plan (PP-000001, active)" in ctx.blocked


def test_schedule_problems_match_the_service_rules() -> None:
    amount = D("1000.00")
    assert pv.schedule_problems(3, "monthly", TODAY, TODAY, amount) == {}
    assert pv.schedule_problems(0, "monthly", TODAY, TODAY, amount) == {"count": "must be between 1 and 120"}
    assert pv.schedule_problems(121, "weekly", TODAY, TODAY, amount) == {"count": "must be between 1 and 120"}
    assert pv.schedule_problems(3, "daily", TODAY, TODAY, amount) == {
        "interval": "must be weekly, biweekly or monthly"
    }
    assert pv.schedule_problems(3, "monthly", TODAY - dt.timedelta(days=1), TODAY, amount) == {
        "first_due": "is in the past (today is 2026-11-16)"
    }
    assert pv.schedule_problems(3, "monthly", TODAY + dt.timedelta(days=367), TODAY, amount) == {
        "first_due": "is more than a year away"
    }
    assert pv.schedule_problems(3, "monthly", TODAY, TODAY, D("0.02")) == {
        "count": "3 installments would be less than one cent each"
    }
