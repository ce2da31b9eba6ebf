"""A small office day for the daily-assignment tests, written through the ORM.

Today is Monday 2026-11-16 (the frozen test clock, 10:00 in New York). Five accounts need work:

* A-1 Doe (owner cleo): two unbilled services (2 × 100.00 on 11-10, 50.00 on 11-12), primary
  coverage with an insurer whose last eligibility check was 2026-10-01 → bill + verify.
* A-2 Garcia (owner carl, speaks Spanish): statement of 300.00 due 2026-10-17 (30 days over,
  dunning level 1 at 15 days not fired) and a promise of 100.00 by 11-10, never paid → chase.
* A-3 Placed: overdue statement, but the account is with an agency → nothing.
* A-4 Plan: installment 1 of 3, 80.00 due today → installment.
* A-5 Gov: open dispute (opened 11-13) on a 400.00 invoice to a government payer → dispute.

Shifts on the day: cleo and cora 12:00–20:00 (480 min), carl a 20-minute shift at 12:00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from sqlalchemy.orm import Session

from db.models import (
    Agency,
    Channel,
    ContactAttempt,
    ContactDirection,
    ContactOutcome,
    Coverage,
    CoverageRank,
    Dispute,
    DisputeReason,
    DunningLevel,
    EligibilityCheck,
    EligibilityResult,
    Installment,
    Payer,
    PayerKind,
    PaymentPlan,
    Placement,
    PlanInterval,
    ServiceCode,
    ServiceRendered,
)
from tests.billing.factories_payments import make_client, make_invoice
from tests.conftest import Office
from tests.scheduling.factories_time import add_shift

TODAY = dt.date(2026, 11, 16)
D = Decimal


def build_day(office: Office, *, shifts: bool = True) -> dict[str, int]:
    sup = office.sup.user_id

    def go(s: Session) -> dict[str, int]:
        ins = Payer(name="Acme Health", kind=PayerKind.INSURER, terms_days=30)
        gov = Payer(name="State Medicaid", kind=PayerKind.GOVERNMENT, terms_days=30)
        s.add_all([ins, gov])
        s.flush()
        code = ServiceCode(code="T1001", description="Nursing visit", fee=D("100.00"))
        code2 = ServiceCode(code="T1002", description="Short visit", fee=D("50.00"))
        s.add_all([code, code2])
        s.flush()
        ids: dict[str, int] = {}
        a = ids["doe"] = make_client(s, "A-1", "Jane", "Doe", owner_id=office.clerk.user_id)
        cov = Coverage(
            client_id=a,
            payer_id=ins.id,
            rank=CoverageRank.PRIMARY,
            member_id="M1",
            effective_from=dt.date(2026, 1, 1),
        )
        s.add(cov)
        s.flush()
        ids["coverage"] = cov.id
        s.add(
            EligibilityCheck(
                coverage_id=cov.id,
                checked_on=dt.date(2026, 10, 1),
                checked_by=sup,
                result=EligibilityResult.ELIGIBLE,
            )
        )
        s.add_all(
            [
                ServiceRendered(
                    client_id=a,
                    service_date=dt.date(2026, 11, 10),
                    service_code_id=code.id,
                    units=2,
                    recorded_by=sup,
                ),
                ServiceRendered(
                    client_id=a,
                    service_date=dt.date(2026, 11, 12),
                    service_code_id=code2.id,
                    units=1,
                    recorded_by=sup,
                ),
            ]
        )
        b = ids["garcia"] = make_client(
            s, "A-2", "Luis", "Garcia", owner_id=office.clerk2.user_id, language="es"
        )
        ids["garcia_inv"] = make_invoice(
            s,
            client_id=b,
            created_by=sup,
            total="300.00",
            issue_date=dt.date(2026, 9, 17),
            due_date=dt.date(2026, 10, 17),
            number="S-2",
        )
        s.add(DunningLevel(level=1, name="Reminder", days_overdue=15, letter_text="Please pay."))
        s.add(
            ContactAttempt(
                client_id=b,
                at=pendulum.datetime(2026, 11, 5, 15, tz="UTC"),
                made_by=office.clerk.user_id,
                channel=Channel.PHONE,
                direction=ContactDirection.OUTBOUND,
                outcome=ContactOutcome.PROMISE_TO_PAY,
                promise_date=dt.date(2026, 11, 10),
                promise_amount=D("100.00"),
            )
        )
        c = ids["placed"] = make_client(s, "A-3", "Pia", "Placed")
        make_invoice(
            s,
            client_id=c,
            created_by=sup,
            total="90.00",
            issue_date=dt.date(2026, 8, 1),
            due_date=dt.date(2026, 9, 1),
        )
        agency = Agency(name="Collect Co", fee_bp=2500)
        s.add(agency)
        s.flush()
        s.add(
            Placement(
                client_id=c,
                agency_id=agency.id,
                placed_on=dt.date(2026, 11, 1),
                fee_bp=2500,
                balance_placed=D("90.00"),
                placed_by=sup,
            )
        )
        d = ids["plan"] = make_client(s, "A-4", "Paul", "Plan")
        plan = PaymentPlan(
            client_id=d,
            amount_financed=D("240.00"),
            installment_count=3,
            interval=PlanInterval.MONTHLY,
            first_due=TODAY,
            created_by=sup,
        )
        s.add(plan)
        s.flush()
        for seq in range(1, 4):
            s.add(
                Installment(
                    plan_id=plan.id,
                    seq=seq,
                    due_date=dt.date(2026, 10 + seq, 16) if seq < 3 else dt.date(2027, 1, 16),
                    amount=D("80.00"),
                )
            )
        e = ids["gov"] = make_client(s, "A-5", "Gail", "Gov")
        inv = make_invoice(
            s,
            client_id=e,
            created_by=sup,
            total="400.00",
            issue_date=dt.date(2026, 11, 1),
            due_date=dt.date(2026, 12, 1),
            payer_id=gov.id,
            number="I-5",
            dispute_hold=True,
        )
        s.add(
            Dispute(
                invoice_id=inv,
                reason=DisputeReason.AMOUNT_DIFFERS,
                opened_by=office.clerk.user_id,
                opened_at=pendulum.datetime(2026, 11, 13, 16, tz="UTC"),
            )
        )
        return ids

    ids = office.db.write(go)
    if shifts:
        add_shift(office.db, office.clerk, TODAY, by=office.sup, code="D", start="12:00", minutes=480)
        add_shift(office.db, office.clerk3, TODAY, by=office.sup, code="D", start="12:00", minutes=480)
        add_shift(office.db, office.clerk2, TODAY, by=office.sup, code="S", start="12:00", minutes=20)
    return ids
