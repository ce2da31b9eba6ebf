"""Dispute queue (supervisor): open disputes oldest first, the client's history and the
invoice's explain view beside the highlighted one, and the three decisions (docs/collections-screens.md).

* ``w`` waive all or part (an adjustment; reason required), ``c`` confirm (the charge stands,
  the hold is released and dunning resumes at the level it had), ``r`` correct (a credit note
  and a new invoice with the corrected line amounts). Each asks for confirmation saying what
  will happen.
* The person who opened a dispute cannot decide it: the screen says so before asking for
  anything (the service refuses too).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pendulum
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, DataTable, Input, Static

from billing import disputes
from billing.disputes import DisputeDetail, DisputeView
from billing.invoices import LineView
from db.enums import DisputeStatus
from db.errors import ValidationError
from db.money import fmt_money
from db.rights import Action
from screens.clerk.client_search import ListTable
from screens.clerk.invoice_view import parse_lines
from screens.clerk.payment_widgets import parse_amount
from screens.common.collections_bits import REASON_MAX, cut, money_cell, refused, words
from tui.widgets.base import DbModal, DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Cell, Page

COLUMNS = ["On", "Account", "Client", "Invoice", "Disputed", "Reason", "By"]
WIDTHS = (5, 8, 14, 12, 10, 10, 6)  # 80 columns with the scrollbar
WIDE_WIDTHS = (5, 8, 28, 12, 10, 34, 12)  # 120 columns and more
HISTORY_CONTACTS = 5


def where(d: DisputeView) -> str:
    return f"line {d.line_no} of {d.invoice_number}" if d.line_no else d.invoice_number


def disputed_amount(d: DisputeView) -> Decimal:
    """What can be waived: the line's amount (at most the balance), or the balance."""
    if d.line_amount is not None:
        return min(d.line_amount, d.invoice_balance)
    return d.invoice_balance


def history_text(detail: DisputeDetail, tz: str) -> Text:
    d, led = detail.dispute, detail.ledger
    out = Text()
    out.append(f"{d.client_name} ({d.account_number})", "bold")
    out.append(
        f"\nOwes {fmt_money(led.client_balance)} · payers owe {fmt_money(led.payer_balance)} · "
        f"credit {fmt_money(led.account_credit)}"
    )
    out.append("\n\nDispute ", "bold")
    out.append(f"#{d.id} on {where(d)}: {d.reason_text}")
    opened = pendulum.instance(d.opened_at).in_timezone(tz).format("YYYY-MM-DD HH:mm")
    out.append(f"\nopened {opened} by {d.opened_by_login}")
    if d.description:
        out.append("\n“")
        out.append(d.description)
        out.append("”")
    out.append("\n\nContacts", "bold")
    if not detail.contacts:
        out.append("\n  none logged")
    for c in detail.contacts[:HISTORY_CONTACTS]:
        when = pendulum.instance(c.at).in_timezone(tz).format("YYYY-MM-DD")
        out.append(f"\n  {when} {c.channel.value} {words(c.outcome.value)} ({c.made_by_login})")
        if c.promise_amount is not None and c.promise_date is not None:
            state = f", {c.promise_state.value}" if c.promise_state else ""
            out.append(f" promise {fmt_money(c.promise_amount)} by {c.promise_date}{state}")
        if c.notes:
            out.append(": ")
            out.append(c.notes[:60])
    out.append("\n\nEarlier disputes", "bold")
    if not detail.other_disputes:
        out.append("\n  none")
    for o in detail.other_disputes[:5]:
        decided = f" {o.decided_by_login}: {o.decision_note[:40]}" if o.decided_by_login else ""
        out.append(f"\n  #{o.id} {where(o)} {o.status.value}{decided}")
    out.append("\n\nRecent invoices", "bold")
    for inv in led.invoices[:6]:
        hold = " DISPUTED" if inv.dispute_hold else ""
        out.append(
            f"\n  {inv.number} {inv.status.value.replace('_', ' ')} {fmt_money(inv.total)} "
            f"left {fmt_money(inv.balance)}{hold}"
        )
    return out


# --------------------------------------------------------------------------- decision dialog


class DecideDialog(DbModal[DisputeView | None]):
    """Waive, confirm or correct: the fields that decision needs, a confirmation, the service."""

    HELP_TITLE = "Decide a dispute"
    HELP = "Reason is required and kept with the decision. Ctrl+S asks for confirmation, Esc closes."
    BINDINGS = [
        Binding("ctrl+s", "save", "Decide", id="dispute_decide.save", tooltip="Decide (asks first)"),
        Binding("escape", "cancel", "Cancel", id="dispute_decide.cancel", tooltip="Change nothing"),
    ]
    TITLES = {"waive": "Waive", "confirm": "Confirm the charge", "correct": "Correct the invoice"}

    def __init__(self, detail: DisputeDetail, kind: str) -> None:
        super().__init__()
        self.detail = detail
        self.kind = kind
        self._saving = False

    def compose(self) -> ComposeResult:
        d = self.detail.dispute
        with Vertical(classes="dialog -wide"):
            yield Static(
                Text(f"{self.TITLES[self.kind]}: dispute #{d.id} on {where(d)}", style="bold"),
                classes="dialog-title",
            )
            yield Static(
                Text(
                    f"{d.client_name} ({d.account_number}) · {d.reason_text} · balance "
                    f"{fmt_money(d.invoice_balance)}"
                    + (f" · line {d.line_no} {fmt_money(d.line_amount)}" if d.line_amount is not None else "")
                )
            )
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                if self.kind == "waive":
                    yield Field(
                        "amount",
                        "Amount to waive",
                        parse=parse_amount,
                        placeholder=f"empty = all of it ({fmt_money(disputed_amount(d))})",
                    )
                if self.kind == "correct":
                    yield Field(
                        "amounts",
                        "Corrected amounts",
                        parse=parse_lines,
                        required=True,
                        placeholder="line=amount, e.g. 1=80.00, 2=0",
                    )
                yield Field(
                    "reason",
                    "Reason",
                    required=True,
                    max_length=REASON_MAX,
                    placeholder="kept with the decision",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Decide (ctrl+s)", variant="warning", id="save", compact=True)

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    def _what(self, v: dict[str, Any]) -> tuple[str, Any] | None:
        """The confirmation's text and the call to make, or None (fields marked)."""
        d, inv = self.detail.dispute, self.detail.invoice
        reason = v["reason"]
        if self.kind == "waive":
            amount: Decimal | None = v["amount"]
            most = disputed_amount(d)
            if amount is not None and amount > most:
                self.form.show_errors({"amount": f"is more than the disputed {fmt_money(most)}"})
                return None
            shown = amount if amount is not None else most
            text = (
                f"Waive {fmt_money(shown)} of {where(d)} ({d.client_name}). It is booked as a waive "
                f"adjustment; the balance goes from {fmt_money(d.invoice_balance)} to "
                f"{fmt_money(d.invoice_balance - shown)}. The dispute hold is released.\n\nReason: {reason}"
            )
            return text, lambda s: disputes.decide_waive(
                self.actor, s, d.id, reason=reason, version=d.version, amount=amount
            )
        if self.kind == "confirm":
            text = (
                f"The charge on {where(d)} stands ({fmt_money(d.invoice_balance)} owed). The dispute hold "
                "is released and dunning resumes at the level it had.\n\nReason: " + reason
            )
            return text, lambda s: disputes.decide_confirm(
                self.actor, s, d.id, reason=reason, version=d.version
            )
        amounts: dict[int, Any] = v["amounts"]
        by_no: dict[int, LineView] = {ln.line_no: ln for ln in inv.lines}
        bad = [n for n in amounts if n not in by_no]
        if bad:
            self.form.show_errors(
                {"amounts": f"{inv.label} has no line {bad[0]} (it has 1-{len(inv.lines)})"}
            )
            return None
        if any(a is None for a in amounts.values()):
            self.form.show_errors({"amounts": "give each line its corrected amount: 1=80.00"})
            return None
        if d.line_no is not None and set(amounts) != {d.line_no}:
            self.form.show_errors({"amounts": f"the dispute is on line {d.line_no}: correct only that line"})
            return None
        changes = "; ".join(
            f"line {n} {by_no[n].code} {fmt_money(by_no[n].amount)} → {fmt_money(a)}"
            for n, a in sorted(amounts.items())
        )
        text = (
            f"{inv.label} is credited with a credit note and a new invoice is issued with the corrected "
            f"amounts ({changes}; other lines unchanged). The dispute hold is released.\n\nReason: {reason}"
        )
        return text, lambda s: disputes.decide_correct(
            self.actor, s, d.id, reason=reason, version=d.version, amounts=amounts
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._saving:
            return
        v = self.form.collect()
        if v is None:
            self._problem("Some fields need fixing (marked below)")
            return
        what = self._what(v)
        if what is None:
            self._problem("Some fields need fixing (marked below)")
            return
        self._problem(None)
        text, call = what

        def decided(yes: bool | None) -> None:
            if not yes:
                return
            self._saving = True

            def failed(exc: BaseException) -> None:
                self._saving = False
                if isinstance(exc, ValidationError) and self.form.show_errors(
                    {("amounts" if k in ("amounts", "lines") else k): m for k, m in exc.fields.items()}
                ):
                    self._problem("Some fields need fixing (marked below)")
                    return
                self._problem(str(exc))
                self.cd_app.show_error(exc)

            self.db_call(call, self.dismiss, write=True, on_error=failed, group="save")

        self.app.push_screen(ConfirmDialog(f"{self.TITLES[self.kind]}?", text, "Decide"), decided)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- the queue


class DisputeQueueScreen(DbScreen):
    HELP_TITLE = "Dispute queue"
    HELP = (
        "Open disputes, oldest first. Beside the highlighted one: the client's history and how the "
        "disputed invoice was worked out. w waives all or part (reason required), c confirms the "
        "charge, r corrects the invoice (credit note and new invoice). Nobody decides a dispute "
        "they opened. / filters by account, invoice or name; s shows decided ones too."
    )
    BINDINGS = [
        Binding(
            "w", "decide('waive')", "Waive", id="disputes.waive", tooltip="Waive all or part (asks first)"
        ),
        Binding("c", "decide('confirm')", "Confirm", id="disputes.confirm", tooltip="The charge stands"),
        Binding(
            "r",
            "decide('correct')",
            "Correct",
            id="disputes.correct",
            tooltip="Credit note and a new invoice",
        ),
        Binding("s", "toggle_status", "Open/all", id="disputes.toggle", tooltip="Open disputes only, or all"),
        Binding("o", "open_account", "Account", id="disputes.account", tooltip="Open the client's account"),
        Binding("escape", "back", "Back", id="disputes.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.only_open = True
        self.wide = False  # set in compose from the terminal's width
        self.detail: DisputeDetail | None = None
        self._shown_id: int | None = None

    def compose(self) -> ComposeResult:
        self.wide = self.app.size.width >= 120
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(self._title(), id="disputes-title", classes="section-title")
        yield ListTable(
            COLUMNS,
            self.fetch,
            widths=WIDE_WIDTHS if self.wide else WIDTHS,
            page_size=30,
            id="disputes",
            filter_placeholder="account, invoice or name…",
        )
        with Horizontal(id="dispute-detail"):
            with VerticalScroll(id="dispute-history", classes="panel"):
                yield Static("Choose a dispute", id="dispute-history-text")
            with Vertical(id="dispute-explain-panel", classes="panel"):
                yield Static(Text("Explain", style="bold"), id="dispute-explain-title")
                explain: DataTable[Any] = DataTable(
                    id="dispute-explain", cursor_type="row", show_header=False
                )
                yield explain
        yield KeyFooter()

    def _title(self) -> Text:
        return Text.assemble(
            ("Disputes", "bold"), " · open, oldest first" if self.only_open else " · all, oldest first"
        )

    def on_mount(self) -> None:
        if refused(self, Action.DISPUTE_DECIDE, "decide disputes"):
            return
        self.query_one("#dispute-explain", DataTable).add_columns("Step", "Amount")
        self.query_one("#disputes", ListTable).focus()
        # A page arriving moves no cursor (no event to follow): look at the highlighted row often.
        self.set_interval(0.2, self._follow)

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        if not self.actor.can(Action.DISPUTE_DECIDE):
            return Page(rows=[], next_after=None)  # the screen shows the refusal only
        status = DisputeStatus.OPEN if self.only_open else None
        page = disputes.dispute_queue(
            self.actor, session, status=status, after=after, limit=limit, filter_text=text
        )
        tz = self.cd_app.tz
        rows: list[tuple[DisputeView, list[Cell]]] = []
        for d in page.rows:
            opened = pendulum.instance(d.opened_at).in_timezone(tz).format("MM-DD")
            disputed = (
                money_cell(disputed_amount(d)) if d.status == DisputeStatus.OPEN else Text(d.status.value)
            )
            rows.append(
                (
                    d,
                    [
                        opened,
                        d.account_number,
                        cut(d.client_name, 16),
                        d.invoice_number + (f":{d.line_no}" if d.line_no else ""),
                        disputed,
                        cut(d.reason_text, 34 if self.wide else 10),
                        cut(d.opened_by_login, 12 if self.wide else 6),
                    ],
                )
            )
        return Page(rows=rows, next_after=page.next_after)

    def reload(self) -> None:
        if not self.actor.can(Action.DISPUTE_DECIDE):
            return  # the screen shows the refusal only
        self._shown_id = None
        self.query_one("#disputes", ListTable).refresh_page()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "dispute-explain":
            self._follow()

    def _current(self) -> DisputeView | None:
        return self.query_one("#disputes", ListTable).current_key

    def _follow(self) -> None:
        d = self._current()
        if d is None:
            self.detail = None
            self._shown_id = None
            self.query_one("#dispute-history-text", Static).update(
                Text("No open disputes." if self.only_open else "No disputes.")
            )
            self.query_one("#dispute-explain", DataTable).clear()
            return
        if d.id == self._shown_id:
            return
        self._shown_id = d.id
        did = d.id

        def show(detail: DisputeDetail) -> None:
            if detail.dispute.id != self._shown_id:
                return  # the cursor moved on while this was read
            self.detail = detail
            self._show(detail)

        self.db_call(lambda s: disputes.dispute_detail(self.actor, s, did), show, group="detail")

    def _show(self, detail: DisputeDetail) -> None:
        self.query_one("#dispute-history-text", Static).update(history_text(detail, self.cd_app.tz))
        inv, d = detail.invoice, detail.dispute
        title = self.query_one("#dispute-explain-title", Static)
        t = self.query_one("#dispute-explain", DataTable)
        t.clear()
        lines = [ln for ln in inv.lines if d.line_no is None or ln.line_no == d.line_no]
        # Half the screen each; the amounts must stay visible, so the labels are cut to fit.
        room = max(12, self.size.width // 2 - 17)
        title.update(
            Text.assemble(
                ("Explain ", "bold"),
                f"{inv.label}: total {fmt_money(inv.total)}, paid {fmt_money(inv.amount_paid)}, "
                f"balance {fmt_money(inv.balance)}",
            )
        )
        for ln in lines:
            t.add_row(
                Text(cut(f"Line {ln.line_no} {ln.code} {ln.description}", room).plain, style="bold"),
                money_cell(ln.amount, bold=True),
                key=f"l{ln.line_no}",
            )
            for n, step in enumerate(ln.explain, start=1):
                t.add_row(
                    cut(f"  {n}. {step.label}", room), money_cell(step.amount), key=f"l{ln.line_no}.{n}"
                )

    # ------------------------------------------------------------------ actions

    def action_decide(self, kind: str) -> None:
        d = self._current()
        if d is None:
            self.notify("No dispute highlighted", severity="warning")
            return
        if d.status != DisputeStatus.OPEN:
            self.notify(escape(f"Dispute #{d.id} is already decided ({d.status.value})"), severity="warning")
            return
        # Check first: the person who opened it reads the rule before typing a reason.
        if d.opened_by == self.actor.user_id:
            self.notify(
                escape(f"You opened dispute #{d.id}: another supervisor must decide it"),
                title="Not yours to decide",
                severity="error",
                timeout=10,
            )
            return
        detail = self.detail
        if detail is None or detail.dispute.id != d.id:
            self.notify("The dispute's details are still loading", severity="warning")
            return

        def done(result: DisputeView | None) -> None:
            if result is None:
                return
            word = {"waived": "waived", "confirmed": "confirmed", "corrected": "corrected"}[
                result.status.value
            ]
            extra = ""
            if result.waived_amount is not None:
                extra = f": {fmt_money(result.waived_amount)} waived"
            if result.new_invoice_number:
                extra = f": credit note {result.credit_note_number}, new invoice {result.new_invoice_number}"
            self.notify(escape(f"Dispute #{result.id} {word}{extra}"))
            self.reload()

        self.app.push_screen(DecideDialog(detail, kind), done)

    def action_toggle_status(self) -> None:
        self.only_open = not self.only_open
        self.query_one("#disputes-title", Static).update(self._title())
        self._shown_id = None
        self.query_one("#disputes", ListTable).reload()

    def action_open_account(self) -> None:
        d = self._current()
        if d is None:
            return
        from screens.clerk.client_account import ClientAccountScreen

        self.app.push_screen(ClientAccountScreen(d.client_id))
