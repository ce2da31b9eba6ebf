"""Batch posting: a stack of checks typed against a control total and count (docs/payments.md).

The clerk first adds up the stack (control total, number of checks), then types each check:
who paid (a payer's name or a client's account number / name), amount, reference, and
optionally the invoice number written on the stub. The running total, the count and the
difference to the control figures are always on screen, in words as well as colour. The batch
saves only when both match, after a confirmation; the service checks again and posts all or
nothing. The batch key is made when the screen opens, so saving twice records it once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from billing import payments
from billing.clients import search_clients
from billing.payment_views import DeskContext, PayerChoice, desk_context, find_invoice_id
from db.enums import PayerSide, PaymentMethod
from db.money import ZERO
from db.timeutil import office_today
from screens.clerk.payment_widgets import (
    MATCHES_SHOWN,
    Lookup,
    Match,
    client_match,
    money,
    parse_amount,
    received_date_parser,
)
from tui.widgets.base import FOCUS_BINDINGS
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormMixin, collect_or_mark
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form, parse_int
from tui.widgets.header import OfficeHeader

CONFIRM_LINES = 10
FIGURES_FIRST = "Type the control total, count and date first: each line is counted against them"


@dataclass(frozen=True)
class BatchLine:
    side: PayerSide
    party_id: int
    party: str  # as shown: payer name or "A00012  Doe, Jane"
    amount: Decimal
    reference: str
    invoice_number: str
    invoice_id: int | None

    def item(self) -> payments.BatchItem:
        return payments.BatchItem(
            side=self.side,
            amount=self.amount,
            client_id=self.party_id if self.side == PayerSide.CLIENT else None,
            payer_id=self.party_id if self.side == PayerSide.PAYER else None,
            reference=self.reference,
            invoice_id=self.invoice_id,
            method=PaymentMethod.CHECK,
        )


def party_matches(actor: Any, session: Any, text: str, payers: Sequence[PayerChoice]) -> list[Match]:
    """Payers whose name has every typed word, then clients (account, name, phone, member id)."""
    if not text.strip():
        return []
    words = text.casefold().split()
    out = [
        Match(
            (PayerSide.PAYER, p.id),
            Text.assemble((p.name, "bold"), (f"  payer ({p.kind})", "dim")),
            p.name,
        )
        for p in payers
        if all(w in p.name.casefold() for w in words)
    ][:3]
    for row in search_clients(actor, session, text, limit=MATCHES_SHOWN - len(out)).rows:
        m = client_match(row)
        out.append(Match((PayerSide.CLIENT, row.id), m.label, m.chosen, m.name))
    return out


def batch_status(
    lines: Sequence[BatchLine],
    control: Decimal | None,
    count: int | None,
    symbol: str,
    saved: int | None = None,
) -> Text:
    """The running figures, readable without colour: the words say whether the batch balances."""
    total = sum((line.amount for line in lines), ZERO)
    if control is None or count is None:
        return Text.assemble(
            (f"Entered {len(lines)} checks, {money(total, symbol)}", "bold"),
            " · type the control total and count above first",
        )
    diff = total - control
    balanced = diff == 0 and len(lines) == count
    text = Text()
    text.append(f"{len(lines)} of {count} checks", style="bold")
    text.append(f" · {money(total, symbol)} of {money(control, symbol)}")
    text.append(f" · difference {money(diff, symbol)}")
    text.append("  ")
    if saved is not None:
        text.append(f" SAVED as batch #{saved} ", style="bold reverse")
    elif balanced:
        text.append(" BALANCED ", style="bold reverse")
    else:
        why = []
        if len(lines) != count:
            n = count - len(lines)
            why.append(f"{abs(n)} {'missing' if n > 0 else 'too many'}")
        if diff != 0:
            why.append("total differs")
        text.append(f" NOT BALANCED ({', '.join(why)}) ", style="bold")
    return text


class BatchPostScreen(FormMixin[payments.BatchResult], Screen[payments.BatchResult | None]):
    HELP_TITLE = "Batch posting"
    HELP = (
        "Add up the stack first: type the control total and the number of checks. Then type each "
        "check: who paid (payer name, or the client's account number or name; ↑↓ and Enter take a "
        "match), amount, reference and, if the stub names one, the invoice number; Enter adds the "
        "line. In the list of lines Enter takes a line back for correction and Delete removes it. "
        "ctrl+s saves only when count and total match; all checks are saved or none."
    )
    BINDINGS = [
        *FOCUS_BINDINGS,  # a fast burst of keys and Tabs lands field by field
        Binding(
            "ctrl+s", "save", "Save batch", id="batch_post.save", tooltip="Confirm and post the whole batch"
        ),
        Binding(
            "ctrl+l",
            "add_line",
            "Add line",
            id="batch_post.add",
            tooltip="Add the check typed below the figures",
        ),
        Binding("ctrl+o", "lines", "Lines", id="batch_post.lines", tooltip="Go to the list of lines"),
        Binding(
            "ctrl+t",
            "control",
            "Control total",
            id="batch_post.control",
            tooltip="Go to the control total and count",
        ),
        Binding(
            "delete",
            "remove_line",
            "Remove line",
            id="batch_post.remove",
            tooltip="Remove the selected line (in the list of lines)",
        ),
        Binding("ctrl+n", "new_batch", "New batch", id="batch_post.new", tooltip="Start a new, empty batch"),
        Binding("escape", "close", "Close", id="batch_post.close", tooltip="Back to the previous screen"),
    ]
    FIELD_ALIASES = {"control_total": "control"}

    def __init__(self) -> None:
        super().__init__()
        self.batch_key = ""
        self.ctx: DeskContext | None = None
        self.lines: list[BatchLine] = []
        self.result: payments.BatchResult | None = None
        self.saving = False
        self.checking_line = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Batch posting: a stack of checks", style="bold"), classes="title")
        yield self.problem_line("time-problem")
        with Form(id="batch-head"), Horizontal():
            yield Field("control", "Control total", parse=parse_amount, required=True, placeholder="0.00")
            yield Field(
                "count", "Count", parse=lambda t: parse_int(t, 1, payments.MAX_BATCH_ITEMS), required=True
            )
            yield Field(
                "date", "Received", value=today.isoformat(), parse=received_date_parser(today), required=True
            )
        with Vertical(id="batch-entry"), Form(id="batch-line"):
            yield Lookup(
                "party",
                "From",
                lambda s, t: party_matches(self.actor, s, t, self.ctx.payers if self.ctx else ()),
                placeholder="payer name, or client account number / name",
                required=True,
                how="type a payer or client and take a match",
            )
            with Horizontal():
                yield Field("amount", "Amount", parse=parse_amount, required=True, placeholder="0.00")
                yield Field("reference", "Ref", max_length=payments.MAX_REFERENCE, placeholder="check no.")
                yield Field("invoice", "Invoice", max_length=20, placeholder="optional")
        yield Static("", id="batch-status")
        yield Static("", id="batch-result")
        table: DataTable[str | Text] = DataTable(id="batch-lines", cursor_type="row", zebra_stripes=True)
        table.tooltip = "The checks entered: Enter takes one back for correction, Delete removes it"
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.batch_key = f"tui-batch-{self.actor.login}-{uuid.uuid4().hex}"
        self.query_one("#batch-result", Static).display = False
        self.query_one("#batch-lines", DataTable).add_columns("#", "From", "Amount", "Reference", "Invoice")
        self.db_call(lambda s: desk_context(self.actor, s), self._context_loaded, group="ctx")
        self.query_one("#input-control").focus()
        self.refresh_status()

    def _context_loaded(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self.refresh_status()

    @property
    def symbol(self) -> str:
        return self.ctx.symbol if self.ctx else "$"

    @property
    def form(self) -> Form:
        """The control figures: what ctrl+s saves (the lines are checked one by one as added)."""
        return self.query_one("#batch-head", Form)

    @property
    def line_form(self) -> Form:
        return self.query_one("#batch-line", Form)

    # ------------------------------------------------------------------ figures

    def control_figures(self) -> tuple[Decimal | None, int | None]:
        """The control total and count as typed, for the running figures (None while not valid)."""
        out: list[Any] = []
        for name in ("control", "count"):
            try:
                out.append(self.query_one(f"#field-{name}", Field).value())
            except ValueError:
                out.append(None)
        return out[0], out[1]

    def refresh_status(self) -> None:
        control, count = self.control_figures()
        saved = self.result.batch_id if self.result is not None else None
        self.query_one("#batch-status", Static).update(
            batch_status(self.lines, control, count, self.symbol, saved)
        )

    @on(Input.Changed, "#input-control, #input-count")
    def _figures_changed(self, event: Input.Changed) -> None:
        self.refresh_status()

    def show_lines(self, select: int | None = None) -> None:
        table = self.query_one("#batch-lines", DataTable)
        table.clear()
        for n, line in enumerate(self.lines, start=1):
            table.add_row(
                str(n),
                Text(line.party),
                Text(money(line.amount, self.symbol), justify="right"),
                Text(line.reference),
                Text(line.invoice_number),
                key=str(n),
            )
        if self.lines:
            table.move_cursor(
                row=min(select if select is not None else len(self.lines) - 1, len(self.lines) - 1)
            )
        self.refresh_status()

    # ------------------------------------------------------------------ lines

    @on(Input.Submitted, "#input-amount, #input-reference, #input-invoice")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add_line()

    def action_add_line(self) -> None:
        if self.result is not None:
            self.notify("This batch is saved; ctrl+n starts a new one", severity="warning")
            return
        if self.checking_line or self.saving:
            return
        # The control figures first, marked like a save marks them.
        if collect_or_mark(self.form, lambda m: self.problem(m and FIGURES_FIRST)) is None:
            return
        lookup = self.query_one("#lookup-party", Lookup)
        values = collect_or_mark(self.line_form, self.problem)
        if values is None or lookup.match is None:
            return
        side, party_id = values["party"]
        number = values["invoice"].strip().upper()
        line = BatchLine(
            side, party_id, lookup.match.chosen, values["amount"], values["reference"], number, None
        )
        if not number:
            self._append(line)
            return

        def check(s: Any) -> BatchLine:
            invoice_id = find_invoice_id(self.actor, s, number)
            # Refuses an invoice that is not this party's or takes no money, with the reason.
            payments.preview_payment(
                self.actor,
                s,
                side=side,
                amount=line.amount,
                client_id=line.item().client_id,
                payer_id=line.item().payer_id,
                invoice_id=invoice_id,
            )
            return BatchLine(side, party_id, line.party, line.amount, line.reference, number, invoice_id)

        def refused(exc: BaseException) -> None:
            self.checking_line = False
            self.say_refusal(exc, self.line_form)

        def checked(checked_line: BatchLine) -> None:
            self.checking_line = False
            self._append(checked_line)

        self.checking_line = True
        self.db_call(check, checked, on_error=refused, group="line")

    def _append(self, line: BatchLine) -> None:
        self.lines.append(line)
        self.problem(None)
        self.show_lines()
        lookup = self.query_one("#lookup-party", Lookup)
        lookup.pick(None, announce=False)
        for name in ("amount", "reference", "invoice"):
            self.query_one(f"#input-{name}", Input).value = ""
        lookup.focus()

    def _selected_index(self) -> int | None:
        table = self.query_one("#batch-lines", DataTable)
        if not self.lines or not table.has_focus:
            return None
        return table.cursor_row if 0 <= table.cursor_row < len(self.lines) else None

    def action_remove_line(self) -> None:
        index = self._selected_index()
        if index is None or self.result is not None or self.saving:
            return
        line = self.lines.pop(index)
        self.notify(f"Removed line {index + 1} ({money(line.amount, self.symbol)})", timeout=3)
        self.show_lines(select=index)

    @on(DataTable.RowSelected, "#batch-lines")
    def _take_back(self, event: DataTable.RowSelected) -> None:
        """Enter on a line: back into the entry fields for correction."""
        index = event.cursor_row
        if self.result is not None or self.saving or not 0 <= index < len(self.lines):
            return
        line = self.lines.pop(index)
        self.show_lines(select=index)
        self.query_one("#lookup-party", Lookup).pick(
            Match((line.side, line.party_id), Text(line.party), line.party), announce=False
        )
        self.query_one("#input-amount", Input).value = str(line.amount)
        self.query_one("#input-reference", Input).value = line.reference
        self.query_one("#input-invoice", Input).value = line.invoice_number
        self.query_one("#input-amount", Input).focus()

    def action_control(self) -> None:
        self.query_one("#input-control", Input).focus()

    def action_lines(self) -> None:
        self.query_one("#batch-lines", DataTable).focus()

    # ------------------------------------------------------------------ saving

    def action_save(self) -> None:
        if self.result is not None:
            self.notify("This batch is saved already; ctrl+n starts a new one", severity="warning")
            return
        super().action_save()

    def before_save(self, values: dict[str, Any]) -> None:
        control: Decimal = values["control"]
        count: int = values["count"]
        day: dt.date = values["date"]
        sym = self.symbol
        total = sum((line.amount for line in self.lines), ZERO)
        if len(self.lines) != count or total != control:
            self.stop_saving(
                "Cannot save: the batch does not balance. "
                f"{len(self.lines)} checks for {money(total, sym)} entered; the control figures "
                f"say {count} checks for {money(control, sym)}. Find the missing or mistyped check, "
                "or correct the control figures."
            )
            return
        rows = [
            f"  {n:>3}  {line.party[:30]:<30} {money(line.amount, sym):>13}"
            + (f"  → {line.invoice_number}" if line.invoice_number else "")
            for n, line in enumerate(self.lines[:CONFIRM_LINES], start=1)
        ]
        if len(self.lines) > CONFIRM_LINES:
            rest = self.lines[CONFIRM_LINES:]
            rows.append(f"  … and {len(rest)} more checks, {money(sum((r.amount for r in rest), ZERO), sym)}")
        body = "\n".join(
            [
                f"Post {count} checks, {money(total, sym)} in all, received {day.isoformat()}.",
                "",
                *rows,
                "",
                "Each check goes to its party's open items oldest first (or to the invoice named); "
                "money beyond what is open becomes account credit. All or nothing: if one check is "
                "refused, none is saved.",
            ]
        )
        self.ask_then_save(ConfirmDialog("Post this batch?", body, "Post batch"), values)

    def save(self, session: Any, values: dict[str, Any]) -> payments.BatchResult:
        # The lines stay as confirmed: adding, removing and taking back wait while saving.
        return payments.post_batch(
            self.actor,
            session,
            batch_key=self.batch_key,
            control_total=values["control"],
            count=values["count"],
            received_on=values["date"],
            items=[line.item() for line in self.lines],
        )

    def saved(self, result: payments.BatchResult) -> None:
        self.result = result
        sym = self.symbol
        text = Text()
        if result.duplicate:
            text.append("Already recorded", style="bold reverse")
            text.append(f": batch #{result.batch_id} was posted with this key before; nothing changed.")
        else:
            text.append(f"Batch #{result.batch_id} saved", style="bold")
            text.append(f": {result.count} payments, {money(result.control_total, sym)}")
            text.append(f"; account credit added {money(result.credit_added, sym)}")
        for n, p in enumerate(result.payments, start=1):
            went = (
                ", ".join(f"{a.invoice_number} {money(a.amount, sym)}" for a in p.allocations) or "no invoice"
            )
            credit = f"; credit {money(p.unapplied, sym)}" if p.unapplied > 0 else ""
            text.append(f"\n  {n:>3}  payment #{p.id}: {went}{credit}")
        box = self.query_one("#batch-result", Static)
        box.display = True
        box.update(text)
        self.refresh_status()
        self.notify(
            f"Batch #{result.batch_id}: already recorded, nothing changed"
            if result.duplicate
            else f"Batch #{result.batch_id} saved: {result.count} payments"
        )

    def action_new_batch(self) -> None:
        if self.saving:
            return
        if self.lines and self.result is None:

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._reset()

            self.app.push_screen(
                ConfirmDialog(
                    "Discard this batch?",
                    f"The {len(self.lines)} checks typed so far are not saved and will be dropped.",
                    "Discard",
                ),
                confirmed,
            )
            return
        self._reset()

    def _reset(self) -> None:
        self.batch_key = f"tui-batch-{self.actor.login}-{uuid.uuid4().hex}"
        self.lines = []
        self.result = None
        for name in ("control", "count", "amount", "reference", "invoice"):
            self.query_one(f"#input-{name}", Input).value = ""
        self.query_one("#lookup-party", Lookup).pick(None, announce=False)
        self.problem(None)
        self.form.show_errors({})
        self.line_form.show_errors({})
        self.query_one("#batch-result", Static).display = False
        self.show_lines()
        self.query_one("#input-control").focus()

    def action_close(self) -> None:
        if self.saving:
            self.notify("Saving… wait a moment", severity="warning")
            return
        if self.lines and self.result is None:

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.dismiss(None)

            self.app.push_screen(
                ConfirmDialog(
                    "Leave without saving?",
                    f"The {len(self.lines)} checks typed so far are not saved and will be dropped.",
                    "Leave",
                ),
                confirmed,
            )
            return
        self.dismiss(self.result)

    def reload(self) -> None:
        self.db_call(lambda s: desk_context(self.actor, s), self._context_loaded, group="ctx")
