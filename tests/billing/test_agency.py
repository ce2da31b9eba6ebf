"""Agency hand-off: agencies (supervisor), placing accounts (status, out of dunning), the
placement file (never overwrites, formula-safe), agency payments net of fee with the fee
booked as an adjustment, recall."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing import agency, dunning, ledger
from db.errors import ConflictError, PermissionDenied, ValidationError
from db.models import (
    Adjustment,
    AdjustmentKind,
    Client,
    ClientStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Placement,
    PlacementStatus,
)
from tests.billing.factories_payments import count_rows, make_client, make_invoice
from tests.conftest import Office

D = Decimal
TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def setup(office: Office) -> dict[str, int]:
    def go(s: Session) -> dict[str, int]:
        c = make_client(
            s, "A-1001", "Ana", "García", phone="=HYPERLINK(1)", city="Springfield", address_line1="5 Elm St"
        )
        i1 = make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="100.00",
            number="S-1",
            issue_date=dt.date(2026, 6, 1),
            due_date=dt.date(2026, 7, 1),
        )
        i2 = make_invoice(
            s,
            client_id=c,
            created_by=office.sup.user_id,
            total="150.00",
            paid="50.00",
            status=InvoiceStatus.PARTIALLY_PAID,
            number="S-2",
            issue_date=dt.date(2026, 7, 1),
            due_date=dt.date(2026, 8, 1),
        )
        zero = make_client(s, "A-1002", "Bo", "Tran")
        dunning.set_level(office.sup, s, level=1, name="Reminder", days_overdue=15, letter_text="Pay")
        return {"client": c, "i1": i1, "i2": i2, "zero": zero}

    ids = office.db.write(go)
    ids["agency"] = office.db.write(
        lambda s: agency.add_agency(
            office.sup, s, name="Recovery Co", fee_bp="30", contact="ops@recovery.example"
        )
    ).id
    return ids


def test_agencies_are_kept_by_supervisors(office: Office, setup: dict[str, int]) -> None:
    (a,) = office.db.read(lambda s: agency.list_agencies(office.clerk, s))
    assert (a.name, a.fee_bp, a.fee_percent, a.active_placements) == ("Recovery Co", 3000, "30.00 %", 0)
    with pytest.raises(PermissionDenied, match="may not place accounts with an agency"):
        office.db.write(lambda s: agency.add_agency(office.clerk, s, name="X", fee_bp="10"))
    with pytest.raises(ConflictError, match="exists already"):
        office.db.write(lambda s: agency.add_agency(office.sup, s, name="recovery co", fee_bp="10"))
    for bad, msg in (
        ("101", "from 0 to 100"),
        ("1e309", "is not a percent"),
        ("[30]", "is not a percent"),
        ("12.345", "is not a percent"),
    ):
        with pytest.raises(ValidationError, match=msg):
            office.db.write(lambda s, bad=bad: agency.add_agency(office.sup, s, name="Y", fee_bp=bad))
    assert agency.parse_fee_percent("27.5 %") == 2750
    edited = office.db.write(lambda s: agency.edit_agency(office.sup, s, setup["agency"], fee_bp="25"))
    assert edited.fee_bp == 2500


def test_place_export_pay_recall(office: Office, setup: dict[str, int], tmp_path: Path) -> None:
    cid = setup["client"]
    with pytest.raises(PermissionDenied):
        office.db.write(
            lambda s: agency.place_accounts(office.clerk, s, agency_id=setup["agency"], client_ids=[cid])
        )
    with pytest.raises(ValidationError, match="A-1002: owes nothing"):
        office.db.write(
            lambda s: agency.place_accounts(
                office.sup, s, agency_id=setup["agency"], client_ids=[cid, setup["zero"]]
            )
        )
    assert count_rows(office.db, Placement) == 0  # all or none
    (p,) = office.db.write(
        lambda s: agency.place_accounts(office.sup, s, agency_id=setup["agency"], client_ids=[cid])
    )
    assert (p.balance_placed, p.fee_bp, p.status, p.placed_on, p.agency_name) == (
        D("200.00"),
        3000,
        PlacementStatus.ACTIVE,
        TODAY,
        "Recovery Co",
    )
    assert office.db.read(lambda s: s.get(Client, cid).status) == ClientStatus.IN_COLLECTIONS  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="placed with an agency already"):
        office.db.write(
            lambda s: agency.place_accounts(office.sup, s, agency_id=setup["agency"], client_ids=[cid])
        )
    # out of internal dunning
    prev = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert {r.why for r in prev.rows} == {"account placed with an agency"}

    out = tmp_path / "placements.csv"
    res = office.db.write(
        lambda s: agency.export_placement_file(office.sup, s, path=out, agency_id=setup["agency"])
    )
    assert res.rows == 1
    with out.open(newline="", encoding="utf-8") as fh:
        data = list(csv.reader(fh))
    assert data[0] == list(agency.PLACEMENT_FILE_COLUMNS)
    row = dict(zip(data[0], data[1], strict=True))
    assert (row["account_number"], row["last_name"], row["phone"], row["balance_placed"], row["items"]) == (
        "A-1001",
        "García",
        "'=HYPERLINK(1)",
        "200.00",
        "S-1:2026-07-01:100.00;S-2:2026-08-01:100.00",
    )
    before = out.read_bytes()
    with pytest.raises(ConflictError, match="exists already"):
        office.db.write(
            lambda s: agency.export_placement_file(office.sup, s, path=out, agency_id=setup["agency"])
        )
    assert out.read_bytes() == before
    with pytest.raises(ValidationError, match="does not exist"):
        office.db.write(
            lambda s: agency.export_placement_file(
                office.sup, s, path=tmp_path / "no" / "x.csv", agency_id=setup["agency"]
            )
        )

    # the agency collected 120.00 and keeps 30 %: 84.00 posted, 36.00 fee booked
    r = office.db.write(
        lambda s: agency.record_agency_payment(
            office.clerk,
            s,
            placement_id=p.id,
            gross="120.00",
            received_on=TODAY,
            idempotency_key="ag-1",
            reference="remit 7",
        )
    )
    assert (r.gross, r.fee, r.net, r.duplicate) == (D("120.00"), D("36.00"), D("84.00"), False)
    assert (r.placement.collected, r.placement.fees, r.placement.balance_now) == (
        D("120.00"),
        D("36.00"),
        D("80.00"),
    )

    def figures(s: Session) -> tuple[object, ...]:
        pay = s.scalars(sa.select(Payment)).one()
        i1, i2 = s.get(Invoice, setup["i1"]), s.get(Invoice, setup["i2"])
        fees = [
            (a.invoice_id, a.amount)
            for a in s.scalars(
                sa.select(Adjustment)
                .where(Adjustment.kind == AdjustmentKind.AGENCY_FEE)
                .order_by(Adjustment.id)
            )
        ]
        return (
            pay.amount,
            pay.method,
            pay.placement_id,
            i1.amount_paid,
            i1.amount_adjusted,
            i1.status,
            i2.amount_paid,
            i2.amount_adjusted,
            fees,
        )

    assert office.db.read(figures) == (
        D("84.00"),
        PaymentMethod.AGENCY,
        p.id,
        D("84.00"),
        D("16.00"),
        InvoiceStatus.PAID,
        D("50.00"),
        D("20.00"),
        [(setup["i1"], D("16.00")), (setup["i2"], D("20.00"))],
    )
    again = office.db.write(
        lambda s: agency.record_agency_payment(
            office.clerk, s, placement_id=p.id, gross="120.00", received_on=TODAY, idempotency_key="ag-1"
        )
    )
    assert again.duplicate and count_rows(office.db, Payment) == 1
    with pytest.raises(ValidationError, match=r"more than the account's open balance 80\.00"):
        office.db.write(
            lambda s: agency.record_agency_payment(
                office.clerk, s, placement_id=p.id, gross="80.01", received_on=TODAY, idempotency_key="ag-2"
            )
        )
    assert office.db.read(lambda s: ledger.client_balance(s, cid)) == D("80.00")

    with pytest.raises(ValidationError, match="reason: is required"):
        office.db.write(lambda s: agency.recall_placement(office.sup, s, p.id, reason=""))
    back = office.db.write(lambda s: agency.recall_placement(office.sup, s, p.id, reason="client called us"))
    assert (back.status, back.recalled_on, back.recall_reason) == (
        PlacementStatus.RECALLED,
        TODAY,
        "client called us",
    )
    assert office.db.read(lambda s: s.get(Client, cid).status) == ClientStatus.DELINQUENT  # type: ignore[union-attr]
    prev = office.db.read(lambda s: dunning.preview_run(office.clerk, s))
    assert [(r.invoice_number, r.why) for r in prev.rows] == [("S-2", "")]
    with pytest.raises(ValidationError, match="recalled"):
        office.db.write(
            lambda s: agency.record_agency_payment(
                office.clerk, s, placement_id=p.id, gross="10", received_on=TODAY, idempotency_key="ag-3"
            )
        )
    lst = office.db.read(lambda s: agency.list_placements(office.clerk, s, status=None))
    assert [x.id for x in lst.rows] == [p.id]
    assert office.db.read(lambda s: agency.list_placements(office.clerk, s)).rows == ()
