"""Snapshots of the daily assignment screens: the supervisor's assignment screen after an
auto-assign with two items marked, and the clerk's published list with one item finished, at
80×24 and 160×50 (frozen clock, fixed test office). Update with ``--snapshot-update`` after an
intended change and look at them."""

from __future__ import annotations

from typing import Any

import pytest

from db.models import WorkOutcome
from scheduling import work_items, work_plan
from tests.conftest import Office
from tests.pilot import settle
from tests.tui.conftest import make_app
from tests.tui.test_assignment_screens import TODAY, plan_and_publish, setup_day

SIZES = [(80, 24), (160, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_assignment(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    setup_day(office)
    sup = office.sup

    def plan(s: Any) -> None:
        work_items.generate_items(sup, s, TODAY)
        work_plan.apply_plan(sup, s, work_plan.preview_auto_assign(sup, s, TODAY))

    office.db.write(plan)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g", "w")
        await settle(pilot)
        await pilot.press("space", "space")  # two items marked, the third highlighted
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_my_list(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    setup_day(office)
    plan_and_publish(office)
    clerk = office.clerk

    def finish_first(s: Any) -> None:
        first = work_items.my_day(clerk, s, TODAY).items[0]
        work_items.finish_item(clerk, s, first.id, first.version, WorkOutcome.PROMISE_TO_PAY, "by Friday")

    office.db.write(finish_first)

    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)

    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=go)
