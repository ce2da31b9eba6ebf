"""The account header's money figures: client balance, overdue part, payer balance, open count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing import clients
from db.models import InvoiceStatus
from tests.billing.factories_payments import make_client, make_invoice, make_payer
from tests.conftest import Office

TODAY = dt.date(2026, 11, 16)  # the frozen clock's office date


def test_header_sums_only_open_charges_of_this_client(office: Office) -> None:
    def setup(s) -> int:  # type: ignore[no-untyped-def]
        me = office.clerk.user_id
        cid = make_client(s, "A-1", "Ana", "Ruiz")
        other = make_client(s, "A-2", "Bo", "Tran")
        payer = make_payer(s)
        # Client statements: one overdue (80.00 left), one not yet due (50.00), one paid, one void.
        make_invoice(
            s,
            client_id=cid,
            created_by=me,
            total="100.00",
            paid="20.00",
            issue_date=TODAY - dt.timedelta(days=45),
            status=InvoiceStatus.PARTIALLY_PAID,
        )
        make_invoice(s, client_id=cid, created_by=me, total="50.00", issue_date=TODAY - dt.timedelta(days=5))
        make_invoice(
            s,
            client_id=cid,
            created_by=me,
            total="70.00",
            paid="70.00",
            issue_date=TODAY - dt.timedelta(days=90),
            status=InvoiceStatus.PAID,
        )
        make_invoice(
            s,
            client_id=cid,
            created_by=me,
            total="999.00",
            issue_date=TODAY - dt.timedelta(days=90),
            status=InvoiceStatus.VOID,
        )
        # The insurer owes 300.00 - 25.00 adjusted on this client's invoice.
        make_invoice(
            s,
            client_id=cid,
            created_by=me,
            total="300.00",
            adjusted="25.00",
            payer_id=payer,
            issue_date=TODAY - dt.timedelta(days=10),
        )
        # Another client's debt never shows here.
        make_invoice(
            s, client_id=other, created_by=me, total="400.00", issue_date=TODAY - dt.timedelta(days=60)
        )
        return cid

    cid = office.db.write(setup)
    h = office.db.read(lambda s: clients.account_summary(office.clerk, s, cid))
    assert h.balance == Decimal("130.00")
    assert h.overdue == Decimal("80.00")
    assert h.payer_balance == Decimal("275.00")
    assert h.open_invoices == 3
