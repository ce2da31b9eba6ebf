"""The rows behind one report figure (paged from the database by key), and report exports.

``save_export`` is the one place a report screen writes a file: into the person's exports
folder (the app's ``exports``, tui/exports.py), never over an existing file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Static

from reports.export import render_drill
from reports.output import DRILL_COLUMNS, FIGURE_BY_KEY, DrillPage, ReportPeriod, drill
from tui.exports import ExportError, form_target, write_new
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable

EXPORT_MAX_ROWS = 50_000  # a drill-down export beyond this is refused: narrow the period


def save_export(root: Path, filename: str, text: str) -> Path:
    """Write ``text`` to a NEW file ``filename`` in the person's exports folder ``root``
    (tui/exports.py: private, never over an existing file, never outside the folder).
    Raises ExportError, whose message names the file and says why."""
    return write_new(form_target(root, filename), text, root=root)


def export_file(screen: DbScreen, filename: str, text: str) -> None:
    """Write a report export and say where it went, or why not (a message, never a dialog)."""
    try:
        path = save_export(screen.cd_app.exports, filename, text)
    except ExportError as e:
        not_exported(screen, e)
        return
    screen.notify(escape(f"Written to {path}"), title="Exported")


def not_exported(screen: DbScreen, exc: ExportError) -> None:
    screen.notify(escape(str(exc)), title="Not exported", severity="warning")


class DrillTable(PagedTable):
    """A paged list without the filter: the rows are exactly the figure's."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "clear_filter"):
            return False
        return super().check_action(action, parameters)


class DrillScreen(DbScreen):
    HELP_TITLE = "Rows behind a figure"
    HELP = (
        "The records a report figure counts, oldest first, a page at a time (PgDn / PgUp). "
        "e exports every row as markdown, c as CSV, into your export folder (a new file; an "
        "existing one is never overwritten). Escape goes back to the report."
    )
    BINDINGS = [
        Binding(
            "e",
            "export('md')",
            "Export md",
            id="report_drill.export_md",
            tooltip="All rows to a markdown file",
        ),
        Binding(
            "c", "export('csv')", "Export CSV", id="report_drill.export_csv", tooltip="All rows to a CSV file"
        ),
        Binding("escape", "back", "Back", id="report_drill.back", tooltip="Back to the report"),
    ]

    def __init__(self, figure: str, period: ReportPeriod, login: str | None, who: str) -> None:
        super().__init__()
        self.figure = figure
        self.period = period
        self.login = login
        self.who = who
        self.kind = FIGURE_BY_KEY[figure].drill

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        f = FIGURE_BY_KEY[self.figure]
        yield Static(
            Text.assemble((f.title, "bold"), f" ({f.help}) — {self.who} — {self.period.label}"),
            classes="title",
            id="drill-title",
        )
        yield DrillTable(list(DRILL_COLUMNS[self.kind]), self._fetch, page_size=50, id="drill-rows")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DrillTable).focus()

    def _fetch(self, session: Any, after: Any, limit: int, _text: str) -> Page[Any]:
        page = drill(
            self.actor,
            session,
            self.figure,
            self.period.start,
            self.period.end,
            self.login,
            after=after,
            limit=limit,
        )
        return Page(
            rows=[(k, [Text(c) for c in cells]) for k, cells in page.rows], next_after=page.next_after
        )

    def action_export(self, fmt: str) -> None:
        def all_pages(s: Any) -> list[DrillPage]:
            pages: list[DrillPage] = []
            after: Any = None
            rows = 0
            while True:
                page = drill(
                    self.actor,
                    s,
                    self.figure,
                    self.period.start,
                    self.period.end,
                    self.login,
                    after=after,
                    limit=500,
                )
                pages.append(page)
                rows += len(page.rows)
                if rows > EXPORT_MAX_ROWS:
                    raise ExportError(
                        f"more than {EXPORT_MAX_ROWS:,} rows: export a shorter period or one clerk"
                    )
                if page.next_after is None:
                    return pages
                after = page.next_after

        def write(pages: list[DrillPage]) -> None:
            who = self.login or "team"
            name = f"{self.kind}-{who}-{self.period.slug}.{'md' if fmt == 'md' else 'csv'}"
            export_file(self, name, render_drill(pages, fmt))

        self.db_call(all_pages, write, on_error=self._refused)

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ExportError):
            not_exported(self, exc)
        else:
            self.cd_app.show_error(exc)

    def action_back(self) -> None:
        self.dismiss()
