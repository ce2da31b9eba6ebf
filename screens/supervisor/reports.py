"""Output per clerk (supervisor): clerks × figures for a day, week or month, sortable, with the
trend of the last eight periods and the rows behind every figure (docs/reports.md).

Keys: ``[`` ``]`` previous / next period, ``d`` ``w`` ``m`` day / week / month, ``s`` sorts by the
column under the cursor (again: the other way), Enter shows the rows behind the figure under
the cursor (on the team row: everybody's), ``t`` the trend of that figure for every clerk,
``e`` / ``c`` export the table as markdown / CSV. docs/reports.md defines each figure.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Sparkline, Static

from reports.export import cell
from reports.output import FIGURE_BY_KEY, FIGURES, TEAM_LOGIN, ClerkOutput, OutputReport, ReportPeriod, series
from screens.common.report_base import REPORT_BINDINGS, TREND_COUNT, ReportBase, trend_text
from screens.common.report_drill import DrillScreen
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader

NAME = "name"
WIDTHS = {"int": 9, "money": 12, "minutes": 7, "rate": 7, "money_rate": 9}


class ReportsScreen(ReportBase):
    HELP_TITLE = "Output per clerk"
    HELP = (
        "Every clerk's output for a day, week or month, and the team total. [ and ] move to the "
        "previous and next period; d, w, m show a day, a week (the pay week) or a month. The "
        "arrows move over the figures; s sorts by the column under the cursor (press again for "
        "the other direction). Enter shows the rows behind the figure under the cursor (on the "
        "team row: everybody's). Below the table: the figure's trend over the last eight "
        "periods for the clerk under the cursor and the team; t shows it for every clerk. e and "
        "c export the table as markdown or CSV into your export folder. Definitions: docs/reports.md."
    )
    BINDINGS = [
        Binding("s", "sort", "Sort", id="reports.sort", tooltip="Sort by the column under the cursor"),
        Binding(
            "enter",
            "drill",
            "Rows",
            id="reports.drill",
            tooltip="The rows behind the figure under the cursor",
        ),
        Binding("t", "trends", "Trends", id="reports.trends", tooltip="The figure's trend for every clerk"),
        *REPORT_BINDINGS,
    ]

    def __init__(self, kind: str = "week") -> None:
        super().__init__(kind)
        self.sort_key = NAME
        self.sort_desc = False
        self.series: dict[str, tuple[float, ...]] = {}
        self.trend_periods: tuple[ReportPeriod, ...] = ()
        self.trend_reports: tuple[OutputReport, ...] = ()

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Output per clerk: loading…", id="rep-title", classes="title")
        table: DataTable[str | Text] = DataTable(id="rep-table", cursor_type="cell", zebra_stripes=True)
        table.tooltip = "Enter: rows behind the figure · s: sort by this column"
        yield table
        with Vertical(id="rep-trend"):
            yield Static("", id="rep-trend-title")
            with Horizontal(classes="trend-row"):
                yield Static("", id="rep-trend-who", classes="trend-who")
                yield Sparkline([], id="rep-spark-clerk", classes="trend-spark")
                yield Static("", id="rep-trend-values", classes="trend-values")
            with Horizontal(classes="trend-row"):
                yield Static("Team", classes="trend-who")
                yield Sparkline([], id="rep-spark-team", classes="trend-spark")
                yield Static("", id="rep-trend-team-values", classes="trend-values")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#rep-table", DataTable)
        t.add_column("Clerk", width=18, key=NAME)
        for f in FIGURES:
            t.add_column(f.label, width=WIDTHS[f.kind], key=f.key)
        t.focus()
        self.reload()

    # ------------------------------------------------------------------ showing

    def show_loading(self, period: ReportPeriod | None) -> None:
        if period is not None:
            self.query_one("#rep-title", Static).update(Text(f"Output per clerk — {period.label} (loading…)"))

    def _title(self) -> Text:
        assert self.period is not None
        label = "name" if self.sort_key == NAME else FIGURE_BY_KEY[self.sort_key].label
        arrow = "↓" if self.sort_desc else "↑"
        return Text.assemble(
            ("Output per clerk — ", "bold"), (self.period.label, "bold"), f"  ·  by {label} {arrow}"
        )

    def _sorted(self, rows: tuple[ClerkOutput, ...]) -> list[ClerkOutput]:
        if self.sort_key == NAME:
            return sorted(rows, key=lambda r: (r.name.casefold(), r.login), reverse=self.sort_desc)
        key = self.sort_key
        # Missing rates sort below every number in both directions' "bottom".
        present = [r for r in rows if r.value(key) is not None]
        missing = [r for r in rows if r.value(key) is None]
        present.sort(key=lambda r: (r.name.casefold(), r.login))  # ties stay by name, both ways
        present.sort(key=lambda r: r.value(key), reverse=self.sort_desc)  # type: ignore[arg-type,return-value]  # figures are int or Decimal, both orderable; None rows are split off above
        return present + missing

    def show_report(self, report: OutputReport) -> None:
        t = self.query_one("#rep-table", DataTable)
        coord = t.cursor_coordinate
        t.clear()
        for r in self._sorted(report.rows):
            you = " (you)" if r.user_id == self.actor.user_id else ""
            t.add_row(Text(r.name + you), *[self._cell(r, f.key) for f in FIGURES], key=r.login)
        if report.team is not None:
            team = report.team
            t.add_row(
                Text(team.name, style="bold"),
                *[Text(self._cell(team, f.key).plain, style="bold", justify="right") for f in FIGURES],
                key=TEAM_LOGIN,
            )
        if t.row_count:
            t.cursor_coordinate = t.validate_cursor_coordinate(coord)
        self.query_one("#rep-title", Static).update(self._title())
        self._update_trend()

    def _cell(self, r: ClerkOutput, key: str) -> Text:
        f = FIGURE_BY_KEY[key]
        return Text(cell(f, r.value(key), self.symbol), justify="right")

    def show_trend(self, periods: tuple[ReportPeriod, ...], reports: tuple[OutputReport, ...]) -> None:
        self.trend_periods, self.trend_reports = periods, reports
        self._update_trend()

    def _cursor(self) -> tuple[str | None, str]:
        """(login under the cursor, figure key under the cursor: a figure even on the name column)."""
        t = self.query_one("#rep-table", DataTable)
        if not t.row_count:
            return None, FIGURES[0].key
        row_key, col_key = t.coordinate_to_cell_key(t.cursor_coordinate)
        col = str(col_key.value)
        return str(row_key.value), (col if col in FIGURE_BY_KEY else "collected")

    def _update_trend(self) -> None:
        login, key = self._cursor()
        f = FIGURE_BY_KEY[key]
        title = self.query_one("#rep-trend-title", Static)
        if not self.trend_reports or self.period is None:
            title.update(Text(f"{f.label}: trend of the last {TREND_COUNT} periods loading…", style="dim"))
            return
        first, last = self.trend_periods[0], self.trend_periods[-1]
        title.update(
            Text.assemble(
                (f"{f.title}", "bold"),
                f", last {TREND_COUNT} {last.kind}s ({first.start.isoformat()} – {last.end.isoformat()})",
            )
        )
        values = series(self.trend_reports, key)
        zeros = (0.0,) * len(self.trend_reports)
        who = login if login and login != TEAM_LOGIN else None
        name = next((r.name for r in (self.report.rows if self.report else ()) if r.login == who), "")
        self.query_one("#rep-trend-who", Static).update(Text(name or "—"))
        clerk = values.get(who, zeros) if who else zeros
        self.query_one("#rep-spark-clerk", Sparkline).data = list(clerk)
        self.query_one("#rep-trend-values", Static).update(
            Text(trend_text(clerk, f.kind, self.symbol) if who else "")
        )
        team = values.get(TEAM_LOGIN, zeros)
        self.query_one("#rep-spark-team", Sparkline).data = list(team)
        self.query_one("#rep-trend-team-values", Static).update(Text(trend_text(team, f.kind, self.symbol)))

    @on(DataTable.CellHighlighted, "#rep-table")
    def _moved(self, _event: DataTable.CellHighlighted) -> None:
        self._update_trend()

    @on(DataTable.CellSelected, "#rep-table")
    def _selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_drill()

    # ------------------------------------------------------------------ actions

    def action_sort(self) -> None:
        t = self.query_one("#rep-table", DataTable)
        if not t.row_count or self.report is None:
            return
        _, col_key = t.coordinate_to_cell_key(t.cursor_coordinate)
        col = str(col_key.value)
        if col == self.sort_key:
            self.sort_desc = not self.sort_desc
        else:
            self.sort_key = col
            self.sort_desc = col != NAME  # biggest first for figures
        self.show_report(self.report)

    def action_drill(self) -> None:
        t = self.query_one("#rep-table", DataTable)
        if not t.row_count or self.period is None or self.report is None:
            return
        row_key, col_key = t.coordinate_to_cell_key(t.cursor_coordinate)
        col = str(col_key.value)
        if col not in FIGURE_BY_KEY:
            self.notify("Move to a figure (→) and press Enter to see the rows behind it")
            return
        login = str(row_key.value)
        if login == TEAM_LOGIN:
            self.app.push_screen(DrillScreen(col, self.period, None, "everybody"))
            return
        name = next((r.name for r in self.report.rows if r.login == login), login)
        self.app.push_screen(DrillScreen(col, self.period, login, name))

    def action_trends(self) -> None:
        if not self.trend_reports:
            self.notify("The trend is still loading")
            return
        _, key = self._cursor()
        self.app.push_screen(TrendsScreen(key, self.trend_periods, self.trend_reports, self.symbol))


class TrendsScreen(DbScreen):
    """One figure's trend for every clerk and the team: a sparkline each (already loaded)."""

    HELP_TITLE = "Trends"
    HELP = (
        "The figure over the last eight periods, oldest on the left, for every clerk and the team, "
        "with the first and the last value. Escape goes back to the report."
    )
    BINDINGS = [Binding("escape", "back", "Back", id="trends.back", tooltip="Back to the report")]

    def __init__(
        self, figure: str, periods: tuple[ReportPeriod, ...], reports: tuple[OutputReport, ...], symbol: str
    ) -> None:
        super().__init__()
        self.figure = figure
        self.periods = periods
        self.reports = reports
        self.symbol = symbol

    def compose(self) -> ComposeResult:
        f = FIGURE_BY_KEY[self.figure]
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        first, last = self.periods[0], self.periods[-1]
        yield Static(
            Text.assemble(
                (f.label, "bold"),
                f" — {first.start.isoformat()} to {last.end.isoformat()} ({len(self.periods)} {last.kind}s)",
            ),
            classes="title",
        )
        values = series(self.reports, self.figure)
        names = {r.login: r.name for rep in self.reports for r in rep.rows}
        zeros = (0.0,) * len(self.reports)
        with VerticalScroll(id="trends-list"):
            for login in sorted(names, key=lambda k: (names[k].casefold(), k)):
                v = values.get(login, zeros)
                with Horizontal(classes="trend-row"):
                    yield Static(Text(names[login]), classes="trend-who")
                    yield Sparkline(list(v), classes="trend-spark")
                    yield Static(Text(trend_text(v, f.kind, self.symbol)), classes="trend-values")
            if TEAM_LOGIN in values:
                v = values[TEAM_LOGIN]
                with Horizontal(classes="trend-row"):
                    yield Static(Text("Team total", style="bold"), classes="trend-who")
                    yield Sparkline(list(v), classes="trend-spark")
                    yield Static(Text(trend_text(v, f.kind, self.symbol)), classes="trend-values")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#trends-list").focus()

    def action_back(self) -> None:
        self.app.pop_screen()
