"""What the two report screens share: the period picker by keys, loading, trends, exports.

``[`` / ``]`` move to the previous / next period, ``d`` / ``w`` / ``m`` switch to the day, week
or month holding the period's first day. A result that arrives for a period the person has
already left is dropped, so a fast run of ``]`` never shows an older period's figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.binding import Binding

from db.settings import get_setting
from reports.export import cell, render
from reports.output import (
    FIGURES,
    OutputReport,
    ReportPeriod,
    current_period,
    output_report,
    period_of,
    step,
    trend_reports,
    week_start_of,
)
from screens.common.report_drill import export_file
from tui.widgets.base import DbScreen

TREND_COUNT = 8


def trend_text(values: tuple[float, ...], kind: str, symbol: str) -> str:
    """The first and the last value of a trend, as the figure is shown."""
    if not values:
        return ""
    f = next(f for f in FIGURES if f.kind == kind)

    def one(v: float) -> str:
        if kind in ("money", "money_rate"):
            return cell(f, Decimal(str(v)).quantize(Decimal("0.01")), symbol)
        if kind == "minutes":
            return cell(f, int(v))
        if kind == "rate":
            return f"{v:.2f}"
        return str(int(v))

    return f"{one(values[0])} → {one(values[-1])}"


# The period keys and exports; each report screen lists its own keys first, then these, so the
# footer shows what is particular to the screen even at 80 columns.
REPORT_BINDINGS = [
    Binding("left_square_bracket", "step(-1)", "Prev", id="report.previous", tooltip="The previous period"),
    Binding("right_square_bracket", "step(1)", "Next", id="report.next", tooltip="The next period"),
    Binding("d", "kind('day')", "Day", id="report.day", tooltip="Show one day"),
    Binding("w", "kind('week')", "Week", id="report.week", tooltip="Show a week (the pay week)"),
    Binding("m", "kind('month')", "Month", id="report.month", tooltip="Show a calendar month"),
    Binding("e", "export('md')", "Export md", id="report.export_md", tooltip="The table to a markdown file"),
    Binding("c", "export('csv')", "Export CSV", id="report.export_csv", tooltip="The table to a CSV file"),
    Binding("escape", "back", "Back", id="report.back", tooltip="Back to the previous screen"),
]


class ReportBase(DbScreen):
    login: str | None = None  # whose figures: None = everybody the reader may see

    def __init__(self, kind: str = "week") -> None:
        super().__init__()
        self.kind = kind
        self.period: ReportPeriod | None = None
        self.week_start = 0
        self.symbol = "$"
        self.report: OutputReport | None = None
        self.trends: dict[tuple[str, Any], tuple[tuple[ReportPeriod, ...], tuple[OutputReport, ...]]] = {}

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        wanted = self.period
        kind = self.kind
        login = self.login

        def fetch(s: Any) -> tuple[ReportPeriod, int, str, OutputReport]:
            period = wanted or current_period(s, kind)
            rep = output_report(self.actor, s, period.start, period.end, login)
            return period, week_start_of(s), str(get_setting(s, "office.currency_symbol")), rep

        self.show_loading(wanted)
        self.db_call(fetch, self._loaded)

    def _loaded(self, result: tuple[ReportPeriod, int, str, OutputReport]) -> None:
        period, self.week_start, self.symbol, rep = result
        if self.period is not None and period != self.period:
            return  # the person has moved on
        self.period = period
        self.report = rep
        self.show_report(rep)
        self.load_trend()

    def load_trend(self) -> None:
        period = self.period
        if period is None:
            return
        key = (period.kind, period.start)
        if key in self.trends:
            self.show_trend(*self.trends[key])
            return
        login = self.login

        def fetch(s: Any) -> tuple[tuple[ReportPeriod, ...], tuple[OutputReport, ...]]:
            return trend_reports(self.actor, s, period, TREND_COUNT, login)

        def done(result: tuple[tuple[ReportPeriod, ...], tuple[OutputReport, ...]]) -> None:
            self.trends[key] = result
            if self.period == period:
                self.show_trend(*result)

        self.db_call(fetch, done, group="trend")

    # ------------------------------------------------------------------ for subclasses

    def show_loading(self, period: ReportPeriod | None) -> None:
        """Say which period is coming (the table keeps the old figures until then)."""

    def show_report(self, report: OutputReport) -> None:
        raise NotImplementedError

    def show_trend(self, periods: tuple[ReportPeriod, ...], reports: tuple[OutputReport, ...]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ actions

    def action_step(self, n: int) -> None:
        if self.period is None:
            return
        self.period = step(self.period, n, self.week_start)
        self.reload()

    def action_kind(self, kind: str) -> None:
        if self.period is None:
            self.kind = kind
            return
        self.kind = kind
        self.period = period_of(kind, self.period.start, self.week_start)
        self.reload()

    def action_export(self, fmt: str) -> None:
        if self.report is None or self.period is None:
            self.notify("Nothing to export yet", severity="warning")
            return
        who = self.login or ("team" if self.actor.is_supervisor else self.actor.login)
        name = f"output-{who}-{self.period.slug}.{'md' if fmt == 'md' else 'csv'}"
        export_file(self, name, render(self.report, fmt, self.symbol))
