"""Time off by keyboard: a clerk asks and cancels, a supervisor approves or declines with a reason;
bad and hostile input is refused with a clear message and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from db.models import RequestStatus, TimeOffRequest
from scheduling import shifts, timeoff
from screens.clerk.time_off_request import TimeOffRequestScreen
from screens.supervisor.time_off_approval import DecisionDialog, TimeOffApprovalScreen
from tests.conftest import Office
from tests.pilot import fill, screen_text, settle
from tests.tui.conftest import make_app
from tests.tui.test_schedule_screens import NEXT, setup_office
from tui.widgets.confirm import ConfirmDialog

HOSTILE = "[bold]x[/] '; DROP TABLE time_off_requests; --"


def requests(office: Office) -> list[tuple[str, dt.date, dt.date, str, str, str]]:
    rows = office.db.read(lambda s: list(s.scalars(sa.select(TimeOffRequest).order_by(TimeOffRequest.id))))
    return [
        (str(r.user_id), r.start_date, r.end_date, r.reason, r.status.value, r.decision_reason) for r in rows
    ]


async def open_screen(pilot: Any, key: str) -> Any:
    await settle(pilot)
    await pilot.press("g", key)
    await settle(pilot)
    return pilot.app.screen


async def test_clerk_asks_for_time_off_sees_it_and_cancels_it(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "o")
        assert isinstance(screen, TimeOffRequestScreen)
        assert "You have not asked for time off yet" in screen_text(app)
        await fill(pilot, "start_date", "2026-11-26")
        await fill(pilot, "end_date", "2026-11-27")
        await fill(pilot, "reason", HOSTILE)
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = requests(office)
        assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
            (dt.date(2026, 11, 26), dt.date(2026, 11, 27), HOSTILE, "requested")
        ]
        text = screen_text(app)
        assert "Thu 26 Nov 2026 – Fri 27 Nov 2026" in text
        assert HOSTILE in text  # shown literally, never as markup
        # Cancel it from the list (c types into the form; it acts from the list).
        screen.query_one("#to-list").focus()
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "request #" in screen_text(
            app
        ) and "Thu 26 Nov 2026 – Fri 27 Nov 2026 (2 days)" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert requests(office)[0][4] == "cancelled"
        assert "cancelled" in screen_text(app)
        # A cancelled request cannot be cancelled again.
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, TimeOffRequestScreen)


async def test_clerk_bad_dates_are_refused_and_nothing_is_stored(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "o")
        assert isinstance(screen, TimeOffRequestScreen)
        await pilot.press("ctrl+s")  # empty form
        await settle(pilot)
        text = screen_text(app)
        assert "First day off is required" in text and "Last day off is required" in text
        await fill(pilot, "start_date", "26/11/2026")
        await fill(pilot, "end_date", "2026-11-27")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'26/11/2026' is not a date (YYYY-MM-DD)" in screen_text(app)
        # The service's refusals land on the right field; what was typed stays.
        await fill(pilot, "start_date", "2026-11-27")
        await fill(pilot, "end_date", "2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "2026-11-20 is before the first day 2026-11-27" in screen_text(app)
        assert screen.query_one("#input-end_date").value == "2026-11-20"  # type: ignore[attr-defined]
        # The form's problem line says so and the cursor is on the wrong field (the form base).
        assert "Some fields need fixing (marked below)" in screen_text(app)
        assert app.focused is screen.query_one("#input-end_date")
        await fill(pilot, "start_date", "2026-11-02")
        await fill(pilot, "end_date", "2026-11-03")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "2026-11-02 is in the past" in screen_text(app)
        await fill(pilot, "start_date", "2026-12-01")
        await fill(pilot, "end_date", "2027-03-01")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "at most 60 days in one request" in screen_text(app)
        await fill(pilot, "start_date", "99999-12-01")
        await fill(pilot, "end_date", "2026-12-02")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'99999-12-01' is not a date (YYYY-MM-DD)" in screen_text(app)
        assert requests(office) == []


async def test_supervisor_approves_and_sees_the_clash_with_the_schedule(office: Office) -> None:
    setup_office(office)
    office.db.write(
        lambda s: shifts.set_cell(
            office.sup, s, "cleo", NEXT + dt.timedelta(days=1), "E", expected_version=None
        )
    )
    r = office.db.write(
        lambda s: timeoff.request_time_off(office.clerk, s, NEXT, NEXT + dt.timedelta(days=2), "dentist")
    )
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "f")
        assert isinstance(screen, TimeOffApprovalScreen)
        text = screen_text(app)
        assert "Cleo Clerk" in text and "Mon 23 Nov – Wed 25 Nov 2026" in text
        assert "yes: 1 day" in text
        assert "already scheduled on Tue 24 Nov" in text
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DecisionDialog)
        assert "fixed days off" in screen_text(app)
        await pilot.press(*"enjoy")
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = office.db.read(lambda s: s.get(TimeOffRequest, r.id))
        assert (row.status, row.decision_reason) == (RequestStatus.APPROVED, "enjoy")
        assert isinstance(app.screen, TimeOffApprovalScreen)
        assert "No requests are waiting for a decision" in screen_text(app)
        await pilot.press("h")  # decided ones too
        await settle(pilot)
        assert "approved" in screen_text(app)
        await pilot.press("a")  # already decided: refused before any dialog
        await settle(pilot)
        assert isinstance(app.screen, TimeOffApprovalScreen)


async def test_decline_needs_a_reason_and_hostile_text_is_kept_literally(office: Office) -> None:
    r = office.db.write(lambda s: timeoff.request_time_off(office.clerk2, s, NEXT, NEXT, "long weekend"))
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "f")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DecisionDialog)
        await pilot.press("ctrl+s")  # no reason
        await settle(pilot)
        assert "Why it is declined is required" in screen_text(app)
        await pilot.press("space", "space", "ctrl+s")  # blanks are no reason either
        await settle(pilot)
        assert "Why it is declined is required" in screen_text(app)
        assert office.db.read(lambda s: s.get(TimeOffRequest, r.id)).status == RequestStatus.REQUESTED
        await fill(pilot, "reason", HOSTILE)
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = office.db.read(lambda s: s.get(TimeOffRequest, r.id))
        assert (row.status, row.decision_reason) == (RequestStatus.DECLINED, HOSTILE)
        await pilot.press("h")
        await settle(pilot)
        assert HOSTILE in screen_text(app)


async def test_escape_leaves_a_request_undecided(office: Office) -> None:
    r = office.db.write(lambda s: timeoff.request_time_off(office.clerk3, s, NEXT, NEXT, ""))
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "f")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TimeOffApprovalScreen)
        assert office.db.read(lambda s: s.get(TimeOffRequest, r.id)).status == RequestStatus.REQUESTED
        assert "(none given)" in screen_text(app)
