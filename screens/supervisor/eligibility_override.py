"""A supervisor lets invoices go to a payer despite a stale, missing or pending eligibility check.

Supervisors only: the dialog refuses to open for anyone else (and the service refuses anyway).
The reason is kept with the override, who granted it and until when (default: today only).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Input, Static

from billing import coverage
from billing.coverage import OverrideView
from db.errors import ValidationError
from db.rights import Action
from db.timeutil import office_today
from tui.base import DbModal
from tui.widgets.forms import Field, Form, parse_date

REFUSED = "Only a supervisor can override an eligibility check"


class EligibilityOverrideDialog(DbModal[OverrideView | None]):
    HELP_TITLE = "Override eligibility"
    HELP = (
        "Lets invoices to this coverage's payer be issued without a fresh eligibility check, "
        "until the date given (at most 90 days ahead). Say why: the reason is kept in the record."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Override", id="eligibility_override.save", tooltip="Grant the override"),
        Binding("escape", "cancel", "Cancel", id="eligibility_override.cancel", tooltip="Do nothing"),
    ]

    def __init__(self, coverage_id: int, what: str, problem: str = "") -> None:
        super().__init__()
        self.coverage_id = coverage_id
        self.what = what  # "Bluewater Health Plan, member W123 (Smith, John)"
        self.problem = problem

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        with Vertical(classes="dialog -wide"):
            yield Static(Text("Override the eligibility check", style="bold"), classes="dialog-title")
            yield Static(Text(self.what))
            if self.problem:
                yield Static(Text(self.problem, style="italic"))
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                yield Field(
                    "reason",
                    "Reason",
                    required=True,
                    placeholder="e.g. portal down; payer confirmed by phone",
                )
                yield Field(
                    "valid_until",
                    "Valid until",
                    value=today.isoformat(),
                    parse=parse_date,
                    required=True,
                    placeholder="YYYY-MM-DD",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Override (ctrl+s)", variant="warning", id="save", compact=True)

    def on_mount(self) -> None:
        if not self.actor.can(Action.ELIGIBILITY_OVERRIDE):
            self.notify(REFUSED, severity="error")
            self.dismiss(None)
            return
        self.query_one("#input-reason", Input).focus()

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        form = self.query_one(Form)
        v = form.collect()
        if v is None:
            self._problem("Some fields need fixing (marked below)")
            return
        cid = self.coverage_id

        def save(s: Any) -> OverrideView:
            return coverage.grant_eligibility_override(
                self.actor, s, cid, reason=v["reason"], valid_until=v["valid_until"]
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError) and form.show_errors(exc.fields):
                self._problem("Some fields need fixing (marked below)")
            else:
                self.cd_app.show_error(exc)

        def done(ov: OverrideView) -> None:
            self.notify(escape(f"Eligibility overridden until {ov.valid_until}"))
            self.dismiss(ov)

        self.db_call(save, done, write=True, on_error=failed, group="save")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
