"""Record an eligibility check: what the payer said about a coverage, on which day.

A fresh "eligible" check lets invoices go to that payer; a check older than the office's limit
(or none at all) shows as a warning on the account and blocks issuing until a new check is
recorded or a supervisor overrides it.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from billing import coverage
from billing.coverage import CoverageView, EligibilityCheckView
from db.enums import EligibilityResult
from db.timeutil import office_today
from tui.widgets.dialogs import FormDialog
from tui.widgets.forms import ChoiceField, Field, parse_date

RESULTS = [
    ("Eligible", "eligible"),
    ("Not eligible", "not_eligible"),
    ("Pending (asked, no answer yet)", "pending"),
]


class EligibilityForm(FormDialog[EligibilityCheckView]):
    HELP_TITLE = "Eligibility check"
    HELP = (
        "Record what the payer said (phone, portal, letter) and on which day. The check date may "
        "not be in the future. Ctrl+S saves, Esc closes."
    )
    FORM_ID = "eligibility_form"

    def __init__(
        self, client_name: str, coverages: tuple[CoverageView, ...], coverage_id: int | None = None
    ) -> None:
        super().__init__()
        self.client_name = client_name
        self.coverages = coverages
        ids = [c.id for c in coverages]
        self.coverage_id = coverage_id if coverage_id in ids else (ids[0] if ids else None)

    def heading(self) -> str:
        return f"Eligibility check for {self.client_name}"

    def fields(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        options = [
            (
                f"{c.rank.value} · {c.payer_name} · member {c.member_id}"
                + ("" if c.in_force_today else " (not in force today)"),
                c.id,
            )
            for c in self.coverages
        ]
        yield ChoiceField("coverage", "Coverage", options, value=self.coverage_id, required=True)
        yield Field(
            "checked_on",
            "Checked on",
            value=today.isoformat(),
            parse=parse_date,
            required=True,
            placeholder="YYYY-MM-DD",
        )
        yield ChoiceField("result", "Result", RESULTS, value=EligibilityResult.ELIGIBLE.value, required=True)
        yield Field("covered_services", "Covered services", placeholder="e.g. office visits, vaccines")
        yield Field("notes", "Notes", placeholder="who you spoke to, reference number…")

    def save(self, s: Any, v: dict[str, Any]) -> EligibilityCheckView:
        return coverage.record_eligibility_check(
            self.actor,
            s,
            v["coverage"],
            result=v["result"],
            checked_on=v["checked_on"],
            covered_services=v["covered_services"],
            notes=v["notes"],
        )

    def saved_message(self, result: EligibilityCheckView) -> str:
        return f"Recorded: {result.result.value.replace('_', ' ')} on {result.checked_on}"
