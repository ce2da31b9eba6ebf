"""A supervisor lets invoices go to a payer despite a stale, missing or pending eligibility check.

Supervisors only: the dialog refuses to open for anyone else (and the service refuses anyway).
The reason is kept with the override, who granted it and until when (default: today only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from billing import coverage
from billing.coverage import OverrideView
from db.rights import Action
from db.timeutil import office_today
from tui.widgets.dialogs import FormDialog
from tui.widgets.forms import Field, parse_date

REFUSED = "Only a supervisor can override an eligibility check"


class EligibilityOverrideDialog(FormDialog[OverrideView]):
    HELP_TITLE = "Override eligibility"
    HELP = (
        "Lets invoices to this coverage's payer be issued without a fresh eligibility check, "
        "until the date given (at most 90 days ahead). Say why: the reason is kept in the record."
    )
    FORM_ID = "eligibility_override"
    SAVE_LABEL = "Override"
    SAVE_VARIANT = "warning"
    REQUIRES = (Action.ELIGIBILITY_OVERRIDE, REFUSED)

    def __init__(self, coverage_id: int, what: str, problem: str = "") -> None:
        super().__init__()
        self.coverage_id = coverage_id
        self.what = what  # "Bluewater Health Plan, member W123 (Smith, John)"
        self.why = problem

    def heading(self) -> str:
        return "Override the eligibility check"

    def intro(self) -> Iterable[Widget]:
        yield Static(Text(self.what))
        if self.why:
            yield Static(Text(self.why, style="italic"))

    def fields(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield Field(
            "reason", "Reason", required=True, placeholder="e.g. portal down; payer confirmed by phone"
        )
        yield Field(
            "valid_until",
            "Valid until",
            value=today.isoformat(),
            parse=parse_date,
            required=True,
            placeholder="YYYY-MM-DD",
        )

    def save(self, s: Any, values: dict[str, Any]) -> OverrideView:
        return coverage.grant_eligibility_override(
            self.actor, s, self.coverage_id, reason=values["reason"], valid_until=values["valid_until"]
        )

    def saved_message(self, result: OverrideView) -> str:
        return f"Eligibility overridden until {result.valid_until}"
