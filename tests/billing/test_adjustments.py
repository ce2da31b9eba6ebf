"""Adjustments and write-offs with reason codes: codes as data, supervisor rights, exact
figures, statuses, the account's list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from billing import adjustments, aging
from db.errors import PermissionDenied, ValidationError
from db.models import Adjustment, AdjustmentKind, Invoice, InvoiceStatus
from tests.billing.factories_payments import count_rows, make_client, make_invoice
from tests.conftest import Office

D = Decimal


@pytest.fixture
def inv(office: Office) -> int:
    def go(s: Session) -> int:
        c = make_client(s, "A-1001", "Ana", "García")
        iid = make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="120.00",
            paid="20.00",
            status=InvoiceStatus.PARTIALLY_PAID,
            number="S-1",
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 7, 1),
        )
        adjustments.set_reason_code(
            office.sup, s, code="bad-debt", description="Uncollectable", kind="write_off"
        )
        adjustments.set_reason_code(office.sup, s, code="SMALL", description="Small balance", kind="waive")
        return iid

    return office.db.write(go)


def test_codes_are_data(office: Office, inv: int) -> None:
    codes = office.db.read(lambda s: adjustments.list_reason_codes(office.clerk, s))
    assert [(c.code, c.kind) for c in codes] == [
        ("BAD-DEBT", AdjustmentKind.WRITE_OFF),
        ("SMALL", AdjustmentKind.WAIVE),
    ]
    office.db.write(
        lambda s: adjustments.set_reason_code(
            office.sup, s, code="small", description="Small balance", kind="waive", active=False
        )
    )
    assert [c.code for c in office.db.read(lambda s: adjustments.list_reason_codes(office.clerk, s))] == [
        "BAD-DEBT"
    ]
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: adjustments.set_reason_code(office.clerk, s, code="X", description="x", kind="waive")
        )
    with pytest.raises(ValidationError, match="code: must be 1 to 16"):
        office.db.write(
            lambda s: adjustments.set_reason_code(office.sup, s, code="[bad]", description="x", kind="waive")
        )
    with pytest.raises(ValidationError, match="kind: must be one of"):
        office.db.write(
            lambda s: adjustments.set_reason_code(office.sup, s, code="X", description="x", kind="gift")
        )


def test_adjust_part(office: Office, inv: int) -> None:
    v = office.db.write(
        lambda s: adjustments.adjust_invoice(
            office.sup, s, invoice_id=inv, amount="10.00", reason_code="small", note="rounding"
        )
    )
    assert (v.kind, v.amount, v.reason_code, v.reason, v.balance_after) == (
        AdjustmentKind.WAIVE,
        D("10.00"),
        "SMALL",
        "SMALL: Small balance (rounding)",
        D("90.00"),
    )
    with pytest.raises(ValidationError, match="write-off code"):
        office.db.write(lambda s: adjustments.write_off(office.sup, s, invoice_id=inv, reason_code="SMALL"))
    with pytest.raises(ValidationError, match="use the matching action"):
        office.db.write(
            lambda s: adjustments.adjust_invoice(
                office.sup, s, invoice_id=inv, amount="1", reason_code="BAD-DEBT"
            )
        )


def test_write_off_needs_a_supervisor_and_closes_the_invoice(office: Office, inv: int) -> None:
    with pytest.raises(PermissionDenied, match="may not write off balances"):
        office.db.write(
            lambda s: adjustments.write_off(office.clerk, s, invoice_id=inv, reason_code="BAD-DEBT")
        )
    assert count_rows(office.db, Adjustment) == 0
    v = office.db.write(
        lambda s: adjustments.write_off(
            office.sup, s, invoice_id=inv, reason_code="BAD-DEBT", note="client deceased"
        )
    )
    assert (v.amount, v.balance_after) == (D("100.00"), D("0.00"))
    row = office.db.read(lambda s: s.get(Invoice, inv))
    assert (row.status, row.amount_adjusted) == (InvoiceStatus.WRITTEN_OFF, D("100.00"))
    # as of the day before, the 100 was still owed (over 120 days)
    before = office.db.read(lambda s: aging.office_aging(office.clerk, s, as_of=dt.date(2026, 11, 15)))
    assert before.client.over_120 == D("100.00")
    assert office.db.read(lambda s: aging.office_aging(office.clerk, s)).client.total == D("0.00")
    listed = office.db.read(lambda s: adjustments.client_adjustments(office.clerk, s, row.client_id))
    assert [(a.kind, a.amount, a.made_by_login) for a in listed] == [
        (AdjustmentKind.WRITE_OFF, D("100.00"), "sam")
    ]
    with pytest.raises(ValidationError, match="only open charges can be adjusted"):
        office.db.write(
            lambda s: adjustments.write_off(office.sup, s, invoice_id=inv, reason_code="BAD-DEBT")
        )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("100.01", "at most the balance 100.00"),
        ("1e309", "is not an amount"),
        ("0", "must be more than zero"),
        ("", "is required"),
    ],
)
def test_bad_amounts(office: Office, inv: int, amount: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        office.db.write(
            lambda s: adjustments.adjust_invoice(
                office.sup, s, invoice_id=inv, amount=amount, reason_code="SMALL"
            )
        )
    assert count_rows(office.db, Adjustment) == 0


def test_clerk_cannot_adjust(office: Office, inv: int) -> None:
    with pytest.raises(PermissionDenied, match="may not waive or adjust charges"):
        office.db.write(
            lambda s: adjustments.adjust_invoice(
                office.clerk, s, invoice_id=inv, amount="1", reason_code="SMALL"
            )
        )
