"""The data model's own guarantees: CHECK, UNIQUE and FOREIGN KEY constraints, optimistic locking.

Each constraint case inserts a valid row first (it must be accepted, so the case tests the one
thing it names) and then the same row with one thing wrong, which the database must refuse with
that constraint's error. Services validate before they write; these are the last line.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.base import Base
from db.engine import Database
from db.models import (
    Adjustment,
    AdjustmentKind,
    AdjustmentReason,
    Agency,
    Allocation,
    Assignment,
    AttendanceIncident,
    Availability,
    BillTo,
    Channel,
    Client,
    ClockEvent,
    ClockKind,
    ClockSource,
    ContactAttempt,
    ContactDirection,
    ContactOutcome,
    Coverage,
    CoverageRank,
    CoverageRequirement,
    DayOffPin,
    DisciplineKind,
    DisciplineRecord,
    Dispute,
    DisputeReason,
    DunningEvent,
    DunningLevel,
    DunningPause,
    DunningRun,
    EligibilityCheck,
    EligibilityResult,
    Holiday,
    IncidentKind,
    Installment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payer,
    PayerCode,
    PayerKind,
    PayerSide,
    Payment,
    PaymentMethod,
    PaymentPlan,
    Placement,
    PlanInterval,
    Role,
    RosterRule,
    ServiceCode,
    ServiceRendered,
    Setting,
    Shift,
    ShiftRequest,
    ShiftType,
    Team,
    Timecard,
    TimecardSignature,
    TimeOffRequest,
    User,
    WorkItem,
    WorkKind,
    discipline_incidents,
)

M = Decimal
D0 = dt.date(2026, 11, 16)
T0 = pendulum.datetime(2026, 11, 16, 12, 0, tz="UTC")
Ids = dict[str, int]


def build_base(s: Session) -> Ids:
    """One valid row of (nearly) every table, for the cases to collide with or refer to."""
    team, team2 = Team(name="Insurance"), Team(name="Public")
    sup = User(login="sam", name="Sam", role=Role.SUPERVISOR, team=team, hire_date=D0)
    clerk = User(login="cleo", name="Cleo", role=Role.CLERK, team=team, hire_date=D0)
    payer = Payer(name="Acme Health", kind=PayerKind.INSURER)
    code = ServiceCode(code="A0001", description="Visit", fee=M("100.00"))
    code2 = ServiceCode(code="A0002", description="Follow-up", fee=M("60.00"))
    agency = Agency(name="Ace Collections", fee_bp=2500)
    level1 = DunningLevel(level=1, name="Reminder", days_overdue=15, letter_text="Please pay")
    level2 = DunningLevel(level=2, name="Demand", days_overdue=30, letter_text="Pay now", fee=M("10.00"))
    st = ShiftType(code="E", name="Early", start_time=dt.time(7), minutes=480)
    holiday = Holiday(day=dt.date(2026, 12, 25), name="Christmas")
    reason = AdjustmentReason(code="WAIVE", description="Fee waived", kind=AdjustmentKind.WAIVE)
    s.add_all([team, team2, sup, clerk, payer, code, code2, agency, level1, level2, st, holiday, reason])
    s.add(Setting(key="office.name", value="Test office"))
    s.flush()
    client = Client(account_number="C-0001", first_name="Ann", last_name="Able", owner_id=clerk.id)
    s.add(client)
    s.add(PayerCode(payer_id=payer.id, service_code_id=code.id, payer_code="P-1"))
    s.flush()
    cov = Coverage(
        client_id=client.id,
        payer_id=payer.id,
        rank=CoverageRank.PRIMARY,
        member_id="M-1",
        effective_from=D0,
        deductible=M("500.00"),
        deductible_remaining=M("200.00"),
    )
    svc = ServiceRendered(
        client_id=client.id, service_date=D0, service_code_id=code.id, units=1, recorded_by=clerk.id
    )
    s.add_all([cov, svc])
    s.flush()
    inv = Invoice(
        number="INV-1",
        kind=InvoiceKind.INVOICE,
        client_id=client.id,
        bill_to=BillTo.PAYER,
        payer_id=payer.id,
        coverage_id=cov.id,
        status=InvoiceStatus.ISSUED,
        issue_date=D0,
        due_date=D0 + dt.timedelta(days=30),
        total=M("100.00"),
        created_by=clerk.id,
        issued_by=clerk.id,
        issued_at=T0,
    )
    s.add(inv)
    s.flush()
    line = InvoiceLine(
        invoice_id=inv.id,
        line_no=1,
        service_id=svc.id,
        code="P-1",
        description="Visit",
        service_date=D0,
        units=1,
        unit_price=M("100.00"),
        amount=M("100.00"),
    )
    pay = Payment(
        side=PayerSide.PAYER,
        payer_id=payer.id,
        amount=M("50.00"),
        method=PaymentMethod.EFT,
        received_on=D0,
        idempotency_key="K-1",
        posted_by=clerk.id,
    )
    plan = PaymentPlan(
        client_id=client.id,
        amount_financed=M("300.00"),
        installment_count=3,
        interval=PlanInterval.MONTHLY,
        first_due=D0,
        created_by=clerk.id,
    )
    run = DunningRun(as_of=D0, run_by=sup.id)
    dispute = Dispute(invoice_id=inv.id, reason=DisputeReason.OTHER, opened_by=clerk.id)
    shift = Shift(
        user_id=clerk.id,
        day=D0,
        shift_type_id=st.id,
        starts_at=T0,
        ends_at=T0.add(hours=8),
        created_by=sup.id,
    )
    wi = WorkItem(day=D0, kind=WorkKind.BILL, client_id=client.id, source_key="bill:client:1")
    wi2 = WorkItem(day=D0, kind=WorkKind.CHASE, client_id=client.id, invoice_id=inv.id)
    tc = Timecard(user_id=clerk.id, period_start=D0, period_end=D0 + dt.timedelta(days=6))
    incident = AttendanceIncident(user_id=clerk.id, day=D0, kind=IncidentKind.LATE, minutes=7)
    discipline = DisciplineRecord(
        user_id=clerk.id, kind=DisciplineKind.VERBAL, day=D0, reason="late", recorded_by=sup.id
    )
    rule_user, rule_team = RosterRule(user_id=clerk.id), RosterRule(team_id=team.id)
    pin = DayOffPin(user_id=clerk.id, day=D0 + dt.timedelta(days=2), created_by=sup.id)
    s.add_all(
        [line, pay, plan, run, dispute, shift, wi, wi2, tc, incident, discipline, rule_user, rule_team, pin]
    )
    s.flush()
    inst = Installment(plan_id=plan.id, seq=1, due_date=D0, amount=M("100.00"))
    event = DunningEvent(invoice_id=inv.id, level_id=level1.id, run_id=run.id, balance_dunned=M("100.00"))
    asg = Assignment(work_item_id=wi.id, user_id=clerk.id, day=D0, assigned_by=sup.id)
    sig = TimecardSignature(
        timecard_id=tc.id,
        signed_by=sup.id,
        signed_at=T0,
        content_hash="c" * 64,
        prev_hash="0" * 64,
        hash="h" * 64,
    )
    s.add_all([inst, event, asg, sig])
    s.flush()
    s.execute(discipline_incidents.insert().values(discipline_id=discipline.id, incident_id=incident.id))
    return {
        "team": team.id,
        "team2": team2.id,
        "sup": sup.id,
        "clerk": clerk.id,
        "payer": payer.id,
        "code": code.id,
        "code2": code2.id,
        "agency": agency.id,
        "level1": level1.id,
        "level2": level2.id,
        "shift_type": st.id,
        "client": client.id,
        "coverage": cov.id,
        "service": svc.id,
        "invoice": inv.id,
        "line": line.id,
        "payment": pay.id,
        "plan": plan.id,
        "installment": inst.id,
        "run": run.id,
        "dispute": dispute.id,
        "shift": shift.id,
        "work_item": wi.id,
        "work_item2": wi2.id,
        "assignment": asg.id,
        "timecard": tc.id,
        "incident": incident.id,
        "discipline": discipline.id,
    }


@pytest.fixture
def base(db: Database) -> Ids:
    return db.write(build_base)


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, pg_database: str | None
) -> Iterator[tuple[Database, Ids]]:
    """One database with the base rows for the whole module: the constraint cases only roll back."""
    if pg_database:
        from tests.conftest import _empty_pg  # with triggers off: audit_log refuses TRUNCATE

        url = pg_database
        _empty_pg(url)
    else:
        path = tmp_path_factory.mktemp("models") / "base.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    database = Database(url)
    ids = database.write(build_base)
    yield database, ids
    database.dispose()


# --------------------------------------------------------------------------- valid rows per table

Kw = dict[str, Any]


def user(i: Ids) -> Kw:
    return {"login": "carl", "name": "Carl", "role": Role.CLERK, "hire_date": D0, "contracted_minutes": 2400}


def payer(i: Ids) -> Kw:
    return {"name": "Beta Care", "kind": PayerKind.GOVERNMENT, "terms_days": 30}


def code(i: Ids) -> Kw:
    return {"code": "B0001", "description": "x", "fee": M("10.00")}


def payer_code(i: Ids) -> Kw:
    return {
        "payer_id": i["payer"],
        "service_code_id": i["code2"],
        "payer_code": "P-2",
        "allowed_amount": M("5.00"),
    }


def client(i: Ids) -> Kw:
    return {"account_number": "C-0002", "first_name": "Bo", "last_name": "Baker"}


def coverage(i: Ids) -> Kw:
    return {
        "client_id": i["client"],
        "payer_id": i["payer"],
        "rank": CoverageRank.SECONDARY,
        "member_id": "M-2",
        "effective_from": D0,
        "effective_to": D0 + dt.timedelta(days=365),
        "copay": M("20.00"),
        "coinsurance_bp": 2000,
        "deductible": M("1000.00"),
        "deductible_remaining": M("1000.00"),
    }


def service(i: Ids) -> Kw:
    return {
        "client_id": i["client"],
        "service_date": D0,
        "service_code_id": i["code"],
        "units": 2,
        "recorded_by": i["clerk"],
    }


def invoice(i: Ids) -> Kw:
    return {
        "number": "INV-2",
        "kind": InvoiceKind.INVOICE,
        "client_id": i["client"],
        "bill_to": BillTo.PAYER,
        "payer_id": i["payer"],
        "status": InvoiceStatus.ISSUED,
        "issue_date": D0,
        "total": M("10.00"),
        "created_by": i["clerk"],
    }


def line(i: Ids) -> Kw:
    return {
        "invoice_id": i["invoice"],
        "line_no": 2,
        "code": "P-1",
        "description": "x",
        "units": 1,
        "unit_price": M("1.00"),
        "amount": M("1.00"),
    }


def payment(i: Ids) -> Kw:
    return {
        "side": PayerSide.CLIENT,
        "client_id": i["client"],
        "amount": M("25.00"),
        "unapplied": M("5.00"),
        "method": PaymentMethod.CARD,
        "received_on": D0,
        "idempotency_key": "K-2",
        "posted_by": i["clerk"],
    }


def allocation(i: Ids) -> Kw:
    return {"payment_id": i["payment"], "invoice_id": i["invoice"], "amount": M("10.00")}


def adjustment(i: Ids) -> Kw:
    return {
        "invoice_id": i["invoice"],
        "kind": AdjustmentKind.WAIVE,
        "amount": M("5.00"),
        "reason": "goodwill",
        "made_by": i["sup"],
    }


def plan(i: Ids) -> Kw:
    return {
        "client_id": i["client"],
        "amount_financed": M("120.00"),
        "installment_count": 12,
        "interval": PlanInterval.MONTHLY,
        "first_due": D0,
        "created_by": i["clerk"],
    }


def installment(i: Ids) -> Kw:
    return {"plan_id": i["plan"], "seq": 2, "due_date": D0, "amount": M("100.00"), "paid_amount": M("100.00")}


def dunning_event(i: Ids) -> Kw:
    return {
        "invoice_id": i["invoice"],
        "level_id": i["level2"],
        "run_id": i["run"],
        "balance_dunned": M("1.00"),
    }


def agency(i: Ids) -> Kw:
    return {"name": "Best Recovery", "fee_bp": 3000}


def shift_type(i: Ids) -> Kw:
    return {"code": "L", "name": "Late", "start_time": dt.time(11), "minutes": 480}


def requirement(i: Ids) -> Kw:
    return {"shift_type_id": i["shift_type"], "weekday": 0, "on_date": None, "required": 2}


def roster_rule(i: Ids) -> Kw:
    return {"user_id": i["sup"], "team_id": None}


def shift(i: Ids) -> Kw:
    return {
        "user_id": i["clerk"],
        "day": D0 + dt.timedelta(days=1),
        "shift_type_id": i["shift_type"],
        "starts_at": T0.add(days=1),
        "ends_at": T0.add(days=1, hours=8),
        "created_by": i["sup"],
    }


def timecard(i: Ids) -> Kw:
    return {
        "user_id": i["clerk"],
        "period_start": D0 + dt.timedelta(days=7),
        "period_end": D0 + dt.timedelta(days=13),
    }


def clock_event(i: Ids) -> Kw:
    return {
        "user_id": i["clerk"],
        "kind": ClockKind.IN,
        "at": T0,
        "source": ClockSource.SUPERVISOR,
        "reason": "forgot to clock in",
        "recorded_by": i["sup"],
    }


def incident(i: Ids) -> Kw:
    return {"user_id": i["clerk"], "day": D0, "kind": IncidentKind.ABSENT}


def discipline(i: Ids) -> Kw:
    return {
        "user_id": i["clerk"],
        "kind": DisciplineKind.WRITTEN,
        "day": D0,
        "reason": "3 lates",
        "recorded_by": i["sup"],
    }


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    id: str
    model: type
    good: Callable[[Ids], Kw]
    bad: Callable[[Ids], Kw] | Kw  # overrides that break exactly one rule
    check: str | None = None  # CHECK constraint name, e.g. "ck_users_hours"
    unique: tuple[str, tuple[str, ...]] | None = None  # (table, columns)
    fk: tuple[str, str, str] | None = None  # (table, column, referred table)


def C(id: str, model: type, good: Callable[[Ids], Kw], bad: Any, **kw: Any) -> Case:
    return Case(id, model, good, bad, **kw)


CASES: list[Case] = [
    # teams / users
    C(
        "team name unique",
        Team,
        lambda i: {"name": "Collections"},
        {"name": "Insurance"},
        unique=("teams", ("name",)),
    ),
    C("duplicate login", User, user, {"login": "cleo"}, unique=("users", ("login",))),
    C("empty login", User, user, {"login": ""}, check="ck_users_login_not_empty"),
    C("negative hours", User, user, {"contracted_minutes": -1}, check="ck_users_hours"),
    C("hours over 80", User, user, {"contracted_minutes": 4801}, check="ck_users_hours"),
    C(
        "terminated before hired",
        User,
        user,
        {"termination_date": D0 - dt.timedelta(days=1)},
        check="ck_users_termination_after_hire",
    ),
    C("user in unknown team", User, user, {"team_id": 999_999}, fk=("users", "team_id", "teams")),
    # payers and codes
    C("duplicate payer name", Payer, payer, {"name": "Acme Health"}, unique=("payers", ("name",))),
    C("payer terms negative", Payer, payer, {"terms_days": -1}, check="ck_payers_terms"),
    C("payer terms over a year", Payer, payer, {"terms_days": 366}, check="ck_payers_terms"),
    C("duplicate service code", ServiceCode, code, {"code": "A0001"}, unique=("service_codes", ("code",))),
    C("negative fee", ServiceCode, code, {"fee": M("-0.01")}, check="ck_service_codes_fee_not_negative"),
    C(
        "crosswalk twice for one payer and code",
        PayerCode,
        payer_code,
        lambda i: {"service_code_id": i["code"]},
        unique=("payer_codes", ("payer_id", "service_code_id")),
    ),
    C(
        "negative allowed amount",
        PayerCode,
        payer_code,
        {"allowed_amount": M("-1.00")},
        check="ck_payer_codes_allowed",
    ),
    C(
        "crosswalk to unknown payer",
        PayerCode,
        payer_code,
        {"payer_id": 999_999},
        fk=("payer_codes", "payer_id", "payers"),
    ),
    # clients and coverage
    C(
        "duplicate account number",
        Client,
        client,
        {"account_number": "C-0001"},
        unique=("clients", ("account_number",)),
    ),
    C("client without last name", Client, client, {"last_name": ""}, check="ck_clients_last_name_not_empty"),
    C(
        "client owned by nobody known",
        Client,
        client,
        {"owner_id": 999_999},
        fk=("clients", "owner_id", "users"),
    ),
    C(
        "coinsurance over 100%",
        Coverage,
        coverage,
        {"coinsurance_bp": 10001},
        check="ck_coverages_coinsurance",
    ),
    C("negative coinsurance", Coverage, coverage, {"coinsurance_bp": -1}, check="ck_coverages_coinsurance"),
    C("negative copay", Coverage, coverage, {"copay": M("-5.00")}, check="ck_coverages_amounts"),
    C(
        "negative deductible",
        Coverage,
        coverage,
        {"deductible": M("-1.00"), "deductible_remaining": M("-1.00")},
        check="ck_coverages_amounts",
    ),
    C(
        "remaining deductible over deductible",
        Coverage,
        coverage,
        {"deductible_remaining": M("1000.01")},
        check="ck_coverages_remaining",
    ),
    C(
        "coverage ends before it starts",
        Coverage,
        coverage,
        {"effective_to": D0 - dt.timedelta(days=1)},
        check="ck_coverages_dates",
    ),
    C(
        "coverage for unknown client",
        Coverage,
        coverage,
        {"client_id": 999_999},
        fk=("coverages", "client_id", "clients"),
    ),
    C(
        "eligibility check of unknown coverage",
        EligibilityCheck,
        lambda i: {
            "coverage_id": i["coverage"],
            "checked_on": D0,
            "checked_by": i["clerk"],
            "result": EligibilityResult.ELIGIBLE,
        },
        {"coverage_id": 999_999},
        fk=("eligibility_checks", "coverage_id", "coverages"),
    ),
    # services and invoices
    C("zero units", ServiceRendered, service, {"units": 0}, check="ck_services_rendered_units"),
    C("1000 units", ServiceRendered, service, {"units": 1000}, check="ck_services_rendered_units"),
    C(
        "issued invoice without number",
        Invoice,
        invoice,
        {"number": None},
        check="ck_invoices_issued_has_number",
    ),
    C(
        "payer invoice without payer",
        Invoice,
        invoice,
        {"payer_id": None},
        check="ck_invoices_bill_to_party",
    ),
    C("duplicate invoice number", Invoice, invoice, {"number": "INV-1"}, unique=("invoices", ("number",))),
    C(
        "invoice for unknown client",
        Invoice,
        invoice,
        {"client_id": 999_999},
        fk=("invoices", "client_id", "clients"),
    ),
    C(
        "line number twice",
        InvoiceLine,
        line,
        {"line_no": 1},
        unique=("invoice_lines", ("invoice_id", "line_no")),
    ),
    C("line with zero units", InvoiceLine, line, {"units": 0}, check="ck_invoice_lines_units"),
    C(
        "line of unknown invoice",
        InvoiceLine,
        line,
        {"invoice_id": 999_999},
        fk=("invoice_lines", "invoice_id", "invoices"),
    ),
    # payments
    C(
        "negative payment amount",
        Payment,
        payment,
        {"amount": M("-25.00")},
        check="ck_payments_amount_positive",
    ),
    C(
        "zero payment",
        Payment,
        payment,
        {"amount": M("0.00"), "unapplied": M("0.00")},
        check="ck_payments_amount_positive",
    ),
    C("unapplied over amount", Payment, payment, {"unapplied": M("25.01")}, check="ck_payments_unapplied"),
    C("negative unapplied", Payment, payment, {"unapplied": M("-0.01")}, check="ck_payments_unapplied"),
    C(
        "same payment posted twice",
        Payment,
        payment,
        {"idempotency_key": "K-1"},
        unique=("payments", ("idempotency_key",)),
    ),
    C(
        "zero allocation",
        Allocation,
        allocation,
        {"amount": M("0.00")},
        check="ck_allocations_amount_positive",
    ),
    C(
        "allocation to unknown payment",
        Allocation,
        allocation,
        {"payment_id": 999_999},
        fk=("allocations", "payment_id", "payments"),
    ),
    C(
        "adjustment without reason",
        Adjustment,
        adjustment,
        {"reason": ""},
        check="ck_adjustments_reason_required",
    ),
    # plans
    C(
        "plan with no installments",
        PaymentPlan,
        plan,
        {"installment_count": 0},
        check="ck_payment_plans_count",
    ),
    C(
        "plan with 121 installments",
        PaymentPlan,
        plan,
        {"installment_count": 121},
        check="ck_payment_plans_count",
    ),
    C(
        "plan financing nothing",
        PaymentPlan,
        plan,
        {"amount_financed": M("0.00")},
        check="ck_payment_plans_amount_positive",
    ),
    C(
        "installment seq twice",
        Installment,
        installment,
        {"seq": 1},
        unique=("installments", ("plan_id", "seq")),
    ),
    C(
        "installment overpaid",
        Installment,
        installment,
        {"paid_amount": M("100.01")},
        check="ck_installments_amounts",
    ),
    C(
        "installment of nothing",
        Installment,
        installment,
        {"amount": M("0.00"), "paid_amount": M("0.00")},
        check="ck_installments_amounts",
    ),
    # collections
    C(
        "dunning level number twice",
        DunningLevel,
        lambda i: {"level": 3, "name": "Final", "days_overdue": 60, "letter_text": "x"},
        {"level": 1},
        unique=("dunning_levels", ("level",)),
    ),
    C(
        "dunning event fired twice for a level",
        DunningEvent,
        dunning_event,
        lambda i: {"level_id": i["level1"]},
        unique=("dunning_events", ("invoice_id", "level_id")),
    ),
    C(
        "adjustment reason code twice",
        AdjustmentReason,
        lambda i: {"code": "GOODWILL", "description": "Goodwill", "kind": AdjustmentKind.WAIVE},
        {"code": "WAIVE"},
        unique=("adjustment_reasons", ("code",)),
    ),
    C(
        "adjustment reason without a code",
        AdjustmentReason,
        lambda i: {"code": "GOODWILL", "description": "Goodwill", "kind": AdjustmentKind.WAIVE},
        {"code": ""},
        check="ck_adjustment_reasons_code_not_empty",
    ),
    C(
        "dunning pause without a reason",
        DunningPause,
        lambda i: {
            "client_id": i["client"],
            "reason": "on the phone with the payer",
            "until": D0,
            "created_by": i["sup"],
        },
        {"reason": ""},
        check="ck_dunning_pauses_reason_required",
    ),
    C("agency fee over 100%", Agency, agency, {"fee_bp": 10001}, check="ck_agencies_fee"),
    C("agency fee negative", Agency, agency, {"fee_bp": -1}, check="ck_agencies_fee"),
    C("duplicate agency", Agency, agency, {"name": "Ace Collections"}, unique=("agencies", ("name",))),
    C(
        "placement with unknown agency",
        Placement,
        lambda i: {
            "client_id": i["client"],
            "agency_id": i["agency"],
            "placed_on": D0,
            "fee_bp": 2500,
            "balance_placed": M("100.00"),
            "placed_by": i["sup"],
        },
        {"agency_id": 999_999},
        fk=("placements", "agency_id", "agencies"),
    ),
    C(
        "contact attempt for unknown client",
        ContactAttempt,
        lambda i: {
            "client_id": i["client"],
            "made_by": i["clerk"],
            "channel": Channel.PHONE,
            "direction": ContactDirection.OUTBOUND,
            "outcome": ContactOutcome.NO_ANSWER,
        },
        {"client_id": 999_999},
        fk=("contact_attempts", "client_id", "clients"),
    ),
    C(
        "dispute on unknown invoice",
        Dispute,
        lambda i: {
            "invoice_id": i["invoice"],
            "reason": DisputeReason.AMOUNT_DIFFERS,
            "opened_by": i["clerk"],
        },
        {"invoice_id": 999_999},
        fk=("disputes", "invoice_id", "invoices"),
    ),
    # schedule
    C("shift type of 0 minutes", ShiftType, shift_type, {"minutes": 0}, check="ck_shift_types_minutes"),
    C("shift type over a day", ShiftType, shift_type, {"minutes": 1441}, check="ck_shift_types_minutes"),
    C("shift type code twice", ShiftType, shift_type, {"code": "E"}, unique=("shift_types", ("code",))),
    C(
        "coverage requirement with weekday and date",
        CoverageRequirement,
        requirement,
        {"on_date": D0},
        check="ck_coverage_requirements_weekday_xor_date",
    ),
    C(
        "coverage requirement with neither",
        CoverageRequirement,
        requirement,
        {"weekday": None},
        check="ck_coverage_requirements_weekday_xor_date",
    ),
    C(
        "weekday 7",
        CoverageRequirement,
        requirement,
        {"weekday": 7},
        check="ck_coverage_requirements_weekday",
    ),
    C(
        "negative requirement",
        CoverageRequirement,
        requirement,
        {"required": -1},
        check="ck_coverage_requirements_numbers",
    ),
    C(
        "negative under weight",
        CoverageRequirement,
        requirement,
        {"under_weight": -1},
        check="ck_coverage_requirements_numbers",
    ),
    C(
        "holiday twice",
        Holiday,
        lambda i: {"day": dt.date(2026, 12, 26), "name": "x"},
        {"day": dt.date(2026, 12, 25)},
        unique=("holidays", ("day",)),
    ),
    C(
        "rule for user and team",
        RosterRule,
        roster_rule,
        lambda i: {"team_id": i["team2"]},
        check="ck_roster_rules_user_xor_team",
    ),
    C("rule for nobody", RosterRule, roster_rule, {"user_id": None}, check="ck_roster_rules_user_xor_team"),
    C(
        "second rule for a user",
        RosterRule,
        roster_rule,
        lambda i: {"user_id": i["clerk"]},
        unique=("roster_rules", ("user_id",)),
    ),
    C(
        "second rule for a team",
        RosterRule,
        lambda i: {"team_id": i["team2"]},
        lambda i: {"team_id": i["team"]},
        unique=("roster_rules", ("team_id",)),
    ),
    C(
        "availability weekday -1",
        Availability,
        lambda i: {"user_id": i["clerk"], "weekday": 6},
        {"weekday": -1},
        check="ck_availability_weekday",
    ),
    C(
        "time off ending before it starts",
        TimeOffRequest,
        lambda i: {"user_id": i["clerk"], "start_date": D0, "end_date": D0},
        {"end_date": D0 - dt.timedelta(days=1)},
        check="ck_time_off_requests_dates",
    ),
    C(
        "negative request weight",
        ShiftRequest,
        lambda i: {"user_id": i["clerk"], "day": D0, "wants": False, "weight": 0},
        {"weight": -1},
        check="ck_shift_requests_weight",
    ),
    C(
        "shift ends before start",
        Shift,
        shift,
        lambda i: {"ends_at": T0.add(days=1, minutes=-1)},
        check="ck_shifts_order",
    ),
    C("shift of zero length", Shift, shift, lambda i: {"ends_at": T0.add(days=1)}, check="ck_shifts_order"),
    C("two shifts for a user on a day", Shift, shift, {"day": D0}, unique=("shifts", ("user_id", "day"))),
    C("shift for unknown user", Shift, shift, {"user_id": 999_999}, fk=("shifts", "user_id", "users")),
    C(
        "two pins of a clerk's day off",
        DayOffPin,
        lambda i: {"user_id": i["clerk"], "day": D0 + dt.timedelta(days=3), "created_by": i["sup"]},
        {"day": D0 + dt.timedelta(days=2)},
        unique=("day_off_pins", ("user_id", "day")),
    ),
    # daily work
    C(
        "negative effort",
        WorkItem,
        lambda i: {"day": D0, "kind": WorkKind.VERIFY, "client_id": i["client"], "effort_minutes": 0},
        {"effort_minutes": -1},
        check="ck_work_items_effort",
    ),
    C(
        "one item per reason and day",
        WorkItem,
        lambda i: {"day": D0, "kind": WorkKind.BILL, "client_id": i["client"], "source_key": "bill:client:2"},
        {"source_key": "bill:client:1"},
        unique=("work_items", ("day", "source_key")),
    ),
    C(
        "work item assigned twice",
        Assignment,
        lambda i: {
            "work_item_id": i["work_item2"],
            "user_id": i["clerk"],
            "day": D0,
            "assigned_by": i["sup"],
        },
        lambda i: {"work_item_id": i["work_item"]},
        unique=("assignments", ("work_item_id",)),
    ),
    # time and attendance
    C(
        "manual clock event without reason",
        ClockEvent,
        clock_event,
        {"reason": ""},
        check="ck_clock_events_reason_for_manual",
    ),
    C(
        "two timecards for one period",
        Timecard,
        timecard,
        {"period_start": D0},
        unique=("timecards", ("user_id", "period_start")),
    ),
    C("timecard period backwards", Timecard, timecard, {"period_end": D0}, check="ck_timecards_period"),
    C(
        "signature hash twice",
        TimecardSignature,
        lambda i: {
            "timecard_id": i["timecard"],
            "signed_by": i["sup"],
            "signed_at": T0,
            "content_hash": "c" * 64,
            "prev_hash": "h" * 64,
            "hash": "i" * 64,
        },
        {"hash": "h" * 64},
        unique=("timecard_signatures", ("hash",)),
    ),
    C(
        "incident of a kind twice a day",
        AttendanceIncident,
        incident,
        {"kind": IncidentKind.LATE},
        unique=("attendance_incidents", ("user_id", "day", "kind")),
    ),
    C(
        "discipline without reason",
        DisciplineRecord,
        discipline,
        {"reason": ""},
        check="ck_discipline_records_reason_required",
    ),
    C(
        "setting key twice",
        Setting,
        lambda i: {"key": "office.phone", "value": "1"},
        {"key": "office.name"},
        unique=("settings", ("key",)),
    ),
]


def _expected_fragment(case: Case, dialect: str) -> str:
    if case.check:
        return case.check  # both SQLite and PostgreSQL name the CHECK constraint
    if case.unique:
        table, cols = case.unique
        if dialect == "sqlite":
            return "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in cols)
        if cols == ("key",):
            return f"pk_{table}"
        return f"uq_{table}_{'_'.join(cols)}"
    assert case.fk
    table, col, ref = case.fk
    return "FOREIGN KEY constraint failed" if dialect == "sqlite" else f"fk_{table}_{col}_{ref}"


class _Rollback(Exception):
    pass


def _insert(db: Database, model: type, kwargs: Kw) -> None:
    def go(s: Session) -> None:
        s.add(model(**kwargs))
        s.flush()

    db.write(go)


def _count(db: Database, model: type) -> int:
    return db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(model)))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_constraint(shared: tuple[Database, Ids], case: Case) -> None:
    db, base = shared
    good = case.good(base)
    bad_over = case.bad(base) if callable(case.bad) else case.bad
    bad = {**good, **bad_over}
    before = _count(db, case.model)

    # The valid row is accepted (then rolled back), so the refusal below is about the one change.
    def accept(s: Session) -> None:
        s.add(case.model(**good))
        s.flush()
        raise _Rollback

    with pytest.raises(_Rollback):
        db.write(accept)

    with pytest.raises(sa.exc.IntegrityError) as info:
        _insert(db, case.model, bad)
    assert _expected_fragment(case, db.engine.dialect.name) in str(info.value.orig)
    assert _count(db, case.model) == before


def test_every_check_and_unique_constraint_has_a_case() -> None:
    """A new CHECK or UNIQUE constraint in db/models.py must get a case above."""
    covered_checks = {c.check for c in CASES if c.check}
    covered_unique = {(c.unique[0], c.unique[1]) for c in CASES if c.unique}
    missing: list[str] = []
    for table in Base.metadata.sorted_tables:
        for con in table.constraints:
            if isinstance(con, sa.CheckConstraint):
                name = str(con.name)
                # enum CHECKs (role IN (...)) are covered by test_enum_columns_are_checked
                if any(
                    isinstance(col.type, sa.Enum) and name == f"ck_{table.name}_{col.type.name}"
                    for col in table.columns
                ):
                    continue
                if name not in covered_checks:
                    missing.append(name)
            elif isinstance(con, sa.UniqueConstraint):
                cols = tuple(c.name for c in con.columns)
                if (table.name, cols) not in covered_unique:
                    missing.append(f"unique {table.name}{cols}")
    assert missing == []


# --------------------------------------------------------------------------- enums and foreign keys


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("UPDATE users SET role = 'admin'", "ck_users_role"),
        ("UPDATE invoices SET status = 'lost'", "ck_invoices_invoice_status"),
        ("UPDATE shifts SET status = 'maybe'", "ck_shifts_shift_status"),
    ],
)
def test_enum_columns_are_checked(db: Database, base: Ids, sql: str, constraint: str) -> None:
    with pytest.raises(sa.exc.IntegrityError) as info:
        db.write(lambda s: s.execute(sa.text(sql)))
    assert constraint in str(info.value.orig)


def test_foreign_keys_are_enforced_on_delete(db: Database, base: Ids) -> None:
    """On SQLite this holds only with PRAGMA foreign_keys=ON on every connection."""
    with pytest.raises(sa.exc.IntegrityError):
        db.write(lambda s: s.execute(sa.text("DELETE FROM teams WHERE id = :i"), {"i": base["team"]}))
    with pytest.raises(sa.exc.IntegrityError):
        db.write(lambda s: s.execute(sa.text("DELETE FROM invoices WHERE id = :i"), {"i": base["invoice"]}))
    assert _count(db, Team) == 2
    assert _count(db, Invoice) == 1


def test_foreign_keys_are_enforced_with_plain_sql(db: Database, base: Ids) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        db.write(lambda s: s.execute(sa.text("UPDATE clients SET owner_id = 424242")))


def test_base_rows_are_all_valid(db: Database, base: Ids) -> None:
    # The fixture itself: one row per table it fills; the cases above collide with these.
    assert _count(db, User) == 2
    assert _count(db, Invoice) == 1
    assert _count(db, DunningEvent) == 1
    assert (
        db.read(
            lambda s: s.execute(sa.select(sa.func.count()).select_from(discipline_incidents)).scalar_one()
        )
        == 1
    )


# --------------------------------------------------------------------------- optimistic locking

# model, base key, attribute edited by two people at once, and a value for each of them
VERSIONED: list[tuple[type, str, str, Any, Any]] = [
    (User, "clerk", "name", "Cleo A", "Cleo B"),
    (Client, "client", "notes", "note A", "note B"),
    (Coverage, "coverage", "group_number", "G-A", "G-B"),
    (Invoice, "invoice", "void_reason", "A", "B"),
    (PaymentPlan, "plan", "installment_count", 4, 5),
    (Dispute, "dispute", "description", "A", "B"),
    (Shift, "shift", "fixed", True, True),
    (Timecard, "timecard", "submit_note", "A", "B"),
    (Assignment, "assignment", "outcome_note", "A", "B"),
]


@pytest.mark.parametrize(
    ("model", "key", "attr", "mine", "theirs"), VERSIONED, ids=[v[0].__name__ for v in VERSIONED]
)
def test_concurrent_edit_raises_stale_data(
    db: Database, base: Ids, model: type, key: str, attr: str, mine: Any, theirs: Any
) -> None:
    # I load the row (a short read; the screen then waits for me) ...
    writer = db.engine.execution_options(clerkdesk_begin="IMMEDIATE")
    with Session(writer, expire_on_commit=False) as mine_s:
        obj = mine_s.get(model, base[key])
        assert obj.version == 1
        mine_s.commit()

        # ... meanwhile someone else saves the same row ...
        def theirs_edit(s: Session) -> None:
            setattr(s.get(model, base[key]), attr, theirs)

        db.write(theirs_edit)

        # ... and my save must not overwrite theirs silently.
        setattr(obj, attr, mine)
        with pytest.raises(StaleDataError):
            mine_s.flush()
        mine_s.rollback()

    row = db.read(lambda s: s.get(model, base[key]))
    assert getattr(row, attr) == theirs
    assert row.version == 2


def test_version_increments_on_every_save(db: Database, base: Ids) -> None:
    for n in range(3):
        db.write(lambda s, n=n: setattr(s.get(Client, base["client"]), "notes", f"v{n}"))
    assert db.read(lambda s: s.get(Client, base["client"]).version) == 4
