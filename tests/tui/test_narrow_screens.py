"""Screens read at 80×24 as a person sees them (issue 12): nothing important cut off the edge,
nothing said twice."""

from __future__ import annotations

from screens.clerk.client_account import ClientAccountScreen
from tests.conftest import Office
from tests.tui.conftest import make_app
from tests.tui.test_billing_screens_support import make_billing, settle
from tests.tui.test_footer import terminal_lines


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
