"""My output (any clerk): my own figures for a day, week or month, their trend, and the rows
behind each one. The services give a clerk only their own figures, whatever is asked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Sparkline, Static

from reports.export import cell
from reports.output import FIGURE_BY_KEY, FIGURES, ClerkOutput, OutputReport, ReportPeriod, series
from screens.common.report_base import REPORT_BINDINGS, TREND_COUNT, ReportBase, trend_text
from screens.common.report_drill import DrillScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader


class MyOutputScreen(ReportBase):
    HELP_TITLE = "My output"
    HELP = (
        "Your own figures for a day, week or month. [ and ] move to the previous and next period; "
        "d, w, m show a day, a week (the pay week) or a month. Enter on a figure shows the records "
        "behind it. Below: the figure under the cursor over the last eight periods. e and c export "
        "your figures as markdown or CSV into your export folder."
    )
    BINDINGS = [
        Binding("enter", "drill", "Rows", id="my_output.drill", tooltip="The records behind the figure"),
        *REPORT_BINDINGS,
    ]

    def __init__(self, kind: str = "week") -> None:
        super().__init__(kind)
        self.login = None  # set on mount: always the reader's own
        self.mine: ClerkOutput | None = None
        self.trend_reports: tuple[OutputReport, ...] = ()

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("My output: loading…", id="mine-title", classes="title")
        table: DataTable[str | Text] = DataTable(id="mine-table", cursor_type="row", zebra_stripes=True)
        table.tooltip = "Enter: the records behind the figure"
        yield table
        with Vertical(id="mine-trend"):
            yield Static("", id="mine-trend-title")
            with Horizontal(classes="trend-row"):
                yield Static("", classes="trend-who", id="mine-trend-who")
                yield Sparkline([], id="mine-spark", classes="trend-spark")
                yield Static("", id="mine-trend-values", classes="trend-values")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.login = self.actor.login
        t = self.query_one("#mine-table", DataTable)
        t.add_column("Figure", width=19, key="label")
        t.add_column("Value", width=12, key="value")
        t.add_column("What it counts", width=50, key="help")
        t.focus()
        self.reload()

    def show_loading(self, period: ReportPeriod | None) -> None:
        if period is not None:
            self.query_one("#mine-title", Static).update(Text(f"My output — {period.label} (loading…)"))

    def show_report(self, report: OutputReport) -> None:
        assert self.period is not None
        self.mine = report.rows[0] if report.rows else None
        t = self.query_one("#mine-table", DataTable)
        row = t.cursor_row
        t.clear()
        for f in FIGURES:
            value = cell(f, self.mine.value(f.key), self.symbol) if self.mine else "—"
            t.add_row(Text(f.title), Text(value, justify="right"), Text(f.help, style="dim"), key=f.key)
        t.move_cursor(row=min(max(row, 0), t.row_count - 1))
        self.query_one("#mine-title", Static).update(
            Text.assemble(("My output — ", "bold"), (self.period.label, "bold"))
        )
        self._update_trend()

    def show_trend(self, periods: tuple[ReportPeriod, ...], reports: tuple[OutputReport, ...]) -> None:
        self.trend_reports = reports
        self._update_trend()

    def _figure(self) -> str:
        t = self.query_one("#mine-table", DataTable)
        if not t.row_count:
            return FIGURES[0].key
        return str(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)

    def _update_trend(self) -> None:
        f = FIGURE_BY_KEY[self._figure()]
        if not self.trend_reports:
            self.query_one("#mine-trend-title", Static).update(Text("Trend loading…", style="dim"))
            return
        self.query_one("#mine-trend-title", Static).update(
            Text.assemble((f.title, "bold"), f", the last {TREND_COUNT} periods")
        )
        values = series(self.trend_reports, f.key).get(self.actor.login, (0.0,) * len(self.trend_reports))
        self.query_one("#mine-trend-who", Static).update(Text(self.actor.name))
        self.query_one("#mine-spark", Sparkline).data = list(values)
        self.query_one("#mine-trend-values", Static).update(Text(trend_text(values, f.kind, self.symbol)))

    @on(DataTable.RowHighlighted, "#mine-table")
    def _moved(self, _event: DataTable.RowHighlighted) -> None:
        self._update_trend()

    @on(DataTable.RowSelected, "#mine-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        if self.period is None:
            return
        self.app.push_screen(DrillScreen(self._figure(), self.period, self.actor.login, self.actor.name))
