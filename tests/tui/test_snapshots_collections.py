"""Snapshots of the collections worklist and the dispute queue at 80×24 and 160×50 (frozen
clock, fixed office: three overdue accounts, a promise to pay, an open dispute).

Update after an intended visual change with
``pytest tests/tui/test_snapshots_collections.py --snapshot-update`` and look at the report first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from billing import contacts, disputes
from screens.clerk.collections_worklist import CollectionsWorklistScreen
from screens.supervisor.dispute_queue import DisputeQueueScreen
from tests.conftest import Office
from tests.pilot import steady, wait_until
from tests.tui.conftest import make_app
from tests.tui.test_collections_screens import make_desk
from tests.tui.test_snapshots_billing import opened

SIZES = [(80, 24), (160, 50)]


def collections_office(office: Office) -> None:
    desk = make_desk(office)
    clerk = office.clerk

    def work(s: Session) -> None:
        contacts.log_contact(
            clerk,
            s,
            client_id=desk.doe,
            channel="phone",
            direction="outbound",
            outcome="promise_to_pay",
            notes="pays after payday",
            promise_amount="50.00",
            promise_date=dt.date(2026, 11, 30),
        )
        disputes.open_dispute(
            clerk,
            s,
            invoice_id=desk.doe_inv,
            reason="amount_differs",
            description="[Smith] quoted 125.00 for the visit",
            line_no=1,
        )

    office.db.write(work)


def queue_opened(pilot_screen: Any) -> Any:
    go = opened(pilot_screen)

    async def run(pilot: Any) -> None:
        await go(pilot)
        await wait_until(  # the detail beside the list follows the cursor on a short timer
            pilot,
            lambda: "Dispute #1" in str(pilot.app.screen.query_one("#dispute-history-text").render()),
            "the detail of dispute #1",
        )
        await steady(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_worklist(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    collections_office(office)
    app = make_app(office, "clerk")
    assert snap_compare(app, terminal_size=size, run_before=opened(CollectionsWorklistScreen))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dispute_queue(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    collections_office(office)
    app = make_app(office, "sup")
    assert snap_compare(app, terminal_size=size, run_before=queue_opened(DisputeQueueScreen))
