"""Add a coverage to a client: payer, primary or secondary, member id, group, subscriber, dates,
copay, coinsurance, deductible and what is left of it.
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
from billing.catalog import PayerView
from billing.coverage import RELATIONS, CoverageView
from db.errors import ConflictError, ValidationError
from db.models import CoverageRank
from db.timeutil import office_today
from tui.base import DbModal
from tui.widgets.forms import ChoiceField, Field, Form, ParseError, parse_date, parse_money


def parse_percent(text: str) -> str:
    """Kept as text for the service (which knows the rules); only the shape is checked here."""
    t = text.strip().rstrip("%").strip()
    if not t:
        raise ParseError("is required (0 when the payer takes no coinsurance)")
    return t


class CoverageForm(DbModal[CoverageView | None]):
    HELP_TITLE = "Add coverage"
    HELP = (
        "A client has at most one primary and one secondary coverage in force on any day. "
        "Remaining deductible empty = the whole deductible. Ctrl+S saves, Esc closes."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="coverage_form.save", tooltip="Save the coverage"),
        Binding("escape", "cancel", "Cancel", id="coverage_form.cancel", tooltip="Close without saving"),
    ]

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

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        has_primary = any(c.in_force_today and c.rank == CoverageRank.PRIMARY for c in self.existing)
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Add coverage for {self.client_name}", style="bold"), classes="dialog-title")
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
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
                yield Field(
                    "effective_to", "Effective to", parse=parse_date, placeholder="empty = open-ended"
                )
                yield Field("copay", "Copay per visit", value="0.00", parse=parse_money, required=True)
                yield Field("coinsurance", "Coinsurance %", value="0", parse=parse_percent, required=True)
                yield Field("deductible", "Deductible", value="0.00", parse=parse_money, required=True)
                yield Field(
                    "deductible_remaining",
                    "Deductible remaining",
                    parse=parse_money,
                    placeholder="empty = the whole deductible",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-payer", Select).focus()

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
        cid = self.client_id

        def save(s: Any) -> CoverageView:
            return coverage.add_coverage(
                self.actor,
                s,
                cid,
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

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationError) and self.form.show_errors(exc.fields):
                self._problem("Some fields need fixing (marked below)")
                self.notify("Some fields need fixing", severity="error")
            elif isinstance(exc, ConflictError):
                self._problem(str(exc))
                self.notify(escape(str(exc)), title="Not saved", severity="error", timeout=10)
            else:
                self.cd_app.show_error(exc)

        def done(view: CoverageView) -> None:
            self.notify(escape(f"Added {view.rank.value} coverage {view.payer_name} ({view.member_id})"))
            self.dismiss(view)

        self.db_call(save, done, write=True, on_error=failed, group="save")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
