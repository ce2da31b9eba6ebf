"""Record an eligibility check: what the payer said about a coverage, on which day.

A fresh "eligible" check lets invoices go to that payer; a check older than the office's limit
(or none at all) shows as a warning on the account and blocks issuing until a new check is
recorded or a supervisor overrides it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Select, Static

from billing import coverage
from billing.coverage import CoverageView, EligibilityCheckView
from db.errors import ValidationError
from db.models import EligibilityResult
from db.timeutil import office_today
from tui.base import DbModal
from tui.widgets.forms import ChoiceField, Field, Form, parse_date

RESULTS = [
    ("Eligible", "eligible"),
    ("Not eligible", "not_eligible"),
    ("Pending (asked, no answer yet)", "pending"),
]


class EligibilityForm(DbModal[EligibilityCheckView | None]):
    HELP_TITLE = "Eligibility check"
    HELP = (
        "Record what the payer said (phone, portal, letter) and on which day. The check date may "
        "not be in the future. Ctrl+S saves, Esc closes."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="eligibility_form.save", tooltip="Record the check"),
        Binding("escape", "cancel", "Cancel", id="eligibility_form.cancel", tooltip="Close without saving"),
    ]

    def __init__(
        self, client_name: str, coverages: tuple[CoverageView, ...], coverage_id: int | None = None
    ) -> None:
        super().__init__()
        self.client_name = client_name
        self.coverages = coverages
        ids = [c.id for c in coverages]
        self.coverage_id = coverage_id if coverage_id in ids else (ids[0] if ids else None)

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        options = [
            (
                f"{c.rank.value} · {c.payer_name} · member {c.member_id}"
                + ("" if c.in_force_today else " (not in force today)"),
                c.id,
            )
            for c in self.coverages
        ]
        with Vertical(classes="dialog -wide"):
            yield Static(
                Text(f"Eligibility check for {self.client_name}", style="bold"), classes="dialog-title"
            )
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                yield ChoiceField("coverage", "Coverage", options, value=self.coverage_id, required=True)
                yield Field(
                    "checked_on",
                    "Checked on",
                    value=today.isoformat(),
                    parse=parse_date,
                    required=True,
                    placeholder="YYYY-MM-DD",
                )
                yield ChoiceField(
                    "result", "Result", RESULTS, value=EligibilityResult.ELIGIBLE.value, required=True
                )
                yield Field(
                    "covered_services", "Covered services", placeholder="e.g. office visits, vaccines"
                )
                yield Field("notes", "Notes", placeholder="who you spoke to, reference number…")
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-coverage", Select).focus()

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        v = self.form.collect()
        if v is None:
            self._problem("Some fields need fixing (marked below)")
            self.notify("Some fields need fixing", severity="error")
            return
        self._problem(None)

        def save(s: Any) -> EligibilityCheckView:
            return coverage.record_eligibility_check(
                self.actor,
                s,
                v["coverage"],
                result=v["result"],
                checked_on=v["checked_on"],
                covered_services=v["covered_services"],
                notes=v["notes"],
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError) and self.form.show_errors(exc.fields):
                self._problem("Some fields need fixing (marked below)")
                self.notify("Some fields need fixing", severity="error")
            else:
                self.cd_app.show_error(exc)

        def done(check: EligibilityCheckView) -> None:
            self.notify(escape(f"Recorded: {check.result.value.replace('_', ' ')} on {check.checked_on}"))
            self.dismiss(check)

        self.db_call(save, done, write=True, on_error=failed, group="save")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
