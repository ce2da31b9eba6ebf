"""Pinning a day off on the schedule grid (issue 12): O on a cell pins the clerk's day off (and
unpins it); the cell shows it, the database keeps it, and the roster builder leaves it empty."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from db.models import DayOffPin, User
from scheduling import shifts
from tests.conftest import Office
from tests.pilot import screen_text
from tests.tui.conftest import make_app
from tests.tui.test_schedule_screens import (
    NEXT_DAYS,
    build,
    goto_cell,
    grid_cells,
    open_grid,
    row_text,
    settle,
    setup_office,
)


def pins(office: Office) -> set[tuple[str, dt.date]]:
    rows = office.db.read(
        lambda s: s.execute(
            sa.select(User.login, DayOffPin.day).join(User, User.id == DayOffPin.user_id)
        ).all()
    )
    return {(lg, d) for lg, d in rows}


async def test_pin_a_day_off_by_key_store_it_and_the_builder_leaves_it_empty(office: Office) -> None:
    setup_office(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_grid(pilot)
        # cleo already works Monday by hand: pinning the day off takes the shift away.
        office.db.write(
            lambda s: shifts.set_cell(office.sup, s, "cleo", NEXT_DAYS[0], "E", expected_version=None)
        )
        screen.reload()
        await settle(pilot)
        pinned = {("cleo", d) for d in NEXT_DAYS[:3]}  # Mon–Wed: she would work 4 of 5 days
        for _, day in sorted(pinned):
            await goto_cell(pilot, screen, "cleo", day)
            await pilot.press("O")
            await settle(pilot)
        assert pins(office) == pinned
        assert ("cleo", NEXT_DAYS[0]) not in grid_cells(office)
        assert row_text(screen, "cleo")[1:4] == [" ·+"] * 3
        assert "day off pinned" in str(screen.query_one("#detail-text").render())
        assert "pinned" in str(screen.query_one("#sched-status").render())

        await pilot.press("b")
        await settle(pilot)
        assert "3 pinned days off (·+) stay empty." in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await build(pilot)
        built = grid_cells(office)
        assert built  # the others got a roster
        assert not pinned & set(built)
        assert pins(office) == pinned  # a build never removes a pin
        assert "cleo" in {lg for lg, _ in built}  # she still works Thursday or Friday

        # O again unpins: the next build may put a shift there again.
        await goto_cell(pilot, screen, "cleo", NEXT_DAYS[2])
        await pilot.press("O")
        await settle(pilot)
        assert pins(office) == pinned - {("cleo", NEXT_DAYS[2])}
        assert row_text(screen, "cleo")[3] in (" ·", " ~")
        assert "unpinned" in screen_text(app)

        # Typing a shift code on a pinned day replaces the pin (the latest decision wins).
        await goto_cell(pilot, screen, "cleo", NEXT_DAYS[1])
        await pilot.press("l")
        await settle(pilot)
        assert pins(office) == {("cleo", NEXT_DAYS[0])}
        assert grid_cells(office)[("cleo", NEXT_DAYS[1])] == ("L", "draft", True)
