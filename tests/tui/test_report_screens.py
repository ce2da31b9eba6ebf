"""Report screens by keys: period picker, sort, drill-down, export; the dashboard's counters and
approvals inbox; a clerk's own view. Figures are checked against the report service, files
against the export renderer, and the database is checked unchanged by an export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from db.models import Timecard, TimecardStatus
from reports.export import render
from reports.output import FIGURES, output_report
from screens.clerk.my_output import MyOutputScreen
from screens.common.report_drill import DrillScreen
from screens.supervisor.dashboard import COLUMNS, COUNTERS, DashboardScreen
from screens.supervisor.reports import ReportsScreen, TrendsScreen
from tests.conftest import Office
from tests.pilot import screen_text, settle
from tests.reports.test_output import generate
from tests.tui.conftest import make_app


def title(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def table_rows(app: Any, selector: str) -> list[list[str]]:
    t = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def names(rows: list[list[str]]) -> list[str]:
    """The clerk column without the reader's own "(you)" mark."""
    return [r[0].removesuffix(" (you)") for r in rows]


def column(name: str) -> int:
    return 1 + [f.key for f in FIGURES].index(name)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


async def open_reports(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("g", "r")
    await settle(pilot)


async def test_period_keys_show_each_periods_figures(office: Office) -> None:
    generate(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        await open_reports(pilot)
        assert isinstance(app.screen, ReportsScreen)
        # The frozen clock is Monday 16 Nov 2026: the week holding it.
        assert "week 2026-11-16 – 2026-11-22" in title(app, "#rep-title")
        steps = [
            (
                "left_square_bracket",
                "week 2026-11-09 – 2026-11-15",
                dt.date(2026, 11, 9),
                dt.date(2026, 11, 15),
            ),
            (
                "left_square_bracket",
                "week 2026-11-02 – 2026-11-08",
                dt.date(2026, 11, 2),
                dt.date(2026, 11, 8),
            ),
            ("m", "November 2026", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
            ("left_square_bracket", "October 2026", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
            ("d", "Thu 01 Oct 2026", dt.date(2026, 10, 1), dt.date(2026, 10, 1)),
            ("right_square_bracket", "Fri 02 Oct 2026", dt.date(2026, 10, 2), dt.date(2026, 10, 2)),
            ("w", "week 2026-09-28 – 2026-10-04", dt.date(2026, 9, 28), dt.date(2026, 10, 4)),
        ]
        for key, label, start, end in steps:
            await pilot.press(key)
            await settle(pilot)
            assert label in title(app, "#rep-title"), (key, title(app, "#rep-title"))
            rep = office.db.read(lambda s, a=start, b=end: output_report(office.sup, s, a, b))
            rows = table_rows(app, "#rep-table")
            assert rep.team is not None and rows[-1][0] == "Team total"
            assert rows[-1][column("contacts")] == str(rep.team.contacts)
            assert rows[-1][column("collected")] == f"${rep.team.collected:,.2f}"
            assert [r[0] for r in rows[:-1]] == [
                r.name + (" (you)" if r.login == "sam" else "") for r in rep.rows
            ]


async def test_sort_by_any_column_both_ways(office: Office) -> None:
    generate(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        await open_reports(pilot)
        await pilot.press("m")  # November: everybody has figures
        await settle(pilot)
        rep = office.db.read(
            lambda s: output_report(office.sup, s, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        )
        for _ in range(column("collected")):
            await pilot.press("right")
        await pilot.press("s")
        await pilot.pause()
        by_name = sorted(rep.rows, key=lambda r: r.name.casefold())  # ties stay by name both ways
        want = [r.name for r in sorted(by_name, key=lambda r: r.collected, reverse=True)]
        rows = table_rows(app, "#rep-table")
        assert names(rows[:-1]) == want
        assert rows[-1][0] == "Team total"  # the total stays last
        assert "by Collected ↓" in title(app, "#rep-title")
        await pilot.press("s")
        await pilot.pause()
        want_up = [r.name for r in sorted(by_name, key=lambda r: r.collected)]
        assert names(table_rows(app, "#rep-table")[:-1]) == want_up
        assert "by Collected ↑" in title(app, "#rep-title")
        # Back to the name column: alphabetical.
        for _ in range(column("collected")):
            await pilot.press("left")
        await pilot.press("s")
        await pilot.pause()
        assert names(table_rows(app, "#rep-table")[:-1]) == sorted(want, key=str.casefold)


async def test_drill_down_to_the_rows_and_page(office: Office) -> None:
    generate(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        await open_reports(pilot)
        await pilot.press("m")
        await settle(pilot)
        rep = office.db.read(
            lambda s: output_report(office.sup, s, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        )
        names = [r[0] for r in table_rows(app, "#rep-table")]
        carl = next(r for r in rep.rows if r.login == "carl")
        for _ in range(names.index("Carl Clerk")):
            await pilot.press("down")
        for _ in range(column("collected")):
            await pilot.press("right")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DrillScreen)
        assert "Carl Clerk" in title(app, "#drill-title") and "November 2026" in title(app, "#drill-title")
        rows = table_rows(app, "#drill-rows DataTable")
        assert {r[-1] for r in rows} == {"carl"}
        assert sum(Decimal(r[1].strip("$").replace(",", "")) for r in rows) == carl.collected
        await pilot.press("escape")
        await settle(pilot)
        # The team row's contacts: everybody's, more than one page of 50.
        assert isinstance(app.screen, ReportsScreen)
        for _ in range(len(names)):
            await pilot.press("down")
        for _ in range(column("contacts") - column("collected")):
            await pilot.press("right")
        await pilot.press("enter")
        await settle(pilot)
        assert "everybody" in title(app, "#drill-title")
        assert rep.team is not None and rep.team.contacts > 50
        seen = table_rows(app, "#drill-rows DataTable")
        assert len(seen) == 50
        await pilot.press("n")  # the next page, fetched by key
        await settle(pilot)
        second = table_rows(app, "#drill-rows DataTable")
        assert len(seen) + len(second) == rep.team.contacts and seen[0] != second[0]
        assert "page 2" in str(app.screen.query_one(".paged-status", Static).render())


async def test_export_markdown_and_csv_refuses_an_existing_file(office: Office, home: Path) -> None:
    generate(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(160, 50)) as pilot:
        await open_reports(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("e")
        await pilot.press("c")
        await settle(pilot)
        rep = office.db.read(
            lambda s: output_report(office.sup, s, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        )
        md = app.exports / "output-team-2026-11.md"
        csv = app.exports / "output-team-2026-11.csv"
        assert md.read_text() == render(rep, "md")
        assert csv.read_text() == render(rep, "csv")
        assert oct(md.stat().st_mode & 0o777) == "0o600"
        md.write_text("kept")
        await pilot.press("e")
        await settle(pilot)
        assert md.read_text() == "kept"  # never overwritten
        messages = [str(n.message) for n in app._notifications]
        assert any("output-team-2026-11.md exists; choose a new file name" in m for m in messages)
        # A drill-down's rows export too.
        await pilot.press("down", "right", "right")  # a clerk's Issued
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        files = sorted(p.name for p in app.exports.iterdir())
        assert any(f.startswith("invoices-") and f.endswith("-2026-11.csv") for f in files), files


async def test_trends_screen_has_a_sparkline_per_clerk(office: Office) -> None:
    from textual.widgets import Sparkline

    generate(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_reports(pilot)
        await pilot.press("right", "right")  # Issued
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrendsScreen)
        screen = app.screen
        sparks = list(screen.query(Sparkline))
        people = {r.login for rep in screen.reports for r in rep.rows}
        assert {"cleo", "carl", "cora"} <= people
        assert len(sparks) == len(people) + 1  # one per person and the team
        assert all(len(s.data or []) == 8 for s in sparks)
        # The team's line is the team's figure of each of the eight weeks.
        for p, value in zip(screen.periods, sparks[-1].data or [], strict=True):
            rep = office.db.read(lambda s, p=p: output_report(office.sup, s, p.start, p.end))
            assert rep.team is not None and value == rep.team.invoices_issued


async def test_clerk_sees_only_their_own_figures(office: Office) -> None:
    generate(office)
    app = make_app(office, "clerk")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g", "v")
        await settle(pilot)
        assert isinstance(app.screen, MyOutputScreen)
        await pilot.press("m")
        await settle(pilot)
        mine = office.db.read(
            lambda s: output_report(office.clerk, s, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        ).rows[0]
        rows = {r[0]: r[1] for r in table_rows(app, "#mine-table")}
        assert rows["Contacts made"] == str(mine.contacts)
        assert rows["Money collected"] == f"${mine.collected:,.2f}"
        assert "Carl" not in screen_text(app)
        await pilot.press("down", "down", "down", "down")  # Collected
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DrillScreen)
        assert {r[-1] for r in table_rows(app, "#drill-rows DataTable")} == {"cleo"}
        # The supervisor's report is not in a clerk's go-to menu.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("g", "r")
        await settle(pilot)
        assert not isinstance(app.screen, ReportsScreen)


# --------------------------------------------------------------------------- dashboard


def _pending(office: Office) -> None:
    from db.models import (
        BillTo,
        Client,
        Coverage,
        CoverageRank,
        Invoice,
        InvoiceKind,
        Payer,
        PayerKind,
    )
    from scheduling import timeoff

    def go(s: Any) -> None:
        s.add(
            Timecard(
                user_id=office.clerk3.user_id,
                period_start=dt.date(2026, 11, 9),
                period_end=dt.date(2026, 11, 15),
                status=TimecardStatus.SUBMITTED,
                submitted_at=dt.datetime(2026, 11, 16, 13, tzinfo=dt.UTC),
            )
        )
        c = Client(account_number="I-1", first_name="Ina", last_name="Box")
        p = Payer(name="Bluewater [Health]", kind=PayerKind.INSURER)
        s.add_all([c, p])
        s.flush()
        cov = Coverage(
            client_id=c.id,
            payer_id=p.id,
            rank=CoverageRank.PRIMARY,
            member_id="W1",
            effective_from=dt.date(2026, 1, 1),
        )
        s.add(cov)
        s.flush()
        s.add(
            Invoice(
                kind=InvoiceKind.INVOICE,
                client_id=c.id,
                bill_to=BillTo.PAYER,
                payer_id=p.id,
                coverage_id=cov.id,
                created_by=office.clerk.user_id,
            )
        )

    office.db.write(go)
    office.db.write(
        lambda s: timeoff.request_time_off(
            office.clerk, s, dt.date(2026, 12, 1), dt.date(2026, 12, 2), "wedding"
        )
    )


async def test_inbox_leads_to_each_decision(office: Office) -> None:
    from screens.supervisor.eligibility_override import EligibilityOverrideDialog
    from screens.supervisor.time_off_approval import TimeOffApprovalScreen
    from screens.supervisor.timecards import CardScreen

    _pending(office)
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rows = table_rows(app, "#inbox")
        assert [r[0] for r in rows] == ["Timecard", "Time off", "Override"]
        assert "Cora Clerk (cora)" in rows[0][1]
        assert "Approvals inbox: 3" in screen_text(app)
        await pilot.press("i", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen) and app.screen.user_id == office.clerk3.user_id
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TimeOffApprovalScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i", "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, EligibilityOverrideDialog)
        assert "Bluewater [Health]" in screen_text(app)  # user data shown literally
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_every_counter_opens_where_it_is_acted_on(office: Office) -> None:
    from screens.supervisor.aging_report import AgingReportScreen
    from screens.supervisor.assignment import AssignmentScreen
    from screens.supervisor.dispute_queue import DisputeQueueScreen
    from screens.supervisor.schedule_grid import ScheduleGridScreen
    from screens.supervisor.time_off_approval import TimeOffApprovalScreen
    from screens.supervisor.timecards import TimecardsScreen

    _pending(office)
    expect: dict[str, type | str] = {
        "timecards_to_sign": TimecardsScreen,
        "time_off_pending": TimeOffApprovalScreen,
        "coverage_gaps": ScheduleGridScreen,
        "clients_to_bill": AssignmentScreen,
        "overdue_invoices": AgingReportScreen,
        "disputes_open": DisputeQueueScreen,
    }
    app = make_app(office, "sup")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for n, counter in enumerate(COUNTERS):
            row, col = divmod(n, COLUMNS)
            await pilot.press("c")
            app.screen.query_one("#dash-counters", DataTable).cursor_coordinate = (row, col)  # type: ignore[assignment]
            before = len(app._notifications)
            await pilot.press("enter")
            await settle(pilot)
            want = expect.get(counter.key)
            if want is not None:
                assert isinstance(app.screen, want), counter.key
            elif counter.key in ("overrides_waiting", "pending_approvals"):
                assert app.screen.focused is app.screen.query_one("#inbox"), counter.key
                inbox = app.screen.query_one("#inbox", DataTable)
                want_row = 2 if counter.key == "overrides_waiting" else 0
                assert inbox.cursor_row == want_row, counter.key
            else:
                # Another area's screen: opened when it is there, else a clear notice.
                assert not isinstance(app.screen, DashboardScreen) or len(app._notifications) > before, (
                    counter.key
                )
                if isinstance(app.screen, DashboardScreen):
                    last = list(app._notifications)[-1]
                    assert "there is no screen for this in this version" in str(last.message)
            for _ in range(5):  # back to the dashboard (Esc on some screens clears a filter first)
                if isinstance(app.screen, DashboardScreen):
                    break
                app.pop_screen()
                await settle(pilot)
            assert isinstance(app.screen, DashboardScreen), counter.key


async def test_dashboard_says_not_clocked_in_rather_than_late(office: Office) -> None:
    from db import timeutil
    from scheduling import shifts

    monday = dt.date(2026, 11, 16)

    def go(a: Any, s: Any) -> None:
        shifts.add_shift_type(a, s, code="E", name="Early", start_time=dt.time(7), minutes=480)
        shifts.set_cell(a, s, "cleo", monday, "E", expected_version=None)
        shifts.publish(a, s, monday, monday)

    office.db.write(lambda s: go(office.sup, s))
    timeutil.freeze("2026-11-16T15:29:00+00:00")  # 10:29: 209 minutes after 07:00
    app = make_app(office, "sup")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = table_rows(app, "#on-shift")
        assert rows[0][0] == "Cleo Clerk" and rows[0][1] == "not clocked in (shift began 07:00)"
        assert "209" not in screen_text(app)
        assert "1 not in" in title(app, "#summary") and "0 late" in title(app, "#summary")
