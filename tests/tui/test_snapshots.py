"""Snapshots of the main screens at 80×24 and 160×50 (frozen clock, fixed test office).

Update after an intended visual change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Office
from tests.pilot import settle
from tests.tui.conftest import make_app

SIZES = [(80, 24), (160, 50)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_my_day(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(office, "clerk"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_staff(snap_compare: Any, office: Office, size: tuple[int, int]) -> None:
    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=size, run_before=go)


def test_help(snap_compare: Any, office: Office) -> None:
    async def go(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(office, "sup"), terminal_size=(80, 24), run_before=go)
