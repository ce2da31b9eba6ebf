"""Open a dispute on an invoice or one of its lines (docs/collections-screens.md).

The clerk records what the client disputes and why; the invoice goes on dispute hold (no
dunning, no automatic allocation) and the dispute goes to the supervisors' queue. The clerk
who opened it cannot decide it.
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

from billing import disputes
from billing.disputes import REASON_TEXT, DisputeView
from billing.invoices import InvoiceView
from db.errors import ValidationError
from db.money import fmt_money
from screens.common.collections_bits import NOTE_MAX
from tui.widgets.base import DbModal
from tui.widgets.forms import ChoiceField, Field, Form

WHOLE = 0  # the "line" choice meaning: the whole invoice


class DisputeDialog(DbModal[DisputeView | None]):
    HELP_TITLE = "Open a dispute"
    HELP = (
        "What the client disputes: the whole invoice or one line, the reason, and what they said "
        "(required for 'other'). The invoice goes on dispute hold until a supervisor decides. "
        "Ctrl+S opens the dispute, Esc closes."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Open dispute", id="dispute_form.save", tooltip="Open the dispute"),
        Binding("escape", "cancel", "Cancel", id="dispute_form.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, invoice: InvoiceView, line_no: int | None = None) -> None:
        super().__init__()
        self.invoice = invoice
        self.line_no = line_no
        self._saving = False

    def compose(self) -> ComposeResult:
        v = self.invoice
        lines = [("The whole invoice", WHOLE)] + [
            (f"Line {ln.line_no}: {ln.code} {ln.description[:30]} · {fmt_money(ln.amount)}", ln.line_no)
            for ln in v.lines
        ]
        chosen = self.line_no if self.line_no in {ln.line_no for ln in v.lines} else WHOLE
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Dispute on {v.label}", style="bold"), classes="dialog-title")
            yield Static(
                Text(
                    f"{v.client_name} ({v.account_number}) · to {v.bill_to_name} · total {fmt_money(v.total)} "
                    f"· balance {fmt_money(v.balance)}"
                )
            )
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                yield ChoiceField("line", "Disputed", lines, value=chosen, required=True)
                yield ChoiceField(
                    "reason",
                    "Reason",
                    [(t.capitalize(), r.value) for r, t in REASON_TEXT.items()],
                    required=True,
                )
                yield Field(
                    "description",
                    "What the client says",
                    max_length=NOTE_MAX,
                    placeholder="required for 'other'",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Open dispute (ctrl+s)", variant="warning", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-reason", Select).focus()

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._saving:
            return
        v = self.form.collect()
        if v is None:
            self._problem("Some fields need fixing (marked below)")
            self.notify("Some fields need fixing", severity="error")
            return
        self._problem(None)
        inv_id = self.invoice.id
        line = v["line"] or None

        def save(s: Any) -> DisputeView:
            return disputes.open_dispute(
                self.actor,
                s,
                invoice_id=inv_id,
                reason=v["reason"],
                description=v["description"],
                line_no=line,
            )

        def failed(exc: BaseException) -> None:
            self._saving = False
            if isinstance(exc, ValidationError):
                fields = {("line" if k == "line_no" else k): m for k, m in exc.fields.items()}
                if self.form.show_errors(fields):
                    self._problem("Some fields need fixing (marked below)")
                    return
            self._problem(str(exc))
            self.cd_app.show_error(exc)

        def done(d: DisputeView) -> None:
            where = f"line {d.line_no} of {d.invoice_number}" if d.line_no else d.invoice_number
            self.notify(escape(f"Dispute #{d.id} opened on {where}: on hold until a supervisor decides"))
            self.dismiss(d)

        self._saving = True
        self.db_call(save, done, write=True, on_error=failed, group="save")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
