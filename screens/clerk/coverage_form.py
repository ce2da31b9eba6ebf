"""Add a coverage to a client: payer, primary or secondary, member id, group, subscriber, dates,
copay, coinsurance, deductible and what is left of it.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from billing import coverage
from billing.catalog import PayerView
from billing.coverage import RELATIONS, CoverageView
from db.enums import CoverageRank
from db.timeutil import office_today
from tui.widgets.dialogs import FormDialog
from tui.widgets.forms import ChoiceField, Field, ParseError, parse_date, parse_money


def parse_percent(text: str) -> str:
    """Kept as text for the service (which knows the rules); only the shape is checked here."""
    t = text.strip().rstrip("%").strip()
    if not t:
        raise ParseError("is required (0 when the payer takes no coinsurance)")
    return t


class CoverageForm(FormDialog[CoverageView]):
    HELP_TITLE = "Add coverage"
    HELP = (
        "A client has at most one primary and one secondary coverage in force on any day. "
        "Remaining deductible empty = the whole deductible. Ctrl+S saves, Esc closes."
    )
    FORM_ID = "coverage_form"

    def __init__(
        self,
        client_id: int,
        client_name: str,
        payers: tuple[PayerView, ...],
        existing: tuple[CoverageView, ...] = (),
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_name = client_name
        self.payers = payers
        self.existing = existing

    def heading(self) -> str:
        return f"Add coverage for {self.client_name}"

    def fields(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        has_primary = any(c.in_force_today and c.rank == CoverageRank.PRIMARY for c in self.existing)
        yield ChoiceField(
            "payer",
            "Payer",
            [(f"{p.name} ({p.kind.value}, {p.terms_days} days)", p.id) for p in self.payers],
            required=True,
        )
        yield ChoiceField(
            "rank",
            "Rank",
            [("Primary", "primary"), ("Secondary", "secondary")],
            value="secondary" if has_primary else "primary",
            required=True,
        )
        yield Field("member_id", "Member id", required=True, placeholder="as on the card")
        yield Field("group_number", "Group number")
        yield Field("subscriber_name", "Subscriber", placeholder="empty = the client")
        yield ChoiceField(
            "subscriber_relation",
            "Subscriber is the client's",
            [(r, r) for r in RELATIONS],
            value="self",
            required=True,
        )
        yield Field(
            "effective_from",
            "Effective from",
            value=today.isoformat(),
            parse=parse_date,
            required=True,
            placeholder="YYYY-MM-DD",
        )
        yield Field("effective_to", "Effective to", parse=parse_date, placeholder="empty = open-ended")
        yield Field("copay", "Copay per visit", value="0.00", parse=parse_money, required=True)
        yield Field("coinsurance", "Coinsurance %", value="0", parse=parse_percent, required=True)
        yield Field("deductible", "Deductible", value="0.00", parse=parse_money, required=True)
        yield Field(
            "deductible_remaining",
            "Deductible remaining",
            parse=parse_money,
            placeholder="empty = the whole deductible",
        )

    def save(self, s: Any, v: dict[str, Any]) -> CoverageView:
        return coverage.add_coverage(
            self.actor,
            s,
            self.client_id,
            payer_id=v["payer"],
            rank=v["rank"],
            member_id=v["member_id"],
            effective_from=v["effective_from"],
            effective_to=v["effective_to"],
            group_number=v["group_number"],
            subscriber_name=v["subscriber_name"],
            subscriber_relation=v["subscriber_relation"],
            copay=v["copay"],
            coinsurance_percent=v["coinsurance"],
            deductible=v["deductible"],
            deductible_remaining=v["deductible_remaining"],
        )

    def saved_message(self, result: CoverageView) -> str:
        return f"Added {result.rank.value} coverage {result.payer_name} ({result.member_id})"
