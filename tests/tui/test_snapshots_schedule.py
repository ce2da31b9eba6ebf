"""Snapshots of the schedule screens: the grid (a week at 80×24, four weeks at 160×50) and the
clerk's schedule. Update with ``--snapshot-update`` after an intended change and look at them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from scheduling import shifts, timeoff
from tests.conftest import Office
from tests.pilot import settle
from tests.tui.conftest import make_app
from tests.tui.test_schedule_screens import NEXT, setup_office


def fill(office: Office) -> None:
    """Next week by hand (no solver, so the picture never moves): published and draft shifts, a
    hand edit, an early-after-late break, approved time off and the coverage gaps that leaves."""
    sup = office.sup
    day = [NEXT + dt.timedelta(days=k) for k in range(7)]
    office.db.write(lambda s: timeoff.record_time_off(sup, s, "cora", day[2], day[2], "dentist"))
    cells = [
        ("cleo", 0, "E", True),
        ("cleo", 1, "E", True),
        ("cleo", 2, "L", True),
        ("cleo", 3, "L", False),
        ("carl", 0, "L", True),
        ("carl", 1, "E", True),
        ("carl", 4, "L", False),
        ("cora", 0, "E", True),
        ("cora", 4, "E", True),
    ]
    for login, k, code, fixed in cells:
        office.db.write(
            lambda s, lg=login, d=day[k], c=code, f=fixed: shifts.set_cell(
                sup, s, lg, d, c, expected_version=None, fixed=f
            )
        )
    office.db.write(lambda s: shifts.publish(sup, s, day[0], day[0]))


def _grid(weeks: int) -> Any:
    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g", "e")
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        if weeks == 4:
            await pilot.press("v")
            await settle(pilot)
        await pilot.press("down", "right")  # carl, Tuesday: the broken rule, explained in the panel
        await settle(pilot)

    return go


def test_grid_week(snap_compare: Any, office: Office) -> None:
    setup_office(office)
    fill(office)
    assert snap_compare(make_app(office, "sup"), terminal_size=(80, 24), run_before=_grid(1))


def test_grid_four_weeks(snap_compare: Any, office: Office) -> None:
    setup_office(office)
    fill(office)
    assert snap_compare(make_app(office, "sup"), terminal_size=(160, 50), run_before=_grid(4))


def test_grid_week_wide(snap_compare: Any, office: Office) -> None:
    setup_office(office)
    fill(office)
    assert snap_compare(make_app(office, "sup"), terminal_size=(160, 50), run_before=_grid(1))


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_my_schedule(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    setup_office(office)
    fill(office)
    office.db.write(lambda s: shifts.publish(office.sup, s, NEXT, NEXT + dt.timedelta(days=6)))

    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g", "y")
        await settle(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)
