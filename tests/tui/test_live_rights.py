"""Rights are live (issue 11): a deactivation or a new role reaches an open session within
seconds (the app re-reads its user every RIGHTS_CHECK_SECONDS), and a write after it is refused
inside its own transaction, before it changes anything."""

from __future__ import annotations

import time
from typing import Any

import pytest

from db.live_rights import RightsChanged, check_actor
from db.models import Role
from db.rights import SYSTEM
from db.settings import get_setting, put_setting
from scheduling import staff
from tests.conftest import Office
from tests.pilot import settle, wait_until
from tests.tui.conftest import make_app
from tui.app import ClerkDeskApp
from tui.identity import ROOT


async def wait_until_closed(pilot: Any, app: ClerkDeskApp, seconds: float = 5.0) -> float:
    """Let the app's timer run (up to ``seconds``); return how long until it asked to close."""
    start = time.monotonic()
    await wait_until(pilot, lambda: app.return_code is not None, "the app to ask to close", timeout=seconds)
    return time.monotonic() - start


def exit_message(app: ClerkDeskApp) -> str:
    return f"ClerkDesk: {app.closed_because}."  # what rights_lost prints on the terminal


def test_check_actor(office: Office) -> None:
    office.db.read(lambda s: check_actor(s, office.clerk))  # active, same role: nothing to say
    office.db.read(lambda s: check_actor(s, ROOT))  # the machine's administrator is not a row
    office.db.read(lambda s: check_actor(s, SYSTEM))
    office.db.write(lambda s: staff.edit_user(office.sup, s, "carl", role=Role.SUPERVISOR))
    with pytest.raises(RightsChanged, match="carl is now a supervisor, no longer a clerk"):
        office.db.read(lambda s: check_actor(s, office.clerk2))
    office.db.write(lambda s: staff.deactivate_user(office.sup, s, "cleo"))
    with pytest.raises(RightsChanged, match="cleo has been deactivated"):
        office.db.read(lambda s: check_actor(s, office.clerk))


async def test_a_deactivated_clerks_app_says_so_and_closes(office: Office) -> None:
    app = make_app(office, "clerk")
    app.RIGHTS_CHECK_SECONDS = 0.2
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.return_code is None
        office.db.write(lambda s: staff.deactivate_user(office.sup, s, "cleo"))
        waited = await wait_until_closed(pilot, app)
    assert app.return_code == 1, f"still open {waited:.1f} s after the deactivation"
    assert waited < 2.0
    assert exit_message(app) == "ClerkDesk: cleo has been deactivated; ClerkDesk closes."


async def test_a_demoted_supervisors_app_closes(office: Office) -> None:
    app = make_app(office, "sup")
    app.RIGHTS_CHECK_SECONDS = 0.2
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        office.db.write(lambda s: staff.edit_user(office.sup2, s, "sam", role=Role.CLERK))
        await wait_until_closed(pilot, app)
    assert app.return_code == 1
    assert "sam is now a clerk, no longer a supervisor" in exit_message(app)


async def test_a_write_after_deactivation_is_refused_before_it_changes_anything(office: Office) -> None:
    app = make_app(office, "sup")
    app.RIGHTS_CHECK_SECONDS = 0  # no timer: only the write transaction's own check
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        office.db.write(lambda s: staff.deactivate_user(office.sup2, s, "sam"))
        app.screen.db_call(lambda s: put_setting(s, "office.name", "Renamed"), write=True)  # type: ignore[attr-defined]
        await wait_until_closed(pilot, app)
    assert app.return_code == 1
    assert "sam has been deactivated" in exit_message(app)
    assert office.db.read(lambda s: get_setting(s, "office.name")) == "ClerkDesk Billing Office"
