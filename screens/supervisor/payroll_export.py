"""Payroll export (supervisor): a pay period's signed timecards to a CSV file (docs/timecards.md).

The screen previews what would go out (one row per person: regular and overtime hours, the
signer) and what stops it. ``scheduling.payroll.export_payroll`` refuses, naming them, while
any card of the period is not signed, unless "signed cards only" is chosen. The file is a new
file inside the supervisor's exports folder (tui/exports.py: no absolute path, no ``..``, mode
0600, never replacing a file), written inside the export's transaction and removed again if
the transaction fails, so there is no export without a file. Nothing is ever opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from scheduling import payroll
from scheduling.payroll import NotAllSigned, PayrollExport, PayrollPreview
from scheduling.periods import current_period
from screens.common.time_view import period_text
from tui.exports import ExportError, form_target, write_new
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormBody, FormMixin
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, Form, ParseError, parse_date
from tui.widgets.header import OfficeHeader


def default_path(start: dt.date | None) -> str:
    return f"payroll-{start.isoformat() if start else 'PERIOD'}.csv"


def export_path(root: Path) -> Callable[[str], Path]:
    """A parser: the file as typed, a new file inside the person's exports folder ``root``."""

    def parse(text: str) -> Path:
        try:
            return form_target(root, text)
        except ExportError as e:
            raise ParseError(str(e)) from e

    return parse


def preview_text(p: PayrollPreview) -> Text:
    out = Text()
    out.append(f"{period_text(p.period.start, p.period.end)}\n", style="bold")
    if p.rows:
        out.append(f"Signed, ready for payroll ({len(p.rows)}):\n", style="bold")
        out.append(f"  {'login':<12} {'regular h':>9} {'overtime h':>10}  signed by\n", style="dim")
        for r in p.rows:
            out.append(f"  {r.login:<12} {r.regular_hours:>9} {r.overtime_hours:>10}  {r.signed_by}\n")
    else:
        out.append("No signed timecards waiting for payroll.\n", style="bold")
    if p.unsigned:
        out.append(f"Not signed ({len(p.unsigned)}): ", style="bold reverse")
        out.append(", ".join(f"{u.login} ({u.status})" for u in p.unsigned))
        out.append("\n")
    if p.already_exported:
        out.append(f"Already exported: {', '.join(p.already_exported)}\n", style="dim")
    return out


class PreviewBox(VerticalScroll):
    """The preview (a big office's list scrolls): a stop for Tab only when there is more to see,
    and then marked (styles.tcss), so the cursor is never somewhere nobody can see it."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class PayrollExportScreen(FormMixin[tuple[PayrollExport, Path]], DbScreen):
    HELP_TITLE = "Payroll export"
    HELP = (
        "Exports a pay period's signed timecards to a new CSV file: one row per person with "
        "regular and overtime hours and who signed. The export is refused, listing them, while a "
        "card of the period is not signed, unless you choose signed cards only. Exported cards "
        "cannot be unlocked any more. ctrl+r (or enter in the period) shows the preview; ctrl+s exports "
        "after a confirmation. The file is never opened here."
    )
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Export",
            id="payroll_export.export",
            tooltip="Export to the CSV file (asks first)",
        ),
        Binding(
            "ctrl+r",
            "preview",
            "Preview",
            id="payroll_export.preview",
            tooltip="Show what the period's export holds",
        ),
        Binding("escape", "back", "Back", id="payroll_export.back", tooltip="Back to the previous screen"),
    ]
    FIX_TEXT = "Some fields need fixing (marked above)"  # the problem line scrolls with the preview

    def __init__(self, period_start: dt.date | None = None) -> None:
        super().__init__()
        self.period_start = period_start
        self.auto_path = default_path(period_start)
        self.preview: PayrollPreview | None = None
        self.written: Path | None = None  # the file of an export whose transaction is under way

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Payroll export", style="bold"), classes="title")
        with FormBody(id="payroll-body"):
            with Form():
                yield Field(
                    "period",
                    "Period starts (YYYY-MM-DD)",
                    value=self.period_start.isoformat() if self.period_start else "",
                    parse=parse_date,
                    required=True,  # no length limit: a full date reached it and was warned about
                )
                yield Field(
                    "path",
                    "CSV file (new)",
                    value=self.auto_path,
                    parse=export_path(self.cd_app.exports),
                    required=True,
                    max_length=500,
                )
                yield ChoiceField(
                    "signed_only",
                    "Cards not signed yet",
                    [("refuse the export and list them", "no"), ("export the signed cards only", "yes")],
                    value="no",
                    required=True,
                )
            yield Static(Text(f"Written in {self.cd_app.exports}/", style="dim"), id="payroll-folder")
        with PreviewBox(id="payroll-preview-box"):
            # A refusal may name every unsigned card of a big office: it scrolls with the preview.
            yield self.problem_line("time-problem")
            yield Static("", id="payroll-result", classes="time-head")
            yield Static("", id="payroll-preview", classes="time-head")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#input-period", Input).focus()
        if self.period_start is None:
            self.db_call(lambda s: current_period(s).previous().start, self._default_period, group="period")
        else:
            self.action_preview()

    def _default_period(self, start: dt.date) -> None:
        box = self.query_one("#input-period", Input)
        if box.value.strip():
            return  # the person typed a period while this was on its way: theirs stands
        self.period_start = start
        box.value = start.isoformat()
        self.action_preview()

    @on(Input.Changed, "#input-period")
    def _period_typed(self, event: Input.Changed) -> None:
        # Keep the suggested file name in step with the period until the person types their own.
        try:
            start = dt.date.fromisoformat(event.value.strip())
        except ValueError:
            return
        path = self.query_one("#input-path", Input)
        if path.value == self.auto_path:
            self.auto_path = default_path(start)
            path.value = self.auto_path

    def show_preview(self, p: PayrollPreview) -> None:
        self.preview = p
        self.query_one("#payroll-preview", Static).update(preview_text(p))

    @on(Input.Submitted, "#input-period")
    def action_preview(self) -> None:
        field = self.query_one("#field-period", Field)
        try:
            start = field.value()
        except ParseError as e:
            field.set_error(str(e))
            field.focus_target().focus()
            return
        field.set_error(None)

        def shown(p: PayrollPreview) -> None:
            self.problem(None)
            self.show_preview(p)

        self.db_call(lambda s: payroll.payroll_preview(self.actor, s, start), shown, on_error=self.failed)

    def before_save(self, values: dict[str, Any]) -> None:
        start: dt.date = values["period"]
        path: Path = values["path"]
        signed_only = values["signed_only"] == "yes"

        def check(p: PayrollPreview) -> None:
            self.show_preview(p)
            if p.unsigned and not signed_only:
                # The service's own refusal, before asking anything.
                self.stop_saving(str(NotAllSigned(p.period, p.unsigned)))
                return
            if not p.rows:
                self.stop_saving(f"No signed timecards to export for {p.period.label}")
                return
            self.problem(None)
            lines = [f"Write {len(p.rows)} row(s) to {path}:"]
            # A dialog has no room for a whole office: the first rows, the rest in the preview.
            lines += [
                f"  {r.login}: regular {r.regular_hours} h, overtime {r.overtime_hours} h"
                for r in p.rows[:12]
            ]
            if len(p.rows) > 12:
                lines.append(f"  … and {len(p.rows) - 12} more (see the preview)")
            if p.unsigned:
                left = ", ".join(f"{u.login} ({u.status})" for u in p.unsigned[:12])
                more = f" and {len(p.unsigned) - 12} more" if len(p.unsigned) > 12 else ""
                lines.append(f"Left out (not signed): {left}{more}")
            lines.append("These cards become 'exported' and can no longer be unlocked.")
            question = ConfirmDialog(
                f"Export payroll for {period_text(p.period.start, p.period.end)}?", "\n".join(lines), "Export"
            )
            self.ask_then_save(question, values)

        self.read_then(lambda s: payroll.payroll_preview(self.actor, s, start), check)

    def save(self, session: Any, values: dict[str, Any]) -> tuple[PayrollExport, Path]:
        result = payroll.export_payroll(
            self.actor, session, values["period"], signed_only=values["signed_only"] == "yes"
        )
        # Written inside the transaction: if the file cannot be written nothing is exported.
        self.written = write_new(values["path"], result.csv_text, root=self.cd_app.exports)
        return result, self.written

    def failed(self, exc: BaseException) -> None:
        written, self.written = self.written, None
        if written is not None:  # the transaction failed after the file was written
            written.unlink(missing_ok=True)
        super().failed(exc)

    def saved(self, done: tuple[PayrollExport, Path]) -> None:
        result, path = done
        self.written = None
        msg = f"Exported {len(result.rows)} timecard(s) of {result.period.label} to {path}"
        if result.left_out:
            msg += "; not signed, left out: " + ", ".join(u.login for u in result.left_out)
        self.query_one("#payroll-result", Static).update(Text(msg, style="bold"))
        self.notify(Text(msg).plain, markup=False)
        self.action_preview()
