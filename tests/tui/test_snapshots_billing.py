"""Snapshots of the clerk's billing screens at 80×24 and 160×50 (frozen clock, fixed office).

Update after an intended visual change with
``pytest tests/tui/test_snapshots_billing.py --snapshot-update`` and look at the report first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from billing import coverage, invoices
from db.models import CoverageRank, EligibilityResult
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.client_search import ClientSearchScreen
from screens.clerk.invoice_view import InvoiceViewScreen
from tests.conftest import Office
from tests.pilot import settle, steady
from tests.tui.conftest import make_app
from tests.tui.test_billing_screens_support import TODAY, add_services, make_billing

SIZES = [(80, 24), (160, 50)]


def billed_office(office: Office) -> tuple[int, int]:
    """Smith, John covered by Bluewater, checked today, two services billed and issued."""
    b = make_billing(office)
    clerk = office.clerk

    def cover(s: Session) -> None:
        cov = coverage.add_coverage(
            clerk,
            s,
            b.smith,
            payer_id=b.bluewater,
            rank=CoverageRank.PRIMARY,
            member_id="W123 456",
            group_number="G77",
            effective_from=dt.date(2026, 1, 1),
            copay="20.00",
            coinsurance_percent="20",
            deductible="100.00",
            deductible_remaining="50.00",
        )
        coverage.record_eligibility_check(
            clerk, s, cov.id, result=EligibilityResult.ELIGIBLE, checked_on=TODAY
        )

    office.db.write(cover)
    add_services(office, clerk, b.smith, ("G0439", 1), ("G0008", 2))

    def bill(s: Session) -> int:
        drafts = invoices.build_invoices(clerk, s, b.smith).drafts
        return invoices.issue_drafts(clerk, s, [d.id for d in drafts])[0].id

    return b.smith, office.db.write(bill)


def opened(screen: Any) -> Any:
    async def go(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(screen())
        await steady(pilot)

    return go


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_client_search(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    billed_office(office)
    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=opened(ClientSearchScreen))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_client_account(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    client_id, _ = billed_office(office)
    app = make_app(office, "clerk")
    assert snap_compare(app, terminal_size=size, run_before=opened(lambda: ClientAccountScreen(client_id)))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoice_view(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    _, invoice_id = billed_office(office)
    app = make_app(office, "clerk")
    assert snap_compare(app, terminal_size=size, run_before=opened(lambda: InvoiceViewScreen(invoice_id)))
