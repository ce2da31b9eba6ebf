"""The grid's build says why the builder stopped (issue 12): time ran out, or no roster at all."""

from __future__ import annotations

import pytest

from scheduling import shifts
from tests.conftest import Office
from tests.pilot import settle
from tests.scheduling.test_build_stop_reason import time_runs_out
from tests.tui.conftest import make_app
from tests.tui.test_schedule_screens import build, open_grid, setup_office


async def test_build_result_says_time_ran_out(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_office(office)
    time_runs_out(monkeypatch)
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_grid(pilot)
        text = await build(pilot)
        assert "Time ran out; this is the best roster found so far." in text


async def test_build_result_says_no_roster_satisfies_every_rule(office: Office) -> None:
    setup_office(office)
    office.db.write(
        lambda s: shifts.set_rule(office.sup, s, login="cleo", min_minutes=1920, fixed_days_off=range(6))
    )
    app = make_app(office, "sup")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_grid(pilot)
        text = await build(pilot)
        assert "No roster satisfies every rule: Cleo" in text
        await settle(pilot)
