"""Payment plans: exact schedules, month ends, states with grace, refresh, cancel, agreement."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import ledger, payments, plans
from billing.plans import add_months, build_schedule, due_dates, installment_status, next_plan_status
from db import timeutil
from db.engine import Database
from db.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from db.models import (
    AuditEntry,
    Client,
    ClientStatus,
    InstallmentStatus,
    Payment,
    PaymentPlan,
    PlanInterval,
    PlanStatus,
)
from db.settings import put_setting
from tests.billing.factories_payments import (
    count_rows,
    installment_figures,
    make_client,
    make_invoice,
    plan_status,
)
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)
IS = InstallmentStatus


# --------------------------------------------------------------------------- pure schedule


def test_thousand_in_three_puts_the_remainder_on_the_last() -> None:
    lines = build_schedule(D("1000.00"), 3, PlanInterval.MONTHLY, dt.date(2026, 12, 1))
    assert [(x.seq, x.due_date, x.amount) for x in lines] == [
        (1, dt.date(2026, 12, 1), D("333.33")),
        (2, dt.date(2027, 1, 1), D("333.33")),
        (3, dt.date(2027, 2, 1), D("333.34")),
    ]
    assert sum(x.amount for x in lines) == D("1000.00")


@pytest.mark.parametrize(
    ("amount", "count", "last"),
    [("100.00", 7, "14.32"), ("0.05", 5, "0.01"), ("12345.67", 120, "102.95"), ("50.00", 1, "50.00")],
)
def test_schedules_always_sum_exactly(amount: str, count: int, last: str) -> None:
    lines = build_schedule(D(amount), count, PlanInterval.WEEKLY, TODAY)
    assert sum(x.amount for x in lines) == D(amount)
    assert lines[-1].amount == D(last)
    assert len({x.amount for x in lines[:-1]}) <= 1


def test_monthly_dates_keep_the_day_clamped_to_month_end() -> None:
    assert due_dates(dt.date(2027, 1, 31), 5, PlanInterval.MONTHLY) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
        dt.date(2027, 5, 31),
    ]
    assert due_dates(dt.date(2028, 1, 31), 2, PlanInterval.MONTHLY)[1] == dt.date(2028, 2, 29)  # leap year
    assert due_dates(dt.date(2026, 11, 30), 4, PlanInterval.MONTHLY) == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 30),
        dt.date(2027, 1, 30),
        dt.date(2027, 2, 28),
    ]
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)
    assert add_months(dt.date(2026, 1, 31), 119) == dt.date(2035, 12, 31)


def test_weekly_and_biweekly_dates() -> None:
    start = dt.date(2026, 12, 28)
    assert due_dates(start, 3, PlanInterval.WEEKLY) == [start, dt.date(2027, 1, 4), dt.date(2027, 1, 11)]
    assert due_dates(start, 3, PlanInterval.BIWEEKLY) == [start, dt.date(2027, 1, 11), dt.date(2027, 1, 25)]


def test_installment_status_with_grace() -> None:
    due = dt.date(2026, 12, 1)
    amt = D("100.00")
    assert installment_status(amt, D("0.00"), due, dt.date(2026, 12, 11), 10) == IS.DUE  # last day of grace
    assert installment_status(amt, D("0.00"), due, dt.date(2026, 12, 12), 10) == IS.MISSED
    assert installment_status(amt, D("40.00"), due, dt.date(2026, 12, 2), 10) == IS.PARTIAL
    assert installment_status(amt, D("40.00"), due, dt.date(2026, 12, 12), 10) == IS.MISSED
    assert installment_status(amt, D("100.00"), due, dt.date(2027, 6, 1), 10) == IS.PAID


def test_plan_status_rules() -> None:
    assert next_plan_status(PlanStatus.ACTIVE, [IS.PAID, IS.DUE], 2) == PlanStatus.ACTIVE
    assert next_plan_status(PlanStatus.ACTIVE, [IS.MISSED, IS.DUE], 2) == PlanStatus.LATE
    assert next_plan_status(PlanStatus.LATE, [IS.PAID, IS.DUE], 2) == PlanStatus.ACTIVE
    assert next_plan_status(PlanStatus.LATE, [IS.MISSED, IS.MISSED], 2) == PlanStatus.DEFAULTED
    assert next_plan_status(PlanStatus.DEFAULTED, [IS.PAID, IS.DUE], 2) == PlanStatus.DEFAULTED
    assert next_plan_status(PlanStatus.DEFAULTED, [IS.PAID, IS.PAID], 2) == PlanStatus.COMPLETED
    assert next_plan_status(PlanStatus.CANCELLED, [IS.PAID, IS.PAID], 2) == PlanStatus.CANCELLED


# --------------------------------------------------------------------------- creating plans


@dataclass
class Acct:
    client: int
    a: int  # 400.00, due 2026-09-30
    b: int  # 600.00, due 2026-10-31


@pytest.fixture
def acct(office: Office) -> Acct:
    by = office.sup.user_id

    def go(s: Session) -> Acct:
        c = make_client(
            s,
            "A-1001",
            address_line1="12 Elm Street",
            address_line2="Apt 3",
            city="Springfield",
            region="MA",
            postal_code="01103",
        )
        a = make_invoice(
            s, client_id=c, created_by=by, total="400.00", issue_date=dt.date(2026, 8, 31), number="S-1"
        )
        b = make_invoice(
            s, client_id=c, created_by=by, total="600.00", issue_date=dt.date(2026, 10, 1), number="S-2"
        )
        return Acct(c, a, b)

    return office.db.write(go)


def create(db: Database, actor: Any, client: int, **kw: Any) -> plans.PlanView:
    args: dict[str, Any] = {"count": 3, "interval": "monthly", "first_due": dt.date(2026, 12, 1)}
    args.update(kw)
    return db.write(lambda s: plans.create_plan(actor, s, client_id=client, **args))


def pay(db: Database, actor: Any, client: int, amount: str, key: str, **kw: Any) -> payments.PostResult:
    return db.write(
        lambda s: payments.post_payment(
            actor,
            s,
            side="client",
            client_id=client,
            amount=D(amount),
            method="card",
            received_on=timeutil.now().in_timezone("America/New_York").date(),
            idempotency_key=key,
            **kw,
        )
    )


def refresh(db: Database, actor: Any, as_of: dt.date | None = None) -> plans.RefreshResult:
    return db.write(lambda s: plans.refresh_plan_states(actor, s, as_of))


def test_plan_finances_the_current_balance(office: Office, acct: Acct) -> None:
    by = office.sup.user_id
    office.db.write(
        lambda s: make_invoice(
            s,
            client_id=acct.client,
            created_by=by,
            total="75.00",
            issue_date=dt.date(2026, 10, 5),
            dispute_hold=True,
        )
    )
    pv = office.db.read(
        lambda s: plans.preview_plan(
            office.clerk,
            s,
            client_id=acct.client,
            count=3,
            interval="monthly",
            first_due=dt.date(2026, 12, 1),
        )
    )
    assert (pv.amount_financed, pv.excluded_disputed) == (D("1000.00"), D("75.00"))
    assert count_rows(office.db, PaymentPlan) == 0
    p = create(office.db, office.clerk, acct.client)
    assert (p.number, p.status, p.amount_financed, p.created_by, p.agreed_on) == (
        "PP-000001",
        PlanStatus.ACTIVE,
        D("1000.00"),
        "cleo",
        TODAY,
    )
    assert [(i.seq, i.due_date, i.amount, i.status) for i in p.installments] == [
        (1, dt.date(2026, 12, 1), D("333.33"), IS.DUE),
        (2, dt.date(2027, 1, 1), D("333.33"), IS.DUE),
        (3, dt.date(2027, 2, 1), D("333.34"), IS.DUE),
    ]
    assert [(x.due_date, x.amount) for x in pv.schedule] == [(i.due_date, i.amount) for i in p.installments]
    assert p.next_due is not None and p.next_due.seq == 1
    assert office.db.read(lambda s: plans.has_current_plan(s, acct.client))
    rows = office.db.read(
        lambda s: s.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity == "payment_plan")).all()
    )
    assert rows == ["create"]


@pytest.mark.parametrize(
    ("kw", "field", "why"),
    [
        ({"count": 0}, "count", "must be between 1 and 120"),
        ({"count": 121}, "count", "must be between 1 and 120"),
        ({"count": "3"}, "count", "must be a whole number of installments"),
        ({"count": True}, "count", "must be a whole number of installments"),
        ({"interval": "daily"}, "interval", "must be weekly, biweekly or monthly"),
        ({"first_due": dt.date(2026, 11, 15)}, "first_due", "is in the past (today is 2026-11-16)"),
        ({"first_due": dt.date(2027, 11, 18)}, "first_due", "is more than a year away"),
        ({"first_due": "2026-12-01"}, "first_due", "must be a date"),
    ],
)
def test_bad_terms_refused_with_no_change(
    office: Office, acct: Acct, kw: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, acct.client, **kw)
    assert e.value.fields[field] == why
    assert count_rows(office.db, PaymentPlan) == 0


def test_first_due_today_is_allowed(office: Office, acct: Acct) -> None:
    assert create(office.db, office.clerk, acct.client, first_due=TODAY).first_due == TODAY


def test_nothing_to_finance(office: Office) -> None:
    def go(s: Session) -> tuple[int, int]:
        empty = make_client(s, "A-0")
        held = make_client(s, "A-H")
        make_invoice(
            s,
            client_id=held,
            created_by=office.sup.user_id,
            total="80.00",
            issue_date=dt.date(2026, 10, 1),
            dispute_hold=True,
        )
        return empty, held

    empty, held = office.db.write(go)
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, empty)
    assert e.value.fields == {"client": "owes nothing on their own bills"}
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, held)
    assert e.value.fields == {
        "client": "owes nothing on their own bills apart from $80.00 on dispute hold, which is not financed"
    }
    with pytest.raises(NotFound):
        create(office.db, office.clerk, 99999)
    assert count_rows(office.db, PaymentPlan) == 0


def test_cents_too_few_for_the_count(office: Office) -> None:
    def go(s: Session) -> int:
        c = make_client(s, "A-T")
        make_invoice(
            s, client_id=c, created_by=office.sup.user_id, total="0.02", issue_date=dt.date(2026, 10, 1)
        )
        return c

    c = office.db.write(go)
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, c, count=3)
    assert e.value.fields == {"count": "3 installments of $0.02 would be less than one cent each"}


def test_closed_account_and_account_credit_refused(office: Office, acct: Acct) -> None:
    pay(office.db, office.clerk, acct.client, "30.00", "named-over", invoice_id=acct.a)  # no credit yet
    # 400 paid to S-1 with 20 over: credit 20 while S-2 is still open.
    pay(office.db, office.clerk, acct.client, "390.00", "over", invoice_id=acct.a)
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, acct.client)
    assert e.value.fields == {"client": "has $20.00 account credit; apply it to the open bills first"}

    def close(s: Session) -> None:
        c = s.get(Client, acct.client)
        assert c is not None
        c.status = ClientStatus.CLOSED

    office.db.write(close)
    with pytest.raises(ValidationError) as e:
        create(office.db, office.clerk, acct.client)
    assert e.value.fields == {"client": "account A-1001 is closed"}
    assert count_rows(office.db, PaymentPlan) == 0


def test_one_open_plan_per_client(office: Office, acct: Acct) -> None:
    first = create(office.db, office.clerk, acct.client)
    with pytest.raises(ConflictError, match=r"already has an open payment plan \(PP-000001\)"):
        create(office.db, office.clerk2, acct.client)
    office.db.write(lambda s: plans.cancel_plan(office.sup, s, first.id, reason="new terms agreed"))
    second = create(office.db, office.clerk2, acct.client, count=4)
    assert second.installment_count == 4
    assert [p.status for p in office.db.read(lambda s: plans.client_plans(office.clerk, s, acct.client))] == [
        PlanStatus.ACTIVE,
        PlanStatus.CANCELLED,
    ]


def test_two_clerks_making_a_plan_at_once_make_one(office: Office, acct: Acct, db_url: str) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(actor: Any) -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            db.write(
                lambda s: plans.create_plan(
                    actor,
                    s,
                    client_id=acct.client,
                    count=2,
                    interval="weekly",
                    first_due=dt.date(2026, 12, 1),
                )
            )
            outcomes.append("made")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker, args=(a,)) for a in (office.clerk, office.clerk2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["conflict", "made"]
    assert count_rows(office.db, PaymentPlan) == 1


# --------------------------------------------------------------------------- payments and installments


def test_payments_apply_to_installments_by_due_date(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client)
    r = pay(office.db, office.clerk, acct.client, "400.00", "p1")
    inst = {i.seq: i.id for i in p.installments}
    assert [(a.invoice_number, a.amount, a.installment_seq) for a in r.payment.allocations] == [
        ("S-1", D("333.33"), 1),
        ("S-1", D("66.67"), 2),
    ]
    assert [a.installment_id for a in r.payment.allocations] == [inst[1], inst[2]]
    assert installment_figures(office.db, p.id) == [
        (1, D("333.33"), "paid"),
        (2, D("66.67"), "partial"),
        (3, D("0.00"), "due"),
    ]
    r2 = pay(office.db, office.clerk, acct.client, "300.00", "p2")
    assert [(a.invoice_number, a.amount, a.installment_seq) for a in r2.payment.allocations] == [
        ("S-2", D("266.66"), 2),
        ("S-2", D("33.34"), 3),
    ]
    view = office.db.read(lambda s: plans.get_plan(office.clerk, s, p.id))
    assert (view.paid_total, view.remaining, view.status) == (D("700.00"), D("300.00"), PlanStatus.ACTIVE)


def test_paying_everything_completes_the_plan_and_extra_is_credit(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client)
    r = pay(office.db, office.clerk, acct.client, "1010.00", "all")
    assert r.plan_change is not None and r.plan_change.after == PlanStatus.COMPLETED
    assert r.describe().endswith("account credit $10.00; plan now completed")
    assert plan_status(office.db, p.id) == "completed"
    assert not office.db.read(lambda s: plans.has_current_plan(s, acct.client))
    assert office.db.read(lambda s: plans.current_plan(office.clerk, s, acct.client)) is None


def test_payer_money_does_not_pay_installments(office: Office, acct: Acct) -> None:
    from tests.billing.factories_payments import make_payer

    def go(s: Session) -> tuple[int, int]:
        payer = make_payer(s)
        return payer, make_invoice(
            s,
            client_id=acct.client,
            created_by=office.sup.user_id,
            total="500.00",
            issue_date=dt.date(2026, 9, 1),
            payer_id=payer,
        )

    payer, _ = office.db.write(go)
    p = create(office.db, office.clerk, acct.client)
    office.db.write(
        lambda s: payments.post_payment(
            office.clerk,
            s,
            side="payer",
            payer_id=payer,
            amount=D("500.00"),
            method="eft",
            received_on=TODAY,
            idempotency_key="eft",
        )
    )
    assert [x[1] for x in installment_figures(office.db, p.id)] == [D("0.00")] * 3


def test_applied_credit_pays_installments_too(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client)
    # A check for S-1 that is 100 too much: 400 to S-1 (and the installments), 100 credit.
    r = pay(office.db, office.clerk, acct.client, "500.00", "named", invoice_id=acct.a)
    assert r.payment.unapplied == D("100.00")
    res = office.db.write(
        lambda s: payments.apply_credit(office.clerk, s, side="client", client_id=acct.client)
    )
    assert [(a.invoice_number, a.amount, a.installment_seq) for a in res.allocations] == [
        ("S-2", D("100.00"), 2)
    ]
    assert [x[1] for x in installment_figures(office.db, p.id)] == [D("333.33"), D("166.67"), D("0.00")]


def test_cancelled_plan_takes_no_more_money(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client)
    office.db.write(lambda s: plans.cancel_plan(office.sup, s, p.id, reason="client asked"))
    r = pay(office.db, office.clerk, acct.client, "100.00", "after")
    assert [a.installment_id for a in r.payment.allocations] == [None]
    assert [x[1] for x in installment_figures(office.db, p.id)] == [D("0.00")] * 3


# --------------------------------------------------------------------------- states over time


def test_states_move_with_grace_missed_payments_and_catch_up(office: Office, acct: Acct) -> None:
    office.db.write(lambda s: put_setting(s, "billing.plan_grace_days", 10))
    office.db.write(lambda s: put_setting(s, "billing.plan_default_after_missed", 2))
    p = create(office.db, office.clerk, acct.client, first_due=dt.date(2026, 12, 1))  # 12-01, 01-01, 02-01

    timeutil.freeze("2026-12-11T20:00:00+00:00")  # Dec 11 in New York: the last day of grace
    assert refresh(office.db, office.clerk).changes == ()
    assert plan_status(office.db, p.id) == "active"

    timeutil.freeze("2026-12-12T15:00:00+00:00")
    r = refresh(office.db, office.clerk)
    assert [(c.plan_id, c.account_number, c.before, c.after, c.missed) for c in r.changes] == [
        (p.id, "A-1001", PlanStatus.ACTIVE, PlanStatus.LATE, 1)
    ]
    assert installment_figures(office.db, p.id)[0] == (1, D("0.00"), "missed")
    assert not office.db.read(lambda s: plans.has_current_plan(s, acct.client))

    # Paying part of the missed installment keeps it missed; paying the rest makes the plan current.
    pay(office.db, office.clerk, acct.client, "100.00", "part")
    assert installment_figures(office.db, p.id)[0] == (1, D("100.00"), "missed")
    assert plan_status(office.db, p.id) == "late"
    res = pay(office.db, office.clerk, acct.client, "233.33", "rest")
    assert res.plan_change is not None and (res.plan_change.before, res.plan_change.after) == (
        PlanStatus.LATE,
        PlanStatus.ACTIVE,
    )
    assert plan_status(office.db, p.id) == "active"

    timeutil.freeze("2027-02-12T15:00:00+00:00")  # installments 2 and 3 both past grace
    r = refresh(office.db, office.clerk)
    assert [(c.before, c.after, c.missed) for c in r.changes] == [
        (PlanStatus.ACTIVE, PlanStatus.DEFAULTED, 2)
    ]
    # Catching up one installment does not end a default; only paying it off does.
    pay(office.db, office.clerk, acct.client, "333.33", "catch-up")
    assert plan_status(office.db, p.id) == "defaulted"
    assert installment_figures(office.db, p.id)[1] == (2, D("333.33"), "paid")
    pay(office.db, office.clerk, acct.client, "333.34", "last")
    assert plan_status(office.db, p.id) == "completed"
    assert refresh(office.db, office.clerk).checked == 0


def test_refresh_is_idempotent_and_writes_nothing_the_second_time(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client, first_due=dt.date(2026, 11, 20), interval="weekly")
    timeutil.freeze("2026-12-20T15:00:00+00:00")
    first = refresh(office.db, office.clerk2)
    assert [(c.after, c.missed) for c in first.changes] == [(PlanStatus.DEFAULTED, 3)]
    assert [x[2] for x in installment_figures(office.db, p.id)] == ["missed", "missed", "missed"]
    n_audit = count_rows(office.db, AuditEntry)
    second = refresh(office.db, office.clerk2)
    assert (second.checked, second.changes) == (1, ())
    assert count_rows(office.db, AuditEntry) == n_audit


def test_refresh_as_of_a_past_day_and_not_the_future(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client, first_due=dt.date(2026, 11, 20), interval="weekly")
    timeutil.freeze("2026-12-20T15:00:00+00:00")
    # The nightly job missed a night: run it for Dec 1 (the first installment only is missed).
    r = refresh(office.db, office.sup, dt.date(2026, 12, 1))
    assert [(c.after, c.missed) for c in r.changes] == [(PlanStatus.LATE, 1)]
    with pytest.raises(ValidationError) as e:
        refresh(office.db, office.sup, dt.date(2026, 12, 21))
    assert e.value.fields == {"as_of": "is in the future (today is 2026-12-20)"}
    assert plan_status(office.db, p.id) == "late"


# --------------------------------------------------------------------------- cancel and rights


def test_cancel_is_for_supervisors_only(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk, acct.client)
    n_audit = count_rows(office.db, AuditEntry)
    for clerk in (office.clerk, office.clerk2):
        with pytest.raises(PermissionDenied, match="may not cancel payment plans"):
            office.db.write(lambda s, c=clerk: plans.cancel_plan(c, s, p.id, reason="x"))
    assert plan_status(office.db, p.id) == "active"
    assert count_rows(office.db, AuditEntry) == n_audit
    with pytest.raises(ValidationError) as e:
        office.db.write(lambda s: plans.cancel_plan(office.sup, s, p.id, reason="  "))
    assert e.value.fields == {"reason": "is required"}
    with pytest.raises(ConflictError, match="changed by someone else"):
        office.db.write(
            lambda s: plans.cancel_plan(office.sup, s, p.id, reason="x", expected_version=p.version + 1)
        )
    done = office.db.write(
        lambda s: plans.cancel_plan(
            office.sup2, s, p.id, reason="client moved away", expected_version=p.version
        )
    )
    assert done.status == PlanStatus.CANCELLED
    with pytest.raises(ConflictError, match="is cancelled"):
        office.db.write(lambda s: plans.cancel_plan(office.sup, s, p.id, reason="again"))
    with pytest.raises(NotFound):
        office.db.write(lambda s: plans.cancel_plan(office.sup, s, 999, reason="x"))


def test_clerks_may_create_refresh_and_read_plans(office: Office, acct: Acct) -> None:
    p = create(office.db, office.clerk3, acct.client)
    assert refresh(office.db, office.clerk3).checked == 1
    assert office.db.read(lambda s: plans.get_plan(office.clerk3, s, p.id)).id == p.id
    assert (
        office.db.read(lambda s: ledger.client_ledger(office.clerk3, s, acct.client)).plan_status
        == PlanStatus.ACTIVE
    )


# --------------------------------------------------------------------------- the agreement


AGREEMENT = """\
================================================================================
                             PAYMENT PLAN AGREEMENT
================================================================================
Riverside Billing Services
120 Harbor Street, Suite 4, Springfield, MA 01103
Phone: (413) 555-0142

Plan number:      PP-000001                   Agreement date: 2026-11-16
Account:          A-1001
Client:           Doe, Jane
                  12 Elm Street
                  Apt 3
                  Springfield, MA 01103

Amount financed:  $1,000.00
Installments:     3, monthly, first due 2027-01-31

   No.  Due date       Amount
  ----  ----------  ---------
     1  2027-01-31    $333.33
     2  2027-02-28    $333.33
     3  2027-03-31    $333.34
                    ---------
  Total             $1,000.00

The client named above agrees to pay the amount financed in the 3 installments
listed. Every payment received is applied to the installments in order of their
due dates. While the plan is current, no payment demands are sent for the
balances it covers. An installment not paid in full within 10 days after its due
date is missed and the plan is late; after 2 missed installments the plan is in
default, the whole remaining balance is due at once and normal collection
resumes.

How to pay: Check payable to the office; card or bank transfer by phone.


Client signature: ______________________________   Date: ______________

For the office:   ______________________________   Date: ______________
"""


@pytest.fixture
def agreement_plan(office: Office, acct: Acct) -> plans.PlanView:
    def settings(s: Session) -> None:
        put_setting(s, "office.name", "Riverside Billing Services")
        put_setting(s, "office.address", "120 Harbor Street, Suite 4, Springfield, MA 01103")
        put_setting(s, "office.phone", "(413) 555-0142")

    office.db.write(settings)
    return create(office.db, office.clerk, acct.client, first_due=dt.date(2027, 1, 31))


def test_agreement_text_is_exact(office: Office, agreement_plan: plans.PlanView) -> None:
    text = office.db.read(lambda s: plans.agreement_text(office.clerk, s, agreement_plan.id))
    assert text == AGREEMENT
    assert max(len(line) for line in text.splitlines()) <= 80
    # Printed total equals the sum of the printed lines.
    printed = [
        D(line.split("$")[1].replace(",", ""))
        for line in text.splitlines()
        if line.strip()[:1].isdigit() and "$" in line
    ]
    assert sum(printed) == D("1000.00")
    # Payments made later do not change the agreement (it is the contract as agreed).
    pay(office.db, office.clerk, agreement_plan.client_id, "50.00", "later")
    assert office.db.read(lambda s: plans.agreement_text(office.clerk, s, agreement_plan.id)) == AGREEMENT


def test_agreement_cuts_long_names_to_80_columns(office: Office) -> None:
    def go(s: Session) -> int:
        c = make_client(
            s, "A-LONG-000000000001", "Maximiliana-Josefina", "Wolfeschlegelsteinhausenbergerdorff" * 2
        )
        make_invoice(
            s, client_id=c, created_by=office.sup.user_id, total="99.99", issue_date=dt.date(2026, 10, 1)
        )
        return c

    c = office.db.write(go)
    p = create(office.db, office.clerk, c, count=120, interval="weekly", first_due=TODAY)
    text = office.db.read(lambda s: plans.agreement_text(office.clerk, s, p.id))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "\n   120  2029-02-26   $1.22\n" in text
    assert "\nAccount:          A-LONG-000000000001\n" in text
    full = "Client:           " + "Wolfeschlegelsteinhausenbergerdorff" * 2 + ", Maximiliana-Josefina"
    assert "\n" + full[:79] + "…\n" in text


def test_agreement_pdf_is_deterministic(office: Office, agreement_plan: plans.PlanView) -> None:
    one = office.db.read(lambda s: plans.agreement_pdf(office.clerk, s, agreement_plan.id))
    timeutil.freeze("2026-11-20T09:00:00+00:00")  # printed on another day: the same bytes
    two = office.db.read(lambda s: plans.agreement_pdf(office.sup, s, agreement_plan.id))
    assert one == two
    assert one.startswith(b"%PDF-") and one.rstrip().endswith(b"%%EOF")
    assert b"/CreationDate (D:20261116120000Z)" in one


def test_plan_views_for_screens(office: Office, acct: Acct) -> None:
    assert office.db.read(lambda s: plans.current_plan(office.clerk, s, acct.client)) is None
    p = create(office.db, office.clerk, acct.client)
    cur = office.db.read(lambda s: plans.current_plan(office.clerk, s, acct.client))
    assert cur == p
    with pytest.raises(NotFound):
        office.db.read(lambda s: plans.get_plan(office.clerk, s, 42))
    assert count_rows(office.db, Payment) == 0
