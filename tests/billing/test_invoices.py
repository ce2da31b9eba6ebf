"""Invoices: build with exact figures, accuracy checks, numbering, freezing, credit notes, void."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from billing import coverage, invoices
from billing.invoices import IssueRefused
from db.errors import ConflictError, FrozenError, PermissionDenied, ValidationError
from db.models import (
    Adjustment,
    Allocation,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    PayerSide,
    Payment,
    PaymentMethod,
    ServiceRendered,
)
from db.settings import put_setting
from tests.billing.billing_setup import World, make_world
from tests.conftest import Office

DAY = dt.date(2026, 11, 10)


@pytest.fixture
def world(office: Office) -> World:
    return make_world(office)


def build(w: World, client: int | None = None) -> invoices.BuildResult:
    cid = client if client is not None else w.client
    return w.w(w.clerk, lambda a, s: invoices.build_invoices(a, s, cid))


def issue(w: World, invoice_id: int) -> invoices.InvoiceView:
    return w.w(w.clerk, lambda a, s: invoices.issue_invoice(a, s, invoice_id))


def refused(w: World, invoice_id: int) -> list[str]:
    with pytest.raises(IssueRefused) as e:
        issue(w, invoice_id)
    return [p.message for p in e.value.problems]


def remaining(w: World, cov: int | None = None) -> D:
    cid = cov if cov is not None else w.acme_cov
    return w.r(w.clerk, lambda a, s: coverage.get_coverage(a, s, cid)).deductible_remaining


def next_number(w: World) -> int | None:
    return w.db.read(
        lambda s: s.scalar(sa.select(NumberSequence.next_value).where(NumberSequence.name == "invoice"))
    )


def test_build_and_issue_primary_and_statement_with_exact_figures(world: World) -> None:
    w = world
    w.db.write(lambda s: put_setting(s, "billing.statement_terms_days", 21))
    sid = w.service("G0008", units=2)
    result = build(w)
    acme, stmt = result.drafts
    # 2 × 40.00 allowed: copay 10.00, deductible 20.00, 20 % of 50.00 = 10.00 → Acme 40.00, client 40.00.
    assert (acme.bill_to_name, acme.total, stmt.bill_to_name, stmt.total) == (
        "Acme Health",
        D("40.00"),
        "García, Ana",
        D("40.00"),
    )
    (line,) = acme.lines
    assert (line.code, line.units, line.unit_price, line.charge, line.amount, line.service_id) == (
        "FLU-ADM",
        2,
        D("40.00"),
        D("80.00"),
        D("40.00"),
        sid,
    )
    assert [(s.label, s.amount) for s in line.explain] == [
        ("2 × $40.00 (Acme Health allowed)", D("80.00")),
        ("Copay for the visit (Acme Health)", D("10.00")),
        ("Deductible ($20.00 remained)", D("20.00")),
        ("Coinsurance 20% of $50.00", D("10.00")),
        ("Acme Health pays", D("40.00")),
        ("Client share after Acme Health", D("40.00")),
        ("Client owes", D("40.00")),
    ]
    assert [(ln.code, ln.amount) for ln in stmt.lines] == [("G0008", D("40.00"))]
    assert remaining(w) == D("20.00")  # a draft takes no deductible

    # The statement waits for the payer invoice it depends on.
    assert refused(w, stmt.id) == [
        f"line 1 (G0008, 2026-11-10): the client's share depends on draft #{acme.id} to Acme Health; issue that first"
    ]
    a = issue(w, acme.id)
    assert (a.number, a.status, a.issue_date, a.due_date) == (
        "INV-000001",
        InvoiceStatus.ISSUED,
        dt.date(2026, 11, 16),
        dt.date(2026, 12, 16),
    )
    assert remaining(w) == D("0.00")  # taken when issued
    b = issue(w, stmt.id)
    assert (b.number, b.due_date) == ("INV-000002", dt.date(2026, 12, 7))  # statement terms: 21 days
    assert w.db.read(lambda s: s.get(ServiceRendered, sid).billed) is True


def test_copay_is_per_visit_and_the_deductible_runs_down_across_lines(world: World) -> None:
    w = world
    w.service("G0008", day=DAY)
    w.service("E0114", day=DAY)
    w.service("E0114", day=DAY + dt.timedelta(days=2))
    acme, stmt = build(w).drafts
    # G0008 40.00: copay 10, deductible 20, 20 % of 10 = 2.00 → Acme 8.00, client 32.00.
    # E0114 60.00 same visit: no copay, deductible used up, 20 % of 60 = 12.00 → Acme 48.00.
    # E0114 60.00 two days later: copay 10, 20 % of 50 = 10.00 → Acme 40.00, client 20.00.
    assert [ln.amount for ln in acme.lines] == [D("8.00"), D("48.00"), D("40.00")]
    assert [ln.amount for ln in stmt.lines] == [D("32.00"), D("12.00"), D("20.00")]
    assert (acme.total, stmt.total) == (D("96.00"), D("64.00"))


def test_secondary_picks_up_the_client_share(world: World) -> None:
    w = world
    w.cover(w.client, w.medicaid, rank="secondary", member_id="MCD9", copay="5")
    w.service("G0008", units=2)
    acme, medicaid, stmt = build(w).drafts
    # Client share after Acme 40.00; Medicaid (catalog fee 2 × 50.00) considers 40.00, its copay
    # 5.00 → pays 35.00; the client owes 5.00.
    assert (acme.total, medicaid.total, stmt.total) == (D("40.00"), D("35.00"), D("5.00"))
    assert [ln.code for ln in medicaid.lines] == ["G0008"]
    views = w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [stmt.id, medicaid.id, acme.id]))
    assert [v.number for v in views] == ["INV-000001", "INV-000002", "INV-000003"]
    assert [v.bill_to_name for v in views] == ["Acme Health", "State Medicaid", "García, Ana"]


def test_no_coverage_bills_the_client_at_the_catalog_fee(world: World) -> None:
    bo = world.new_client()
    world.service("T1013", units=3, client=bo)
    (stmt,) = build(world, bo).drafts
    assert (stmt.kind.value, stmt.total, stmt.lines[0].unit_price) == ("statement", D("72.00"), D("24.00"))
    assert issue(world, stmt.id).number == "INV-000001"


def test_coverage_not_in_force_on_the_service_date(world: World) -> None:
    w = world
    w.service()
    acme, _ = build(w).drafts
    w.w(w.clerk, lambda a, s: coverage.end_coverage(a, s, w.acme_cov, end_date=dt.date(2026, 11, 1)))
    assert refused(w, acme.id) == [
        "line 1 (FLU-ADM, 2026-11-10): coverage Acme Health (member W123) was not in force on 2026-11-10"
    ]
    assert next_number(w) is None  # nothing taken


def test_stale_eligibility_blocks_until_a_supervisor_overrides(world: World) -> None:
    w = world
    bo = w.new_client()
    cov = w.cover(bo, w.medicaid, member_id="MCD1", check=False)
    w.w(
        w.clerk,
        lambda a, s: coverage.record_eligibility_check(
            a, s, cov, result="eligible", checked_on=dt.date(2026, 10, 1)
        ),
    )
    w.service("E0114", client=bo)
    (med,) = build(w, bo).drafts
    assert refused(w, med.id) == [
        "lines 1-1: State Medicaid (member MCD1): eligibility check is stale: last checked 2026-10-01, "
        "46 days ago (limit 30); record a fresh check or ask a supervisor for an override"
    ]
    with pytest.raises(PermissionDenied):
        w.w(w.clerk, lambda a, s: coverage.grant_eligibility_override(a, s, cov, reason="card seen"))
    w.w(w.sup, lambda a, s: coverage.grant_eligibility_override(a, s, cov, reason="card seen"))
    assert issue(w, med.id).number == "INV-000001"


def test_every_code_must_be_mapped_for_a_payer_with_a_crosswalk(world: World) -> None:
    w = world
    w.service("T1013", units=2)
    acme, _ = build(w).drafts
    assert refused(w, acme.id) == [
        "line 1 (T1013, 2026-11-10): Acme Health has no crosswalk entry for code T1013; "
        "a supervisor must map it before this payer can be billed"
    ]
    from billing import catalog

    w.w(w.sup, lambda a, s: catalog.set_crosswalk(a, s, w.acme, "T1013", payer_code="INTERP"))
    assert refused(w, acme.id) == [
        "line 1 (T1013, 2026-11-10): Acme Health now takes T1013 as INTERP, the draft says T1013; "
        "discard and rebuild the draft"
    ]
    discarded = w.w(w.clerk, lambda a, s: invoices.discard_draft(a, s, acme.id))
    assert len(discarded) == 2  # the statement of the same build goes too
    acme2, _ = build(w).drafts
    assert [ln.code for ln in acme2.lines] == ["INTERP"]
    assert issue(w, acme2.id).number == "INV-000001"


def test_no_service_billed_twice(world: World) -> None:
    w = world
    bo = w.new_client()
    sid = w.service("E0114", client=bo)
    (first,) = build(w, bo).drafts
    issue(w, first.id)
    # Something (a bug, a hand edit) marks the service unbilled again and it is built again.
    w.db.write(
        lambda s: s.execute(sa.update(ServiceRendered).where(ServiceRendered.id == sid).values(billed=False))
    )
    (second,) = build(w, bo).drafts
    assert refused(w, second.id) == [
        f"line 1 (E0114, 2026-11-10): service #{sid} (E0114 on 2026-11-10) is already billed on INV-000001"
    ]


def test_totals_must_agree_with_the_lines(world: World) -> None:
    w = world
    bo = w.new_client()
    w.service("E0114", client=bo)
    (stmt,) = build(w, bo).drafts
    w.db.write(lambda s: s.execute(sa.update(Invoice).where(Invoice.id == stmt.id).values(total=D("70.00"))))
    assert refused(w, stmt.id) == ["totals: the lines add up to 68.00 but the total is 70.00"]
    w.db.write(
        lambda s: s.execute(
            sa.update(InvoiceLine).where(InvoiceLine.invoice_id == stmt.id).values(amount=D("70.00"))
        )
    )
    assert refused(w, stmt.id) == [
        "line 1 (E0114, 2026-11-10): amount 70.00 is more than units × price 68.00"
    ]


def test_required_client_data(world: World) -> None:
    w = world
    nowhere = w.new_client("Cy", "Li", address_line1="", city="", postal_code="")
    w.service("E0114", client=nowhere)
    (stmt,) = build(w, nowhere).drafts
    assert refused(w, stmt.id) == [
        "client A000002: a mailing address (street, city, postal code) is needed to send a statement"
    ]
    no_dob = w.new_client("Di", "Ma", date_of_birth=None)
    w.cover(no_dob, w.medicaid, member_id="MCD7")
    w.service("E0114", client=no_dob)
    (med,) = build(w, no_dob).drafts
    assert refused(w, med.id) == ["client A000003: date of birth is required by the payer"]


def test_deductible_used_elsewhere_since_the_draft_was_built(world: World) -> None:
    w = world
    w.service("G0008")
    acme, _ = build(w).drafts
    w.w(w.clerk, lambda a, s: coverage.edit_coverage(a, s, w.acme_cov, deductible_remaining="5"))
    assert refused(w, acme.id) == [
        "deductible: the lines use 20.00 of the Acme Health deductible but only 5.00 remains (another "
        "invoice used it since this draft was built); discard and rebuild the draft"
    ]
    assert remaining(w) == D("5.00")


def test_a_second_build_plans_around_the_deductible_of_open_drafts(world: World) -> None:
    w = world
    w.service("G0008")
    first, _ = build(w).drafts
    w.service("G0008", day=DAY + dt.timedelta(days=1))
    second, _ = build(w).drafts
    # The first draft plans the 20.00 left; the second sees none left: 40 − 10 copay → 20 % of 30.
    assert [ln.amount for ln in first.lines] == [D("8.00")]
    assert [ln.amount for ln in second.lines] == [D("24.00")]
    issue(w, first.id)
    issue(w, second.id)
    assert remaining(w) == D("0.00")


def test_issued_invoices_are_frozen(world: World) -> None:
    w = world
    bo = w.new_client()
    w.service("E0114", client=bo)
    (stmt,) = build(w, bo).drafts
    issue(w, stmt.id)
    with pytest.raises(FrozenError, match="INV-000001 is already issued"):
        issue(w, stmt.id)
    with pytest.raises(FrozenError):
        w.w(w.clerk, lambda a, s: invoices.discard_draft(a, s, stmt.id))

    def edit_line(s: sa.orm.Session) -> None:
        s.get(Invoice, stmt.id).lines[0].amount = D("1.00")

    def edit_total(s: sa.orm.Session) -> None:
        s.get(Invoice, stmt.id).total = D("1.00")

    def add_line(s: sa.orm.Session) -> None:
        inv = s.get(Invoice, stmt.id)
        inv.lines.append(
            InvoiceLine(line_no=2, code="X", description="x", units=1, unit_price=D("1"), amount=D("1"))
        )

    def delete_it(s: sa.orm.Session) -> None:
        s.delete(s.get(Invoice, stmt.id))

    for attempt in (edit_line, edit_total, add_line, delete_it):
        with pytest.raises(FrozenError):
            w.db.write(attempt)
    view = w.r(w.clerk, lambda a, s: invoices.get_invoice(a, s, stmt.id))
    assert (view.total, [ln.amount for ln in view.lines]) == (D("68.00"), [D("68.00")])

    # Money received and the dispute hold still move on an issued invoice.
    def pay(s: sa.orm.Session) -> None:
        inv = s.get(Invoice, stmt.id)
        inv.amount_paid = D("8.00")
        inv.status = InvoiceStatus.PARTIALLY_PAID
        inv.dispute_hold = True

    w.db.write(pay)
    assert w.r(w.clerk, lambda a, s: invoices.get_invoice(a, s, stmt.id)).balance == D("60.00")


def test_credit_notes_reference_the_lines_and_reduce_the_balance(world: World) -> None:
    w = world
    sid = w.service("G0008", units=2)
    acme, stmt = build(w).drafts
    w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [acme.id, stmt.id]))
    assert remaining(w) == D("0.00")
    with pytest.raises(ValidationError, match="reason"):
        w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason=""))
    with pytest.raises(ValidationError, match="'NaN' is not an amount"):
        w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="x", lines={1: "NaN"}))
    with pytest.raises(ValidationError, match="has no line 3"):
        w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="x", lines={3: None}))
    with pytest.raises(ValidationError, match=r"at most 40\.00 of line 1 is left to credit"):
        w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="x", lines={1: "41"}))
    part = w.w(
        w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="price agreed", lines={1: "15"})
    )
    assert (part.number, part.total, part.credits_invoice_id) == ("CN-000001", D("-15.00"), acme.id)
    assert part.lines[0].credits_line_id == acme.lines[0].id
    assert w.r(w.clerk, lambda a, s: invoices.get_invoice(a, s, acme.id)).balance == D("25.00")
    assert remaining(w) == D("0.00")  # a partial credit gives no deductible back
    rest = w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="billed in error"))
    assert (rest.number, rest.total) == ("CN-000002", D("-25.00"))
    orig = w.r(w.clerk, lambda a, s: invoices.get_invoice(a, s, acme.id))
    assert (orig.number, orig.balance, orig.amount_adjusted, orig.status) == (
        "INV-000001",
        D("0.00"),
        D("40.00"),
        InvoiceStatus.ISSUED,
    )
    assert remaining(w) == D("20.00")  # fully credited: the deductible comes back
    adjustments = w.db.read(
        lambda s: [
            (a.kind.value, a.amount, a.reason)
            for a in s.scalars(sa.select(Adjustment).order_by(Adjustment.id))
        ]
    )
    assert adjustments == [
        ("correction", D("15.00"), "credit note CN-000001: price agreed"),
        ("correction", D("25.00"), "credit note CN-000002: billed in error"),
    ]
    # The statement still bills the service; once it is credited too, the service is unbilled.
    assert w.db.read(lambda s: s.get(ServiceRendered, sid).billed) is True
    w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, stmt.id, reason="billed in error"))
    assert w.db.read(lambda s: s.get(ServiceRendered, sid).billed) is False
    with pytest.raises(ValidationError, match=r"nothing left to credit|open balance"):
        w.w(w.clerk, lambda a, s: invoices.credit_invoice(a, s, acme.id, reason="again"))


def test_void_is_for_supervisors_keeps_the_number_and_refuses_paid_invoices(world: World) -> None:
    w = world
    sid = w.service("G0008", units=2)
    acme, stmt = build(w).drafts
    w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [acme.id, stmt.id]))
    with pytest.raises(PermissionDenied, match="may not void an invoice"):
        w.w(w.clerk, lambda a, s: invoices.void_invoice(a, s, acme.id, reason="wrong payer"))
    with pytest.raises(ValidationError, match="reason"):
        w.w(w.sup, lambda a, s: invoices.void_invoice(a, s, acme.id, reason=" "))

    def allocate(s: sa.orm.Session) -> None:
        p = Payment(
            side=PayerSide.CLIENT,
            client_id=w.client,
            amount=D("10.00"),
            unapplied=D("0.00"),
            method=PaymentMethod.CASH,
            received_on=dt.date(2026, 11, 16),
            idempotency_key="k1",
            posted_by=w.clerk.user_id,
        )
        s.add(p)
        s.flush()
        s.add(Allocation(payment_id=p.id, invoice_id=stmt.id, amount=D("10.00")))

    w.db.write(allocate)
    with pytest.raises(ConflictError, match="has payments allocated"):
        w.w(w.sup, lambda a, s: invoices.void_invoice(a, s, stmt.id, reason="x"))
    v = w.w(w.sup, lambda a, s: invoices.void_invoice(a, s, acme.id, reason="wrong payer"))
    assert (v.number, v.status, v.void_reason) == ("INV-000001", InvoiceStatus.VOID, "wrong payer")
    assert remaining(w) == D("20.00")
    assert w.db.read(lambda s: s.get(ServiceRendered, sid).billed) is True  # still on the statement
    with pytest.raises(ConflictError, match="is void"):
        w.w(w.sup, lambda a, s: invoices.void_invoice(a, s, acme.id, reason="again"))


def test_discarding_a_draft_releases_its_services(world: World) -> None:
    w = world
    sid = w.service()
    acme, stmt = build(w).drafts
    gone = w.w(w.clerk, lambda a, s: invoices.discard_draft(a, s, stmt.id))
    assert gone == (acme.id, stmt.id)
    assert w.db.read(lambda s: s.get(ServiceRendered, sid).billed) is False
    assert w.db.read(lambda s: s.scalar(sa.select(sa.func.count()).select_from(Invoice))) == 0
    with pytest.raises(ValidationError, match="has no unbilled services"):
        build(w, w.new_client())


def test_list_invoices_pages_by_key(world: World) -> None:
    w = world
    for day in range(2, 7):
        w.service("G0008", day=dt.date(2026, 11, day))
    acme, stmt = build(w).drafts
    w.w(w.clerk, lambda a, s: invoices.issue_drafts(a, s, [acme.id, stmt.id]))
    page1 = w.r(w.clerk, lambda a, s: invoices.list_invoices(a, s, limit=1))
    assert [r.number for r in page1.rows] == ["INV-000002"]  # newest first
    page2 = w.r(w.clerk, lambda a, s: invoices.list_invoices(a, s, limit=1, after=page1.next_after))
    assert [r.number for r in page2.rows] == ["INV-000001"] and page2.next_after is None
    only = w.r(w.clerk, lambda a, s: invoices.list_invoices(a, s, kind="statement", status="issued"))
    assert [(r.number, r.bill_to_name, r.total) for r in only.rows] == [
        ("INV-000002", "García, Ana", stmt.total)
    ]
    rows = w.db.read(lambda s: list(invoices.iter_invoices(w.clerk, s, batch=1)))
    assert [r.number for r in rows] == ["INV-000001", "INV-000002"]
