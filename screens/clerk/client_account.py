"""A client's account: who, what they owe, their coverage and eligibility, and tabs for coverage,
services, invoices, payments, the payment plan and the contact-data history.

The header warns about anything that will stop billing (stale or missing eligibility check,
no coverage, missing data) in words, not only in colour. Keys open the forms and screens that
change the account; when they close, the account is read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from billing import catalog, clients, contacts, coverage, invoices, ledger, plans, services
from billing.catalog import PayerView
from billing.clients import AccountSummary, ContactChangeView
from billing.coverage import CoverageView, EligibilityState
from billing.ledger import ClientLedger
from billing.plans import PlanView
from billing.services import ServiceView
from db.enums import InvoiceKind, InvoiceStatus
from db.money import ZERO, fmt_money
from screens.clerk.client_search import ListTable
from screens.clerk.contact_form import ContactLogTable, contact_cells
from screens.common.collections_bits import n_of
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable
from tui.widgets.tables import Row, fill_table

TABS = [
    ("tab-coverage", "Coverage"),
    ("tab-services", "Services"),
    ("tab-invoices", "Invoices"),
    ("tab-payments", "Payments"),
    ("tab-plan", "Plan"),
    ("tab-history", "Contact history"),
    ("tab-contacts", "Contacts"),
]
SERVICE_LIMIT = 200
LEDGER_LIMIT = 100


@dataclass(frozen=True)
class AccountData:
    summary: AccountSummary
    coverages: tuple[CoverageView, ...]
    services: tuple[ServiceView, ...]
    ledger: ClientLedger
    plan: PlanView | None
    history: tuple[ContactChangeView, ...]


def load_account(actor: Any, session: Any, client_id: int) -> AccountData:
    """Everything the account screen shows, in one read transaction (a handful of queries)."""
    return AccountData(
        summary=clients.account_summary(actor, session, client_id),
        coverages=coverage.list_coverages(actor, session, client_id),
        services=services.list_services(actor, session, client_id, limit=SERVICE_LIMIT),
        ledger=ledger.client_ledger(actor, session, client_id, limit=LEDGER_LIMIT),
        plan=plans.current_plan(actor, session, client_id),
        history=clients.contact_history(actor, session, client_id),
    )


def invoice_filter(text: str) -> tuple[InvoiceStatus | None, InvoiceKind | None]:
    """The invoices tab filter: a status or kind word ("paid", "statement"); anything else: all."""
    word = "_".join(text.strip().lower().split())
    for st in InvoiceStatus:
        if st.value.startswith(word) and word:
            return st, None
    for k in InvoiceKind:
        if k.value.startswith(word) and word:
            return None, k
    return None, None


def status_text(value: str) -> str:
    return value.replace("_", " ")


def eligibility_text(cov: CoverageView) -> Text:
    e = cov.eligibility
    if e.state == EligibilityState.FRESH:
        return Text(f"ok, checked {e.last_checked_on}")
    if e.override_until is not None:
        return Text(f"OVERRIDDEN until {e.override_until}", style="bold")
    word = {
        EligibilityState.STALE: f"STALE ({n_of(e.age_days or 0, 'day')})",
        EligibilityState.MISSING: "NEVER CHECKED",
        EligibilityState.PENDING: "PENDING",
        EligibilityState.NOT_ELIGIBLE: "NOT ELIGIBLE",
    }[e.state]
    return Text(word, style="bold reverse")


# Two lines a row, so that copay, coinsurance, deductible and eligibility fit in 80 columns
# (one line a field ran to 130 and cut them off). Group, the least used, is last.
COVERAGE_COLUMNS: tuple[str | Text, ...] = (
    Text("Payer\nrank · member id"),
    Text("In force"),
    Text("Copay\nCoins"),
    Text("Deductible"),
    Text("Eligibility"),
    Text("Group"),
)
PAYER_WIDTH = 24  # a longer payer name ends in "…" (the header line above has it whole)


def eligibility_cell(cov: CoverageView) -> Text:
    """The eligibility state on two lines: the word, then since when or until when."""
    e = cov.eligibility
    if e.state == EligibilityState.FRESH:
        return Text(f"ok, checked\n{e.last_checked_on}")
    if e.override_until is not None:
        return Text(f"OVERRIDDEN\nuntil {e.override_until}", style="bold")
    word, detail = {
        EligibilityState.STALE: ("STALE", f"{n_of(e.age_days or 0, 'day')} old"),
        EligibilityState.MISSING: ("NEVER CHECKED", ""),
        EligibilityState.PENDING: ("PENDING", ""),
        EligibilityState.NOT_ELIGIBLE: ("NOT ELIGIBLE", ""),
    }[e.state]
    return Text.assemble((word, "bold reverse"), f"\n{detail}" if detail else "")


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def coverage_cells(cov: CoverageView) -> list[Text | str]:
    rank = cov.rank.value + ("" if cov.in_force_today else " (ended)")
    return [
        Text(f"{fit(cov.payer_name, PAYER_WIDTH)}\n{fit(f'{rank} · {cov.member_id}', PAYER_WIDTH)}"),
        f"{cov.effective_from.isoformat()}\n"
        + (f"to {cov.effective_to.isoformat()}" if cov.effective_to else ""),
        f"{fmt_money(cov.copay)}\n{cov.coinsurance_percent.normalize():f}%",
        f"{fmt_money(cov.deductible_remaining)} left\nof {fmt_money(cov.deductible)}",
        eligibility_cell(cov),
        Text(cov.group_number),
    ]


def coverage_line(cov: CoverageView) -> Text:
    return Text.assemble(
        (f"{cov.rank.value.capitalize()}: ", "bold"),
        cov.payer_name,
        f" ({cov.member_id}) · eligibility ",
        eligibility_text(cov),
    )


class ClientAccountScreen(DbScreen):
    HELP_TITLE = "Client account"
    HELP = (
        "The client's account. 1-7 switch tabs (coverage, services, invoices, payments, plan, "
        "contact-data history, contact log); k logs a call, letter or visit; Enter on an invoice opens it. Warnings in the header stop billing "
        "until they are dealt with."
    )
    BINDINGS = [
        Binding("c", "add_coverage", "Coverage", id="client_account.add_coverage", tooltip="Add a coverage"),
        Binding(
            "v",
            "check_eligibility",
            "Eligibility",
            id="client_account.check_eligibility",
            tooltip="Record an eligibility check (what the payer said)",
        ),
        Binding("s", "add_service", "Service", id="client_account.add_service", tooltip="Record a service"),
        Binding(
            "b",
            "build_invoice",
            "Build invoice",
            id="client_account.build_invoice",
            tooltip="Build and issue invoices from the unbilled services",
        ),
        Binding(
            "o", "open_invoice", "Open invoice", id="client_account.open_invoice", tooltip="Open the invoice"
        ),
        Binding(
            "e", "edit_client", "Edit", id="client_account.edit_client", tooltip="Edit the client's data"
        ),
        Binding(
            "p", "post_payment", "Post payment", id="client_account.post_payment", tooltip="Post a payment"
        ),
        Binding("l", "set_up_plan", "Plan", id="client_account.set_up_plan", tooltip="Set up a payment plan"),
        Binding(
            "k",
            "log_contact",
            "Log contact",
            id="client_account.log_contact",
            tooltip="Log a call, letter, visit…",
        ),
        *[
            Binding(
                str(n),
                f"show_tab('{tab_id}')",
                title,
                show=False,
                id=f"client_account.tab_{tab_id[4:]}",
                tooltip=f"Show the {title.lower()} tab",
            )
            for n, (tab_id, title) in enumerate(TABS, start=1)
        ],
        Binding("escape", "back", "Back", id="client_account.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, client_id: int, tab: str | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.tab = tab  # a TABS id to open at (a work item's kind picks it)
        self.data: AccountData | None = None
        self._reload_on_resume = False

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading the account…", id="acct-head", classes="acct-head")
        yield Static("", id="acct-warnings", classes="acct-warnings")
        with TabbedContent(id="acct-tabs"):
            with TabPane("Coverage", id="tab-coverage"):
                yield DataTable(id="coverages", cursor_type="row", zebra_stripes=True, header_height=2)
                yield Static("", id="coverage-note", classes="muted")
            with TabPane("Services", id="tab-services"):
                yield DataTable(id="services", cursor_type="row", zebra_stripes=True)
                yield Static("", id="services-note", classes="muted")
            with TabPane("Invoices", id="tab-invoices"):
                yield ListTable(
                    ["Number", "Status", "Total", "Balance", "Due", "Bill to", "Kind", "Issued", "Hold"],
                    self.fetch_invoices,
                    widths=(10, 14, 11, 11, 10, 24, 11, 10, 8),
                    page_size=50,
                    filter_placeholder="status or kind: issued, paid, void, draft, statement, credit note…",
                    id="invoices",
                )
            with TabPane("Payments", id="tab-payments"):
                yield DataTable(id="payments", cursor_type="row", zebra_stripes=True)
                yield Static("", id="payments-note", classes="muted")
            with TabPane("Plan", id="tab-plan"):
                yield Static("", id="acct-plan-head")
                yield DataTable(id="installments", cursor_type="row", zebra_stripes=True)
            with TabPane("Contact history", id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
                yield Static("", id="history-note", classes="muted")
            with TabPane("Contacts", id="tab-contacts"):
                yield ContactLogTable(
                    ["When", "Channel", "Dir", "Outcome", "Promise", "By", "Notes"],
                    self.fetch_contacts,
                    widths=(16, 7, 3, 14, 22, 8, 30),
                    page_size=50,
                    id="contacts",
                )
        yield KeyFooter()

    def on_mount(self) -> None:
        cols: dict[str, tuple[str | Text, ...]] = {
            "coverages": COVERAGE_COLUMNS,
            "services": ("Date", "Code", "Units", "Billing", "Description", "Note"),
            "payments": ("Received", "From", "Method", "Reference", "Amount", "Applied here", "Credit"),
            "installments": ("#", "Due", "Amount", "Paid", "Left", "Status"),
            "history": ("When", "Field", "Old value", "New value", "By"),
        }
        for table_id, columns in cols.items():
            self.query_one(f"#{table_id}", DataTable).add_columns(*columns)
        self.query_one("#coverages", DataTable).focus()
        if self.tab in dict(TABS):
            self.action_show_tab(self.tab)
        self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        cid = self.client_id
        self.db_call(lambda s: load_account(self.actor, s, cid), self.show, group="account")
        if self.is_mounted:
            self.query_one("#invoices", ListTable).refresh_page()
            self.query_one("#contacts", ContactLogTable).refresh_page()

    def fetch_invoices(self, session: Any, after: Any, limit: int, text: str) -> Page[int]:
        status, kind = invoice_filter(text)
        page = invoices.list_invoices(
            self.actor, session, client_id=self.client_id, status=status, kind=kind, after=after, limit=limit
        )
        return Page(
            rows=[
                (
                    r.id,
                    [
                        r.number or f"draft #{r.id}",
                        status_text(r.status.value),
                        Text(fmt_money(r.total), justify="right"),
                        Text(fmt_money(r.balance), justify="right"),
                        r.due_date.isoformat() if r.due_date else "",
                        Text(r.bill_to_name),
                        status_text(r.kind.value),
                        r.issue_date.isoformat() if r.issue_date else "",
                        Text("DISPUTED", style="bold") if r.dispute_hold else "",
                    ],
                )
                for r in page.rows
            ],
            next_after=page.next_after,
        )

    def fetch_contacts(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        """The contact log (calls, letters, promises), newest first; k logs one."""
        page = contacts.list_contacts(self.actor, session, self.client_id, after=after, limit=limit)
        return Page(
            rows=[(c.id, contact_cells(c, self.cd_app.tz)) for c in page.rows], next_after=page.next_after
        )

    def show(self, d: AccountData) -> None:
        self.data = d
        self._show_header(d.summary)
        self._show_coverages(d.coverages)
        self._show_services(d.services)
        self._show_payments(d.ledger)
        self._show_plan(d.plan)
        self._show_history(d.history)

    def _show_header(self, a: AccountSummary) -> None:
        # Compact on purpose: at 80×24 the tabs below need the rows (details are in the tabs).
        c = a.client
        born = f"born {c.date_of_birth}" if c.date_of_birth else "date of birth missing"
        head = Text.assemble(
            (c.account_number, "bold"),
            "  ",
            (c.display_name, "bold"),
            "  ",
            (f"[{status_text(c.status.value)}]", "bold" if c.status.value != "active" else ""),
            f"  {born}  {c.phone or 'no phone'}  owner {c.owner_login or 'nobody'}",
        )
        head.append("\nOwes ")
        head.append(fmt_money(a.balance), "bold")
        if a.overdue:
            head.append(" (overdue ")
            head.append(fmt_money(a.overdue), "bold reverse")
            head.append(")")
        head.append(f" · payers owe {fmt_money(a.payer_balance)} · credit {fmt_money(a.credit)}")
        head.append(f" · {a.open_invoices} open bills · {a.unbilled_services} unbilled")
        for cov in a.coverages:
            head.append("\n")
            head.append_text(coverage_line(cov))
        if c.special_concerns:
            head.append("\nConcerns: ", "bold")
            head.append(c.special_concerns)
        self.query_one("#acct-head", Static).update(head)
        warn = Text()
        for w in a.warnings:
            if warn:
                warn.append("\n")
            warn.append(" WARNING ", "bold reverse")
            warn.append(f" {w}")
        box = self.query_one("#acct-warnings", Static)
        box.update(warn)
        box.display = bool(a.warnings)

    def _show_coverages(self, covs: tuple[CoverageView, ...]) -> None:
        t = self.query_one("#coverages", DataTable)
        rows_: list[Row] = []
        for cov in covs:
            rows_.append(
                (
                    str(cov.id),
                    coverage_cells(cov),
                )
            )
        fill_table(t, rows_, height=2)
        self.query_one("#coverage-note", Static).update(
            "" if covs else "No coverage on file: c adds one; services are billed to the client until then."
        )

    def _show_services(self, rows: tuple[ServiceView, ...]) -> None:
        t = self.query_one("#services", DataTable)
        rows_: list[Row] = []
        for r in rows:
            state = "void" if r.voided else ("billed" if r.billed else "UNBILLED")
            rows_.append(
                (
                    str(r.id),
                    [
                        r.service_date.isoformat(),
                        r.code,
                        str(r.units),
                        Text(state, style="bold" if state == "UNBILLED" else ""),
                        Text(r.description),
                        Text(r.rendering_note),
                    ],
                )
            )
        fill_table(t, rows_)
        more = f" (the newest {SERVICE_LIMIT} are shown)" if len(rows) >= SERVICE_LIMIT else ""
        self.query_one("#services-note", Static).update(
            f"{len(rows)} services{more} · s records a service, b builds the invoices"
            if rows
            else "No services yet: s records one."
        )

    def _show_payments(self, ledger_: ClientLedger) -> None:
        t = self.query_one("#payments", DataTable)
        rows_: list[Row] = []
        for p in ledger_.payments:
            here = sum((a.amount for a in p.allocations), ZERO)
            rows_.append(
                (
                    str(p.id),
                    [
                        p.received_on.isoformat(),
                        Text(p.payer_name or "client"),
                        status_text(p.method.value),
                        Text(p.reference),
                        Text(fmt_money(p.amount), justify="right"),
                        Text(fmt_money(here), justify="right"),
                        Text(fmt_money(p.unapplied), justify="right") if p.side.value == "client" else "",
                    ],
                )
            )
        fill_table(t, rows_)
        more = f" (the newest {LEDGER_LIMIT} are shown)" if ledger_.more_payments else ""
        self.query_one("#payments-note", Static).update(
            f"{len(ledger_.payments)} payments{more} · p posts a payment"
            if ledger_.payments
            else "No payments yet: p posts one."
        )

    def _show_plan(self, plan: PlanView | None) -> None:
        head = self.query_one("#acct-plan-head", Static)
        t = self.query_one("#installments", DataTable)
        rows_: list[Row] = []
        if plan is None:
            head.update(Text("No open payment plan. l sets one up from the client's balance."))
            fill_table(t, [])
            return
        nxt = plan.next_due
        text = Text.assemble(
            (f"{plan.number} ", "bold"),
            (f"[{plan.status.value}]", "bold reverse" if plan.status.value != "active" else "bold"),
            f"  {fmt_money(plan.amount_financed)} in {plan.installment_count} {plan.interval.value} "
            f"installments from {plan.first_due} · paid {fmt_money(plan.paid_total)} · "
            f"left {fmt_money(plan.remaining)}",
        )
        if nxt is not None:
            text.append(f"\nNext: #{nxt.seq} {fmt_money(nxt.remaining)} due {nxt.due_date}")
        head.update(text)
        for i in plan.installments:
            rows_.append(
                (
                    str(i.id),
                    [
                        str(i.seq),
                        i.due_date.isoformat(),
                        Text(fmt_money(i.amount), justify="right"),
                        Text(fmt_money(i.paid_amount), justify="right"),
                        Text(fmt_money(i.remaining), justify="right"),
                        Text(i.status.value, style="bold" if i.status.value == "missed" else ""),
                    ],
                )
            )
        fill_table(t, rows_)

    def _show_history(self, rows: tuple[ContactChangeView, ...]) -> None:
        t = self.query_one("#history", DataTable)
        rows_: list[Row] = []
        tz = self.cd_app.tz
        for r in rows:
            rows_.append(
                (
                    str(r.id),
                    [
                        r.changed_at.in_timezone(tz).format("YYYY-MM-DD HH:mm"),
                        r.field.replace("_", " "),
                        Text(r.old_value),
                        Text(r.new_value),
                        r.changed_by_login,
                    ],
                )
            )
        fill_table(t, rows_)
        self.query_one("#history-note", Static).update(
            "Corrections of address, phone, e-mail and channel, newest first."
            if rows
            else "No contact-data corrections yet (e edits the client)."
        )

    # ------------------------------------------------------------------ helpers

    def _open(self, screen: Screen[Any], *, reload: bool = True) -> None:
        """Push a screen; read the account again when we come back to it."""
        self._reload_on_resume = reload
        self.app.push_screen(screen)

    @on(ScreenResume)
    def _resumed(self) -> None:
        if self._reload_on_resume:
            self._reload_on_resume = False
            self.reload()

    def _loaded(self) -> AccountData | None:
        if self.data is None:
            self.notify("The account is still loading", severity="warning")
        return self.data

    # ------------------------------------------------------------------ actions

    def action_show_tab(self, tab_id: str) -> None:
        self.query_one("#acct-tabs", TabbedContent).active = tab_id
        pane = self.query_one(f"#{tab_id}", TabPane)
        tables = pane.query(DataTable)
        if tables:
            tables.first().focus()

    def action_add_coverage(self) -> None:
        d = self._loaded()
        if d is None:
            return

        def open_form(payers: tuple[PayerView, ...]) -> None:
            if not payers:
                self.notify(
                    "There are no payers yet: a supervisor adds them to the catalog", severity="warning"
                )
                return
            from screens.clerk.coverage_form import CoverageForm

            self._open(CoverageForm(self.client_id, d.summary.client.display_name, payers, d.coverages))

        self.db_call(lambda s: catalog.list_payers(self.actor, s), open_form, group="payers")

    def action_check_eligibility(self) -> None:
        d = self._loaded()
        if d is None:
            return
        covs = [c for c in d.coverages if c.active]
        if not covs:
            self.notify("No coverage to check: add one first (c)", severity="warning")
            return
        from screens.clerk.eligibility_form import EligibilityForm

        chosen = self._selected_coverage()
        self._open(EligibilityForm(d.summary.client.display_name, tuple(covs), chosen))

    def _selected_coverage(self) -> int | None:
        t = self.query_one("#coverages", DataTable)
        if self.query_one("#acct-tabs", TabbedContent).active != "tab-coverage" or t.row_count == 0:
            return None
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_add_service(self) -> None:
        d = self._loaded()
        if d is None:
            return
        from screens.clerk.service_form import ServiceForm

        self._open(ServiceForm(self.client_id, d.summary.client.display_name))

    def action_build_invoice(self) -> None:
        from screens.clerk.invoice_builder import InvoiceBuilderScreen

        self._open(InvoiceBuilderScreen(self.client_id))

    def action_open_invoice(self) -> None:
        tabs = self.query_one("#acct-tabs", TabbedContent)
        table = self.query_one("#invoices", ListTable)
        key = table.current_key
        if tabs.active != "tab-invoices" or key is None:
            self.action_show_tab("tab-invoices")
            self.notify("Choose an invoice and press Enter (or o)")
            return
        self.open_invoice(key)

    @on(PagedTable.Chosen, "#invoices")
    def _invoice_chosen(self, event: PagedTable.Chosen) -> None:
        self.open_invoice(event.key)

    def open_invoice(self, invoice_id: int) -> None:
        from screens.clerk.invoice_view import InvoiceViewScreen

        self._open(InvoiceViewScreen(invoice_id))

    def action_edit_client(self) -> None:
        d = self._loaded()
        if d is None:
            return
        from screens.clerk.client_form import ClientForm

        self._open(ClientForm(d.summary.client))

    def action_post_payment(self) -> None:
        try:
            from screens.clerk.payment_post import PaymentPostScreen
        except ImportError:
            self.notify("Payment posting is not available in this version yet", severity="warning")
            return
        self._open(PaymentPostScreen(client_id=self.client_id))

    def action_set_up_plan(self) -> None:
        try:
            from screens.clerk.plan_setup import PlanSetupScreen
        except ImportError:
            self.notify("Payment plans are not available in this version yet", severity="warning")
            return
        self._open(PlanSetupScreen(client_id=self.client_id))

    def action_log_contact(self) -> None:
        d = self._loaded()
        if d is None:
            return
        from screens.clerk.contact_form import ContactDialog

        c = d.summary.client
        self.app.push_screen(
            ContactDialog(self.client_id, f"{c.display_name} ({c.account_number})", owed=d.summary.overdue),
            lambda view: self.reload() if view is not None else None,
        )
