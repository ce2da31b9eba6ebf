"""Disputes: open on an invoice or a line (hold), the supervisors' queue and detail, waive all
or part, confirm (dunning resumes), correct (credit note + new invoice), rights, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import contacts, disputes, dunning, ledger
from db.errors import ConflictError, PermissionDenied, ValidationError
from db.models import (
    Adjustment,
    AdjustmentKind,
    AuditEntry,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from tests.billing.collections_factories import invoice_with_lines
from tests.billing.factories_payments import count_rows, make_client
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def acct(office: Office) -> dict[str, int]:
    def go(s: Session) -> dict[str, int]:
        c = make_client(s, "A-1001", "Ana", "García")
        inv = invoice_with_lines(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            lines=["40.00", "60.00"],
            issue_date=dt.date(2026, 9, 1),
            due_date=dt.date(2026, 10, 1),
            number="S-1",
        )
        other = invoice_with_lines(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            lines=["25.00"],
            issue_date=dt.date(2026, 9, 5),
            due_date=dt.date(2026, 10, 5),
            number="S-2",
        )
        return {"client": c, "inv": inv, "other": other}

    return office.db.write(go)


def open_(office: Office, inv: int, **kw: object) -> disputes.DisputeView:
    args: dict[str, object] = {"reason": "amount_differs", "description": "quoted 80 [Smith]"}
    args.update(kw)
    return office.db.write(lambda s: disputes.open_dispute(office.clerk, s, invoice_id=inv, **args))  # type: ignore[arg-type]


def hold(office: Office, inv: int) -> bool:
    return office.db.read(lambda s: s.get(Invoice, inv).dispute_hold)  # type: ignore[union-attr]


def test_open_puts_the_invoice_on_hold_and_in_the_queue(office: Office, acct: dict[str, int]) -> None:
    d = open_(office, acct["inv"])
    assert (d.status, d.invoice_number, d.invoice_balance, d.line_no, d.opened_by_login, d.description) == (
        DisputeStatus.OPEN,
        "S-1",
        D("100.00"),
        None,
        "cleo",
        "quoted 80 [Smith]",
    )
    assert hold(office, acct["inv"]) is True
    # automatic allocation leaves the disputed item alone
    cid = acct["client"]
    assert office.db.read(lambda s: ledger.client_balance(s, cid, include_disputed=False)) == D("25.00")
    q = office.db.read(lambda s: disputes.dispute_queue(office.sup, s))
    assert [x.id for x in q.rows] == [d.id] and q.next_after is None
    assert [
        x.id for x in office.db.read(lambda s: disputes.dispute_queue(office.sup, s, filter_text="garc")).rows
    ] == [d.id]
    assert office.db.read(lambda s: disputes.dispute_queue(office.sup, s, filter_text="zz")).rows == ()
    with pytest.raises(ConflictError, match="S-1 already has an open dispute"):
        open_(office, acct["inv"])
    contact = office.db.write(
        lambda s: contacts.log_contact(
            office.clerk,
            s,
            client_id=cid,
            channel="phone",
            direction="inbound",
            outcome="reached",
            notes="called",
        )
    )
    detail = office.db.read(lambda s: disputes.dispute_detail(office.sup, s, d.id))
    assert [ln.amount for ln in detail.invoice.lines] == [D("40.00"), D("60.00")]
    assert detail.invoice.lines[0].explain[0].label == "Fee 1"
    assert [c.id for c in detail.contacts] == [contact.id]
    assert {i.number for i in detail.ledger.invoices} == {"S-1", "S-2"}


def test_waive_part_on_a_line(office: Office, acct: dict[str, int]) -> None:
    d = open_(office, acct["inv"], line_no=2)
    assert (d.line_no, d.line_amount) == (2, D("60.00"))
    with pytest.raises(ValidationError, match=r"amount: is more than the disputed 60\.00"):
        office.db.write(
            lambda s: disputes.decide_waive(
                office.sup, s, d.id, reason="x", version=d.version, amount="60.01"
            )
        )
    w = office.db.write(
        lambda s: disputes.decide_waive(
            office.sup, s, d.id, reason="goodwill", version=d.version, amount="15.50"
        )
    )
    assert (w.status, w.waived_amount, w.decided_by_login, w.decision_note) == (
        DisputeStatus.WAIVED,
        D("15.50"),
        "sam",
        "goodwill",
    )
    inv = office.db.read(lambda s: s.get(Invoice, acct["inv"]))
    assert (inv.amount_adjusted, inv.balance, inv.dispute_hold) == (D("15.50"), D("84.50"), False)
    adj = office.db.read(lambda s: s.scalars(sa.select(Adjustment)).one())
    assert (adj.kind, adj.amount, adj.dispute_id, adj.reason) == (
        AdjustmentKind.WAIVE,
        D("15.50"),
        d.id,
        f"dispute #{d.id}: goodwill",
    )
    actions = office.db.read(
        lambda s: [
            e.action
            for e in s.scalars(
                sa.select(AuditEntry).where(AuditEntry.entity == "dispute").order_by(AuditEntry.id)
            )
        ]
    )
    assert actions == ["open", "decide.waived"]
    on_account = office.db.read(lambda s: disputes.client_disputes(office.clerk, s, acct["client"]))
    assert [(x.id, x.status) for x in on_account] == [(d.id, DisputeStatus.WAIVED)]


def test_waive_all(office: Office, acct: dict[str, int]) -> None:
    d = open_(office, acct["inv"])
    office.db.write(
        lambda s: disputes.decide_waive(office.sup, s, d.id, reason="not rendered", version=d.version)
    )
    inv = office.db.read(lambda s: s.get(Invoice, acct["inv"]))
    assert (inv.balance, inv.status) == (D("0.00"), InvoiceStatus.ISSUED)
    assert office.db.read(lambda s: ledger.client_balance(s, acct["client"])) == D("25.00")


def test_confirm_releases_the_hold_and_dunning_resumes(office: Office, acct: dict[str, int]) -> None:
    office.db.write(
        lambda s: dunning.set_level(
            office.sup, s, level=1, name="Reminder", days_overdue=15, letter_text="Please pay"
        )
    )
    office.db.write(
        lambda s: dunning.set_level(
            office.sup, s, level=2, name="Notice", days_overdue=40, letter_text="Pay now"
        )
    )
    timeline = dt.date(2026, 10, 20)
    office.db.write(lambda s: dunning.apply_run(office.sup, s, as_of=timeline))  # level 1 on both
    d = open_(office, acct["inv"])
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert [(r.invoice_number, r.level, r.why) for r in p.rows] == [
        ("S-1", 2, "invoice on dispute hold"),
        ("S-2", 2, ""),
    ]
    c = office.db.write(
        lambda s: disputes.decide_confirm(office.sup, s, d.id, reason="service was given", version=d.version)
    )
    assert c.status == DisputeStatus.CONFIRMED and hold(office, acct["inv"]) is False
    p = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert [(r.invoice_number, r.level, r.why) for r in p.rows] == [("S-1", 2, ""), ("S-2", 2, "")]


def test_correct_issues_a_credit_note_and_a_new_invoice(office: Office, acct: dict[str, int]) -> None:
    d = open_(office, acct["inv"], line_no=2)
    with pytest.raises(ValidationError, match="line 1: the dispute is on line 2 only"):
        office.db.write(
            lambda s: disputes.decide_correct(
                office.sup, s, d.id, reason="x", version=d.version, amounts={1: "10"}
            )
        )
    with pytest.raises(ValidationError, match="confirm the dispute instead"):
        office.db.write(
            lambda s: disputes.decide_correct(
                office.sup, s, d.id, reason="x", version=d.version, amounts={2: "60.00"}
            )
        )
    r = office.db.write(
        lambda s: disputes.decide_correct(
            office.sup, s, d.id, reason="price was 45", version=d.version, amounts={2: "45.00"}
        )
    )
    assert r.status == DisputeStatus.CORRECTED and r.credit_note_number and r.new_invoice_number

    def read(s: Session) -> tuple[object, ...]:
        orig = s.get(Invoice, acct["inv"])
        note = s.scalars(sa.select(Invoice).where(Invoice.number == r.credit_note_number)).one()
        new = s.scalars(sa.select(Invoice).where(Invoice.number == r.new_invoice_number)).one()
        return (
            orig.balance,
            orig.dispute_hold,
            note.kind,
            note.total,
            new.kind,
            new.total,
            new.status,
            new.due_date,
            [(ln.line_no, ln.code, ln.amount) for ln in new.lines],
        )

    assert office.db.read(read) == (
        D("40.00"),
        False,
        InvoiceKind.CREDIT_NOTE,
        D("-60.00"),
        InvoiceKind.STATEMENT,
        D("45.00"),
        InvoiceStatus.ISSUED,
        dt.date(2026, 12, 16),
        [(1, "C2", D("45.00"))],
    )
    assert office.db.read(lambda s: ledger.client_balance(s, acct["client"])) == D("110.00")  # 40 + 45 + 25


def test_rights_and_not_self(office: Office, acct: dict[str, int]) -> None:
    d = open_(office, acct["inv"])
    with pytest.raises(PermissionDenied, match="may not decide disputes"):
        office.db.write(
            lambda s: disputes.decide_confirm(office.clerk2, s, d.id, reason="x", version=d.version)
        )
    # a supervisor who opened a dispute cannot decide it
    mine = office.db.write(
        lambda s: disputes.open_dispute(office.sup, s, invoice_id=acct["other"], reason="not_rendered")
    )
    with pytest.raises(PermissionDenied, match="sam may not decide a dispute on their own work"):
        office.db.write(
            lambda s: disputes.decide_waive(office.sup, s, mine.id, reason="x", version=mine.version)
        )
    office.db.write(
        lambda s: disputes.decide_waive(office.sup2, s, mine.id, reason="ok", version=mine.version)
    )
    with pytest.raises(ConflictError, match="already decided"):
        office.db.write(
            lambda s: disputes.decide_confirm(office.sup2, s, mine.id, reason="x", version=mine.version)
        )
    with pytest.raises(ConflictError, match="changed by someone else"):
        office.db.write(
            lambda s: disputes.decide_confirm(office.sup, s, d.id, reason="x", version=d.version + 5)
        )
    with pytest.raises(ValidationError, match="reason: is required"):
        office.db.write(
            lambda s: disputes.decide_confirm(office.sup, s, d.id, reason="  ", version=d.version)
        )
    assert office.db.read(lambda s: s.get(Dispute, d.id).status) == DisputeStatus.OPEN  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"reason": "because"}, "reason: must be one of not_rendered"),
        ({"reason": "other", "description": ""}, "description: is required"),
        ({"line_no": 9}, "line: S-1 has no line 9"),
        ({"description": "x" * 1001}, "description: is longer than 1000"),
    ],
)
def test_bad_open_input(office: Office, acct: dict[str, int], kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        open_(office, acct["inv"], **kw)
    assert count_rows(office.db, Dispute) == 0 and hold(office, acct["inv"]) is False


def test_a_paid_invoice_cannot_be_disputed(office: Office, acct: dict[str, int]) -> None:
    office.db.write(lambda s: setattr(s.get(Invoice, acct["other"]), "status", InvoiceStatus.VOID))
    with pytest.raises(ValidationError, match="only an open charge can be disputed"):
        open_(office, acct["other"])
