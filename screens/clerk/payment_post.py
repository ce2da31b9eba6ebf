"""Post one payment: from a client or a payer, oldest first or to a named invoice (docs/payments.md).

The idempotency key is made when the form opens (and again with ctrl+n, "new payment"), so
saving twice, or again after a dropped connection, records the payment once: the second save
finds the key and says "already recorded". Before anything is saved a confirmation shows,
invoice by invoice, where the money will go and what becomes account credit; after saving the
screen shows what really happened. Esc closes and hands the caller the last result (truthy
when something was saved), so the client account screen can reload.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static

from billing import payments
from billing.payment_views import (
    ClientBrief,
    DeskContext,
    PartySummary,
    PaymentExplanation,
    client_brief,
    desk_context,
    explain_payment,
    party_summary,
)
from db.enums import PayerSide, PaymentMethod
from db.errors import ConflictError
from db.timeutil import office_today
from screens.clerk.payment_widgets import (
    Lookup,
    Match,
    client_search,
    money,
    parse_amount,
    payer_search,
    received_date_parser,
    status_words,
)
from tui.widgets.base import FOCUS_BINDINGS
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormBody, FormMixin
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, Form
from tui.widgets.header import OfficeHeader

OPEN_COLUMNS = ["Invoice", "Due", "Total", "Balance", "Status"]
OLDEST_FIRST = 0  # the "apply to" choice meaning: the party's open items, oldest first
CONFIRM_LINES = 12  # invoices listed one by one in the confirmation; the rest are summed

METHODS = [
    ("Check", PaymentMethod.CHECK.value),
    ("Card", PaymentMethod.CARD.value),
    ("Cash", PaymentMethod.CASH.value),
    ("Bank transfer", PaymentMethod.BANK_TRANSFER.value),
    ("EFT (payer remittance)", PaymentMethod.EFT.value),
]
SIDES = [
    ("Client (own bills)", PayerSide.CLIENT.value),
    ("Payer (insurer, agency, …)", PayerSide.PAYER.value),
]


def new_key(login: str) -> str:
    return f"tui-{login}-{uuid.uuid4().hex}"


def describe_plan(expl: PaymentExplanation, symbol: str) -> list[str]:
    """The confirmation's 'where the money goes' lines (plain text, ≤ 68 columns)."""
    out: list[str] = []
    if expl.lines:
        out.append("It goes to:")
        for line in expl.lines[:CONFIRM_LINES]:
            after = "→ paid" if line.balance_after <= 0 else f"→ {money(line.balance_after, symbol)} left"
            due = f"due {line.due_date.isoformat()}" if line.due_date else "no due date"
            out.append(f"  {line.number:<11} {due:<14} {money(line.amount, symbol):>13}  {after}")
            if line.installments:
                seqs = ", ".join(str(n) for n in line.installments)
                out.append(f"  {'':<12} (installment {seqs} of plan {expl.plan_number})")
        rest = expl.lines[CONFIRM_LINES:]
        if rest:
            total = sum((r.amount for r in rest), Decimal("0.00"))
            out.append(f"  … and {len(rest)} more invoices, {money(total, symbol)} in all")
    else:
        out.append("Nothing is open to pay.")
    out.append(f"Account credit: {money(expl.credit, symbol)}")
    return out


def describe_result(r: payments.PostResult, symbol: str) -> Text:
    """What was recorded, for the result panel (user data as plain Text, never markup)."""
    p = r.payment
    text = Text()
    if r.duplicate:
        text.append("Already recorded", style="bold reverse")
        text.append(
            f": payment #{p.id} ({money(p.amount, symbol)}, received {p.received_on.isoformat()}) was posted "
            "with this key before; nothing changed.\n"
        )
    else:
        text.append(f"Payment #{p.id} posted", style="bold")
        text.append(
            f": {money(p.amount, symbol)} by {status_words(p.method.value)} from {p.party}, "
            f"received {p.received_on.isoformat()}"
        )
        if p.reference:
            text.append(f", reference {p.reference}")
        text.append("\n")
    states = {i.invoice_id: i for i in r.invoices}
    spent: dict[int, Decimal] = {}
    numbers: dict[int, str] = {}
    for a in p.allocations:
        spent[a.invoice_id] = spent.get(a.invoice_id, Decimal("0.00")) + a.amount
        numbers[a.invoice_id] = a.invoice_number
    for iid, amount in spent.items():
        st = states.get(iid)
        now = f"now {status_words(st.status.value)}, balance {money(st.balance, symbol)}" if st else ""
        text.append(f"  {numbers[iid]:<12} {money(amount, symbol):>12}  {now}\n")
    if not spent:
        text.append("  applied to no invoice\n")
    text.append(f"  Account credit from this payment: {money(p.unapplied, symbol)}")
    if r.plan_change is not None and r.plan_change.before != r.plan_change.after:
        text.append(f"\n  Payment plan now {r.plan_change.after.value}")
    return text


class PaymentPostScreen(FormMixin[payments.PostResult], Screen[payments.PostResult | None]):
    HELP_TITLE = "Post a payment"
    HELP = (
        "Choose who paid (a client, or a payer such as an insurer), then the amount, method, received "
        "date and reference. The money goes to the open items oldest first unless you name an invoice "
        "under 'Apply to' (or press Enter on it in the open items list). ctrl+s shows exactly where the "
        "money will go and asks before saving. Saving twice records the payment once; ctrl+n starts a "
        "new payment."
    )
    BINDINGS = [
        *FOCUS_BINDINGS,  # a fast burst of keys and Tabs lands field by field
        Binding(
            "ctrl+s", "save", "Post", id="payment_post.save", tooltip="Check, confirm and post the payment"
        ),
        Binding(
            "ctrl+n",
            "new",
            "New payment",
            id="payment_post.new",
            tooltip="Clear the amount and start a new payment",
        ),
        Binding(
            "ctrl+o",
            "open_items",
            "Open items",
            id="payment_post.open_items",
            tooltip="Go to the list of open items (Enter names one for 'Apply to')",
        ),
        Binding(
            "ctrl+f", "find", "Find party", id="payment_post.find", tooltip="Go to the client / payer look-up"
        ),
        Binding("escape", "close", "Close", id="payment_post.close", tooltip="Back to the previous screen"),
    ]

    BUSY_MESSAGE = "Still saving the last payment…"

    def __init__(self, client_id: int | None = None) -> None:
        super().__init__()
        self.initial_client_id = client_id
        self.key = ""
        self.ctx: DeskContext | None = None
        self.summary: PartySummary | None = None
        self.last_result: payments.PostResult | None = None
        self.saving = False
        self._party_generation = 0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Post a payment", style="bold"), classes="title")
        with FormBody(id="payment-body"):
            yield self.problem_line()
            with Form(id="payment-form"):
                yield ChoiceField("side", "Who paid", SIDES, value=PayerSide.CLIENT.value, required=True)
                yield Lookup(
                    "payer",
                    "Payer",
                    payer_search(()),
                    in_memory=True,
                    placeholder="type the payer's name",
                    required=True,
                    how="type the payer's name and take a match",
                )
                yield Lookup(
                    "client",
                    "Client",
                    client_search(self.actor),
                    placeholder="account number or last name",
                    required=True,
                    how="type an account number or a name and take a match",
                )
                yield Field("amount", "Amount", parse=parse_amount, required=True, placeholder="e.g. 125.50")
                yield ChoiceField("method", "Method", METHODS, value=PaymentMethod.CHECK.value, required=True)
                yield Field(
                    "date",
                    "Received on",
                    value=today.isoformat(),
                    parse=received_date_parser(today),
                    required=True,
                    placeholder="YYYY-MM-DD",
                )
                yield Field(
                    "reference",
                    "Reference (check no.)",
                    max_length=payments.MAX_REFERENCE,
                    placeholder="check number or remittance id",
                )
                yield ChoiceField(
                    "invoice", "Apply to", [("Oldest first", OLDEST_FIRST)], value=OLDEST_FIRST, required=True
                )
            yield Static("", id="payment-result", classes="panel")
            yield Static("", id="open-summary", classes="muted")
            table: DataTable[str | Text] = DataTable(id="open-items", cursor_type="row", zebra_stripes=True)
            table.tooltip = "Open items, oldest first: Enter names one for 'Apply to'"
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        self.key = new_key(self.actor.login)
        self.query_one("#payment-result", Static).display = False
        self.query_one("#lookup-payer", Lookup).display = False
        t = self.query_one("#open-items", DataTable)
        t.add_columns(*OPEN_COLUMNS)
        self.db_call(lambda s: desk_context(self.actor, s), self._context_loaded, group="ctx")
        if self.initial_client_id is not None:
            cid = self.initial_client_id
            self.db_call(lambda s: client_brief(self.actor, s, cid), self._client_loaded, group="client")
        self.query_one("#lookup-client", Lookup).focus()

    def _context_loaded(self, ctx: DeskContext) -> None:
        self.ctx = ctx
        self.query_one("#lookup-payer", Lookup).search = payer_search(ctx.payers)

    def _client_loaded(self, c: ClientBrief) -> None:
        lookup = self.query_one("#lookup-client", Lookup)
        lookup.pick(
            Match(
                c.id,
                Text(c.account_number),
                f"{c.account_number}  {c.name}",
                f"{c.name} ({c.account_number})",
            )
        )
        self.query_one("#input-amount").focus()

    @property
    def symbol(self) -> str:
        return self.ctx.symbol if self.ctx else "$"

    # ------------------------------------------------------------------ the party

    @property
    def side(self) -> PayerSide:
        value = self.query_one("#input-side", Select).value
        return PayerSide(value) if isinstance(value, str) else PayerSide.CLIENT

    def party(self) -> tuple[int | None, int | None]:
        """(client id, payer id) as chosen."""
        client = self.query_one("#lookup-client", Lookup).match
        payer = self.query_one("#lookup-payer", Lookup).match
        if self.side == PayerSide.CLIENT:
            return (client.key if client else None), None
        return (client.key if client else None), (payer.key if payer else None)

    def party_label(self) -> str:
        client = self.query_one("#lookup-client", Lookup).match
        payer = self.query_one("#lookup-payer", Lookup).match
        if self.side == PayerSide.CLIENT:
            return client.in_words if client else ""
        label = payer.in_words if payer else ""
        return label + (f" for {client.in_words}" if client else "")

    @on(Select.Changed, "#input-side")
    def _side_changed(self, event: Select.Changed) -> None:
        payer = self.query_one("#lookup-payer", Lookup)
        client = self.query_one("#lookup-client", Lookup)
        on_payer = self.side == PayerSide.PAYER
        payer.display = on_payer
        if on_payer:
            client.set_label("For client (optional)", required=False)
        else:
            client.set_label("Client", required=True)
        self.load_party()

    @on(Lookup.Picked)
    def _picked(self, event: Lookup.Picked) -> None:
        event.lookup.set_error(None)
        self.load_party()

    def load_party(self) -> None:
        """Fetch the chosen party's open items and credit (nothing to fetch until one is chosen)."""
        self._party_generation += 1
        generation = self._party_generation
        client_id, payer_id = self.party()
        side = self.side
        if (side == PayerSide.CLIENT and client_id is None) or (side == PayerSide.PAYER and payer_id is None):
            self.summary = None
            self._show_summary(None)
            return

        def shown(summary: PartySummary) -> None:
            if generation == self._party_generation:
                self.summary = summary
                self._show_summary(summary)

        self.db_call(
            lambda s: party_summary(self.actor, s, side=side, client_id=client_id, payer_id=payer_id),
            shown,
            group="party",
        )

    def _show_summary(self, summary: PartySummary | None) -> None:
        table = self.query_one("#open-items", DataTable)
        select = self.query_one("#input-invoice", Select)
        keep = select.value
        # A payer's open items belong to many clients: then the list says whose each one is.
        on_payer = summary is not None and summary.side == PayerSide.PAYER
        columns = [*OPEN_COLUMNS, "Client"] if on_payer else OPEN_COLUMNS
        if [str(c.label) for c in table.columns.values()] != columns:
            table.clear(columns=True)
            table.add_columns(*columns)
        table.clear()
        options: list[tuple[str | Text, int]] = [("Oldest first", OLDEST_FIRST)]
        line = self.query_one("#open-summary", Static)
        if summary is None:
            select.set_options(options)
            select.value = OLDEST_FIRST
            line.update(Text("Choose who paid to see their open items.", style="italic"))
            return
        today = self.ctx.today if self.ctx else office_today(self.cd_app.tz)
        sym = self.symbol
        for item in summary.items:
            flags = [status_words(item.status.value)]
            if item.due_date is not None and item.due_date < today:
                flags.append("OVERDUE")
            if item.dispute_hold:
                flags.append("ON HOLD (dispute)")
            due = item.due_date.isoformat() if item.due_date else ""
            cells: list[str | Text] = [
                item.number,
                due,
                Text(money(item.total, sym), justify="right"),
                Text(money(item.balance, sym), justify="right"),
                ", ".join(flags),
            ]
            if on_payer:
                cells.append(Text(summary.clients.get(item.id, "")))
            table.add_row(*cells, key=str(item.id))
            options.append((f"{item.number}  due {due}  balance {money(item.balance, sym)}", item.id))
        table.refresh(layout=True)  # the header row must take the new column widths too
        select.set_options(options)
        ids = {item.id for item in summary.items}
        select.value = keep if isinstance(keep, int) and keep in ids else OLDEST_FIRST
        parts = [f"{summary.open_count} open, {money(summary.open_total, sym)} owed"]
        if summary.more:
            parts.append(f"the {len(summary.items)} oldest listed")
        parts.append(f"account credit {money(summary.credit, sym)}")
        if summary.plan_number:
            parts.append(
                f"plan {summary.plan_number} {summary.plan_status.value if summary.plan_status else ''}"
            )
        line.update(Text(" · ".join(parts)))

    @on(DataTable.RowSelected, "#open-items")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None:
            return
        select = self.query_one("#input-invoice", Select)
        select.value = int(key)
        number = str(event.data_table.get_row(event.row_key)[0])
        self.notify(escape(f"Apply to {number}"), timeout=3)
        select.focus()

    # ------------------------------------------------------------------ saving

    @staticmethod
    def _request(values: dict[str, Any]) -> dict[str, Any]:
        """Who pays what, to which invoice: the same for the preview and the post."""
        return {
            "side": PayerSide(values["side"]),
            "amount": values["amount"],
            "client_id": values["client"],
            "payer_id": values["payer"],  # None on the client side: the payer field is hidden
            "invoice_id": None if values["invoice"] == OLDEST_FIRST else values["invoice"],
        }

    def before_save(self, values: dict[str, Any]) -> None:
        request = self._request(values)
        amount: Decimal = values["amount"]
        day: dt.date = values["date"]
        key = self.key

        def explain(s: Any) -> tuple[payments.PaymentView | None, PaymentExplanation | None]:
            posted = payments.find_payment_by_key(self.actor, s, key)
            if posted is not None:
                return posted, None
            return None, explain_payment(self.actor, s, **request)

        def explained(found: tuple[payments.PaymentView | None, PaymentExplanation | None]) -> None:
            posted, expl = found
            if posted is not None or expl is None:
                # This form's key was posted already (a second save, or a retry after a dropped
                # connection): posting again changes nothing and says so. No question needed.
                self.save_now(values)
                return
            method_label = dict((v, k) for k, v in METHODS).get(values["method"], values["method"])
            head = (
                f"Post {money(amount, self.symbol)} by {method_label.lower()} from {self.party_label()}, "
                f"received {day.isoformat()}"
                + (f", reference {values['reference']}" if values["reference"] else "")
                + "."
            )
            body = "\n".join([head, "", *describe_plan(expl, self.symbol)])
            self.ask_then_save(ConfirmDialog("Post this payment?", body, "Post"), values)

        self.read_then(explain, explained)

    def save(self, session: Any, values: dict[str, Any]) -> payments.PostResult:
        return payments.post_payment(
            self.actor,
            session,
            method=values["method"],
            received_on=values["date"],
            reference=values["reference"],
            idempotency_key=self.key,  # ctrl+n waits while a save is under way
            **self._request(values),
        )

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):  # this key went out with other figures
            self.problem(f"Not saved: {exc} — press ctrl+n to start a new payment.")
            return
        super().failed(exc)

    def saved(self, result: payments.PostResult) -> None:
        self.last_result = result
        panel = self.query_one("#payment-result", Static)
        panel.update(describe_result(result, self.symbol))
        panel.display = True
        if result.duplicate:
            self.notify(
                f"Already recorded as payment #{result.payment.id}; nothing changed",
                severity="warning",
                timeout=8,
            )
        else:
            self.notify(f"Payment #{result.payment.id} posted")
        self.load_party()
        panel.scroll_visible()

    def action_new(self) -> None:
        """A new payment: a new key; party, method and date stay for the next check."""
        if self.saving:
            return
        self.key = new_key(self.actor.login)
        for name in ("amount", "reference"):
            self.query_one(f"#field-{name}", Field).input.value = ""
        self.query_one("#input-invoice", Select).value = OLDEST_FIRST
        self.form.show_errors({})
        self.problem(None)
        self.query_one("#payment-result", Static).display = False
        self.query_one("#input-amount").focus()

    def action_open_items(self) -> None:
        self.query_one("#open-items", DataTable).focus()

    def action_find(self) -> None:
        target = "#lookup-payer" if self.side == PayerSide.PAYER else "#lookup-client"
        self.query_one(target, Lookup).focus()

    def action_close(self) -> None:
        if self.saving:
            self.notify("Saving… wait a moment", severity="warning")
            return
        self.dismiss(self.last_result)

    def reload(self) -> None:
        self.load_party()
