"""Screens read at 80×24 as a person sees them (issue 12): nothing important cut off the edge,
nothing said twice."""

from __future__ import annotations

from textual.widgets import Static

from billing import clients
from scheduling import shifts
from screens.clerk.client_account import ClientAccountScreen
from screens.clerk.my_day import MyDayScreen
from tests.conftest import Office
from tests.pilot import screen_text, settle, wait_until
from tests.tui.conftest import make_app
from tests.tui.test_billing_screens_support import make_billing
from tests.tui.test_footer import terminal_lines
from tests.tui.test_schedule_screens import MON, open_grid, setup_office
from tui.app import ClerkDeskApp


async def test_coverage_table_shows_cost_sharing_at_80x24(office: Office) -> None:
    b = make_billing(office)  # [Smith], Alex: Bluewater, copay 10.00, 20 %, deductible 500.00, 0 left
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ClientAccountScreen(b.brackets))
        await settle(pilot)
        text = "\n".join(terminal_lines(app))
        for shown in ("Copay", "Coins", "Deductible", "$10.00", "20%", "$0.00 left", "of $500.00", "BW900"):
            assert shown in text, (shown, text)
        for shown in ("Bluewater Health Plan", "primary · BW900", "2026-01-01", "STALE", "76 days old"):
            assert shown in text.split("Coverage  Services")[1], shown  # in the table, not only the header


def time_panel_lines(app: ClerkDeskApp) -> list[str]:
    """The visible lines of the clerk's "My time" panel."""
    panel = app.screen.query_one("#time-panel")
    return [
        line
        for w in panel.query(Static)
        if w.display
        for line in str(w.render()).splitlines()
        if line.strip()
    ]


async def test_my_day_says_clocked_in_once(office: Office) -> None:
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MyDayScreen)
        await pilot.press("i")
        await settle(pilot)
        lines = time_panel_lines(app)
        assert [line for line in lines if "locked in" in line] == ["Clocked in since 10:00"], lines
        await pilot.press("i")  # a refusal is said on its own line, once
        await settle(pilot)
        lines = time_panel_lines(app)
        assert [line for line in lines if "NOT RECORDED" in line] != []
        assert len([line for line in lines if line.startswith("Clocked in")]) == 1
        await pilot.press("o")  # a punch that works takes the refusal away
        await wait_until(
            pilot, lambda: any("locked out" in x for x in time_panel_lines(app)), "the clock-out shown"
        )
        lines = time_panel_lines(app)
        assert not [line for line in lines if "NOT RECORDED" in line], lines
        assert [line for line in lines if "locked out" in line] == ["Clocked out at 10:00"], lines


async def test_counts_of_one_are_singular(office: Office) -> None:
    office.db.write(lambda s: clients.register_client(office.clerk, s, first_name="Ana", last_name="Lee"))
    app = make_app(office, "clerk")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "You own 1 account." in screen_text(app)


async def test_copying_one_shift_says_shift(office: Office) -> None:
    setup_office(office)
    office.db.write(lambda s: shifts.set_cell(office.sup, s, "cleo", MON, "E", expected_version=None))
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_grid(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert "Copied 1 shift from" in str(screen.query_one("#sched-status").render())
