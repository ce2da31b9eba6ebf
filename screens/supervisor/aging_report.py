"""Aging report (supervisor): the office's receivables by days past due, as of a day.

Client receivables (the clients' own bills) and payer receivables are two columns, never
added together; the buckets are rows. The "as of" day ignores later payments and invoices,
so a past day's report stays what it was. Enter on an amount drills down to the accounts in
that bucket (paged by account number), Enter on an account to its invoices on that side, and
Enter on an invoice opens it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from billing import aging
from billing.aging import BUCKET_LABELS, BUCKETS, AgedInvoice, Bucket, OfficeAging, Side
from db.money import ZERO, fmt_money
from db.rights import Action
from db.timeutil import office_today
from screens.clerk.client_search import ListTable
from screens.common.collections_bits import as_of_parser, cut, money_cell, n_of, refused, words
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, Form
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable

SIDE_WORD = {Side.CLIENT: "client receivables", Side.PAYER: "payer receivables"}
TOTAL = "total"  # the row key of the totals row


class AgingReportScreen(DbScreen):
    HELP_TITLE = "Aging report"
    HELP = (
        "What is owed by days past due, client and payer receivables apart. Change the 'as of' day "
        "and press Enter to see the office as it stood then (later payments and invoices are "
        "ignored). Arrows choose an amount; Enter shows the accounts in that bucket."
    )
    BINDINGS = [
        Binding("a", "as_of", "As of", id="aging.as_of", tooltip="Change the 'as of' day"),
        Binding(
            "o", "drill", "Accounts", id="aging.drill", tooltip="The accounts behind the amount (or Enter)"
        ),
        Binding("escape", "back", "Back", id="aging.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, as_of: dt.date | None = None) -> None:
        super().__init__()
        self.as_of = as_of
        self.report: OfficeAging | None = None

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        self.as_of = self.as_of or today
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        with Horizontal(id="aging-bar"), Form():
            yield Field(
                "as_of",
                "As of",
                value=self.as_of.isoformat(),
                parse=as_of_parser(today),
                required=True,
                placeholder="YYYY-MM-DD",
                max_length=40,
            )
        yield Static("Loading…", id="aging-head", classes="section-title")
        yield DataTable(id="aging-table", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="aging-note", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        if refused(self, Action.REPORTS_TEAM, "see the office's aging report"):
            return
        t = self.query_one("#aging-table", DataTable)
        t.add_column("Days past due", key="bucket", width=16)
        t.add_column("Clients owe", key=Side.CLIENT.value, width=14)
        t.add_column("Payers owe", key=Side.PAYER.value, width=14)
        t.focus()
        self.reload()

    def reload(self) -> None:
        if not self.actor.can(Action.REPORTS_TEAM):
            return  # the screen shows the refusal only
        day = self.as_of
        self.db_call(lambda s: aging.office_aging(self.actor, s, as_of=day), self.show, group="aging")

    def show(self, r: OfficeAging) -> None:
        self.report = r
        t = self.query_one("#aging-table", DataTable)
        row, col = t.cursor_coordinate
        t.clear()
        for b in BUCKETS:
            t.add_row(BUCKET_LABELS[b], money_cell(r.client.get(b)), money_cell(r.payer.get(b)), key=b.value)
        t.add_row(
            Text("Total", style="bold"),
            money_cell(r.client.total, bold=True),
            money_cell(r.payer.total, bold=True),
            key=TOTAL,
        )
        t.move_cursor(row=row, column=max(col, 1))
        self.query_one("#aging-head", Static).update(
            Text.assemble(
                ("Aging as of ", "bold"),
                (r.as_of.isoformat(), "bold"),
                f" · {r.client_accounts} accounts owe on their own bills, "
                f"{r.payer_accounts} have invoices with payers",
            )
        )
        self.query_one("#aging-note", Static).update(
            Text(
                f"Past due: clients {fmt_money(r.client.past_due)}, payers {fmt_money(r.payer.past_due)}. "
                "Plan installments are aged by their own due dates."
            )
        )

    @on(Input.Submitted, "#input-as_of")
    def _as_of_entered(self) -> None:
        values = self.query_one(Form).collect()
        if values is None:
            self.notify("The 'as of' day needs fixing", severity="error")
            return
        self.as_of = values["as_of"]
        self.query_one("#aging-table", DataTable).focus()
        self.reload()

    def action_as_of(self) -> None:
        self.query_one("#input-as_of", Input).focus()

    @on(DataTable.CellSelected, "#aging-table")
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        if self.report is None:
            self.notify("The report is still loading", severity="warning")
            return
        t = self.query_one("#aging-table", DataTable)
        row_key, col_key = t.coordinate_to_cell_key(t.cursor_coordinate)
        if row_key.value == TOTAL or col_key.value == "bucket":
            self.notify("Choose one bucket's amount (arrows), then Enter", severity="warning")
            return
        side, bucket = Side(str(col_key.value)), Bucket(str(row_key.value))
        amount = (self.report.client if side == Side.CLIENT else self.report.payer).get(bucket)
        if not amount:
            self.notify(f"Nothing in {BUCKET_LABELS[bucket]} for {SIDE_WORD[side]}", severity="warning")
            return
        assert self.as_of is not None
        self.app.push_screen(AgingAccountsScreen(side, bucket, self.as_of, amount))


class AgingAccountsScreen(DbScreen):
    """The accounts in one bucket on one side, paged by account number."""

    HELP_TITLE = "Aging: accounts in a bucket"
    HELP = "The accounts with an amount in this bucket. / filters; Enter shows the account's invoices."
    BINDINGS = [
        Binding("escape", "back", "Back", id="aging_accounts.back", tooltip="Back to the buckets"),
    ]

    def __init__(self, side: Side, bucket: Bucket, as_of: dt.date, amount: Any) -> None:
        super().__init__()
        self.side = side
        self.bucket = bucket
        self.as_of = as_of
        self.amount = amount

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(
            Text.assemble(
                (f"{BUCKET_LABELS[self.bucket]} days past due", "bold"),
                f" · {SIDE_WORD[self.side]} · as of {self.as_of.isoformat()} · {fmt_money(self.amount)}",
            ),
            classes="section-title",
        )
        yield ListTable(
            ["Account", "Client", "In bucket", "Whole balance"],
            self.fetch,
            widths=(9, 30, 13, 13),
            filter_placeholder="account number or name…",
            id="aging-accounts",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#aging-accounts", ListTable).focus()

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        page = aging.accounts_in_bucket(
            self.actor,
            session,
            side=self.side,
            bucket=self.bucket,
            as_of=self.as_of,
            after=after,
            limit=limit,
            filter_text=text,
        )
        return Page(
            rows=[
                (
                    (r.client_id, f"{r.client_name} ({r.account_number})"),
                    [
                        r.account_number,
                        cut(r.client_name, 30),
                        money_cell(r.amount, bold=True),
                        money_cell(r.total),
                    ],
                )
                for r in page.rows
            ],
            next_after=page.next_after,
        )

    @on(PagedTable.Chosen, "#aging-accounts")
    def _chosen(self, event: PagedTable.Chosen) -> None:
        client_id, label = event.key
        self.app.push_screen(AgingInvoicesScreen(client_id, label, self.side, self.as_of))

    def action_back(self) -> None:
        self.app.pop_screen()


class AgingInvoicesScreen(DbScreen):
    """One account's invoices with a balance as of the day, on one side, oldest first."""

    HELP_TITLE = "Aging: an account's invoices"
    HELP = "Each invoice with what was left on it that day and its bucket. Enter opens the invoice."
    BINDINGS = [
        Binding("escape", "back", "Back", id="aging_invoices.back", tooltip="Back to the accounts"),
    ]

    def __init__(self, client_id: int, label: str, side: Side, as_of: dt.date) -> None:
        super().__init__()
        self.client_id = client_id
        self.label = label
        self.side = side
        self.as_of = as_of
        self.invoices: tuple[AgedInvoice, ...] = ()

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(
            Text.assemble(
                (self.label, "bold"), f" · {SIDE_WORD[self.side]} · as of {self.as_of.isoformat()}"
            ),
            id="aging-inv-head",
            classes="section-title",
        )
        yield DataTable(id="aging-invoices", cursor_type="row", zebra_stripes=True)
        yield Static("Loading…", id="aging-inv-note", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#aging-invoices", DataTable)
        for name, width in (
            ("Invoice", 10),
            ("Due", 10),
            ("Days", 5),
            ("Bucket", 8),
            ("Total", 10),
            ("Balance", 10),
            ("", 10),
        ):
            t.add_column(name, width=width)
        if self.side == Side.PAYER:
            t.add_column("Payer", width=20)
        t.focus()
        cid, side, day = self.client_id, self.side, self.as_of
        self.db_call(lambda s: aging.invoices_of_account(self.actor, s, cid, side=side, as_of=day), self.show)

    def show(self, rows: tuple[AgedInvoice, ...]) -> None:
        self.invoices = rows
        t = self.query_one("#aging-invoices", DataTable)
        t.clear()
        for r in rows:
            cells: list[Any] = [
                r.number,
                r.due_date.isoformat(),
                Text(str(r.days_past_due), justify="right"),
                BUCKET_LABELS[r.bucket],
                money_cell(r.total),
                money_cell(r.balance, bold=True),
                Text("DISPUTED", style="bold") if r.dispute_hold else Text(words(r.kind)),
            ]
            if self.side == Side.PAYER:
                cells.append(cut(r.payer_name, 20))
            t.add_row(*cells, key=str(r.invoice_id))
        total = sum((r.balance for r in rows), ZERO)
        self.query_one("#aging-inv-note", Static).update(
            Text(
                f"{n_of(len(rows), 'invoice')} with a balance as of {self.as_of.isoformat()}, {fmt_money(total)}"
            )
            if rows
            else Text("No invoice had a balance on that side that day.")
        )

    @on(DataTable.RowSelected, "#aging-invoices")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        from screens.clerk.invoice_view import InvoiceViewScreen

        self.app.push_screen(InvoiceViewScreen(int(event.row_key.value)))

    def action_back(self) -> None:
        self.app.pop_screen()
