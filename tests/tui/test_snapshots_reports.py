"""Snapshots of the report screens and a busy dashboard (frozen clock, generated office data).

Update after an intended visual change with
``pytest tests/tui/test_snapshots_reports.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Office
from tests.pilot import settle
from tests.reports.test_output import generate
from tests.tui.conftest import make_app
from tests.tui.test_report_screens import _pending

SIZES = [(80, 24), (160, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_reports_month(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    generate(office)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g", "r")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("down", "right", "right")  # Cleo's invoices issued
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=go)


def test_dashboard_with_pending_decisions(snap_compare: Any, office: Office) -> None:
    import datetime as dt

    from scheduling import shifts

    monday = dt.date(2026, 11, 16)

    def roster(a: Any, s: Any) -> None:
        shifts.add_shift_type(a, s, code="E", name="Early", start_time=dt.time(7), minutes=480)
        shifts.set_cell(a, s, "cleo", monday, "E", expected_version=None)
        shifts.set_cell(a, s, "carl", monday, "E", expected_version=None)
        shifts.publish(a, s, monday, monday)

    office.db.write(lambda s: roster(office.sup, s))
    _pending(office)
    assert snap_compare(make_app(office, "sup"), terminal_size=(80, 24), run_before=settle)


def test_my_output(snap_compare: Any, office: Office) -> None:
    generate(office)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g", "v")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=(80, 24), run_before=go)
