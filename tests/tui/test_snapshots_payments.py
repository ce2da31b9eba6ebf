"""Snapshots of the payment form, the plan set-up and batch posting at 80×24 and 160×50.

Frozen clock, data made through the services (``tests.tui.test_payment_screens.make_books``).
Update after an intended visual change with ``--snapshot-update`` and look at the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from screens.clerk.batch_post import BatchPostScreen
from screens.clerk.payment_post import PaymentPostScreen
from screens.clerk.plan_setup import PlanSetupScreen
from tests.conftest import Office
from tests.pilot import replace, steady
from tests.tui.conftest import make_app
from tests.tui.test_payment_screens import make_books, open_screen

SIZES = [(80, 24), (160, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_payment_form(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    books = make_books(office)

    async def go(pilot: Any) -> None:
        await open_screen(pilot, PaymentPostScreen(client_id=books.garcia))
        await replace(pilot, "#input-amount", "200.00")
        await replace(pilot, "#input-reference", "1001")
        await steady(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plan_setup(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    books = make_books(office)

    async def go(pilot: Any) -> None:
        await open_screen(pilot, PlanSetupScreen(books.smith))
        await replace(pilot, "#input-count", "3")
        await steady(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_posting(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    make_books(office)

    async def go(pilot: Any) -> None:
        await open_screen(pilot, BatchPostScreen())
        await replace(pilot, "#input-control", "250.00")
        await replace(pilot, "#input-count", "2")
        await steady(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)
