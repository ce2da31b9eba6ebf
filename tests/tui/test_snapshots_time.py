"""Snapshots of the time screens at 80×24 and 160×50: the supervisor's signing queue and one
card, and a clerk's timecard. Frozen clock (Mon 16 Nov 2026), data made through the services.

Update after an intended visual change with ``--snapshot-update`` and look at the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from scheduling import timecards
from screens.clerk.my_timecard import MyTimecardScreen
from screens.supervisor.timecards import CardScreen, TimecardsScreen
from tests.conftest import Office
from tests.pilot import settle
from tests.scheduling.factories_time import add_shift, work
from tests.tui.conftest import make_app
from tests.tui.test_time_screens import LAST_WEEK

SIZES = [(80, 24), (160, 50)]


def last_week(office: Office) -> None:
    """Cleo: a full week with a late Tuesday and lunch breaks; Carl: clean; Cora: an absence."""
    for i, day in enumerate(("2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13")):
        add_shift(office.db, office.clerk, day, by=office.sup, start="08:00", minutes=510, unpaid_break=30)
        start = "08:12" if i == 1 else "07:58"
        work(
            office.db,
            office.clerk,
            f"{day} {start}",
            f"{day} 16:31",
            breaks=((f"{day} 12:00", f"{day} 12:30"),),
        )
    add_shift(office.db, office.clerk2, "2026-11-09", by=office.sup, code="E")
    work(office.db, office.clerk2, "2026-11-09 08:00", "2026-11-09 16:00")
    add_shift(office.db, office.clerk3, "2026-11-09", by=office.sup, code="E")
    add_shift(office.db, office.clerk3, "2026-11-10", by=office.sup, code="E")
    work(office.db, office.clerk3, "2026-11-10 08:01", "2026-11-10 16:00")
    for who in (office.clerk, office.clerk2, office.clerk3):
        office.db.write(lambda s, w=who: timecards.submit_timecard(w, s, LAST_WEEK, "Tuesday: bus was late"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_signing_queue(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    last_week(office)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(TimecardsScreen())
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_card_detail(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    last_week(office)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(CardScreen(office.clerk.user_id, LAST_WEEK))
        await settle(pilot)
        await pilot.press("down")  # Tuesday, the late day
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_clerk_timecard(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    last_week(office)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(MyTimecardScreen(LAST_WEEK))
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)
