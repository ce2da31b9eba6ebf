"""Invoice builder: from a client's unbilled services to issued invoices.

``b`` asks the invoices service to build the drafts: one invoice per payer (lines with the
payer's codes and allowed amounts) and a client statement for the client's share. Each draft
shows its accuracy checks; a failing check names the line and blocks the issue. ``i`` shows
what will be issued (numbers, parties, totals, due dates) and issues all drafts together after
confirmation; ``d`` discards the drafts (their services become unbilled again). A stale or
missing eligibility check is fixed by recording a fresh check (``v``) or, by a supervisor only,
an override with a reason (``o``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import ScreenResume
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Static

from billing import account_view, clients, coverage, invoices, services
from billing.account_view import IssueItem, IssuePreview
from billing.clients import ClientView
from billing.coverage import CoverageView
from billing.invoices import InvoiceView, IssueRefused
from billing.services import ServiceView
from db.enums import InvoiceKind
from db.money import ZERO, fmt_money
from db.rights import Action
from screens.clerk.invoice_view import cut, desc_width
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.tables import Row, fill_table


def kind_word(kind: InvoiceKind) -> str:
    return {InvoiceKind.STATEMENT: "Statement", InvoiceKind.CREDIT_NOTE: "Credit note"}.get(kind, "Invoice")


@dataclass(frozen=True)
class BuilderData:
    client: ClientView
    unbilled: tuple[ServiceView, ...]
    drafts: tuple[InvoiceView, ...]  # in issue order
    preview: IssuePreview | None
    coverages: tuple[CoverageView, ...]


def load_builder(actor: Any, session: Any, client_id: int) -> BuilderData:
    drafts = invoices.unissued_drafts(actor, session, client_id)
    preview = account_view.issue_preview(actor, session, [d.id for d in drafts]) if drafts else None
    if preview is not None:
        order = {item.invoice_id: n for n, item in enumerate(preview.items)}
        drafts = tuple(sorted(drafts, key=lambda d: order.get(d.id, 0)))
    return BuilderData(
        client=clients.get_client(actor, session, client_id),
        unbilled=services.list_services(actor, session, client_id, unbilled_only=True),
        drafts=drafts,
        preview=preview,
        coverages=coverage.list_coverages(actor, session, client_id, include_ended=False),
    )


class InvoiceBuilderScreen(DbScreen):
    HELP_TITLE = "Invoice builder"
    HELP = (
        "b builds drafts from the unbilled services; each draft lists its accuracy checks. "
        "i issues all drafts together (you confirm numbers, parties, totals and due dates first); "
        "d discards them. Enter or x on a line explains its figures. A stale eligibility check: "
        "v records a fresh one; a supervisor may override it with o."
    )
    BINDINGS = [
        Binding(
            "b",
            "build",
            "Build",
            id="invoice_builder.build",
            tooltip="Build drafts from the unbilled services",
        ),
        Binding("i", "issue", "Issue", id="invoice_builder.issue", tooltip="Issue all drafts (asks first)"),
        Binding(
            "d", "discard", "Discard", id="invoice_builder.discard", tooltip="Discard the drafts (asks first)"
        ),
        Binding("x", "explain", "Explain", id="invoice_builder.explain", tooltip="Explain the selected line"),
        Binding(
            "v",
            "check_eligibility",
            "Eligibility",
            id="invoice_builder.check_eligibility",
            tooltip="Record a fresh eligibility check",
        ),
        Binding(
            "o",
            "override",
            "Override",
            id="invoice_builder.override",
            tooltip="Supervisor: override a stale or missing eligibility check",
        ),
        Binding("escape", "back", "Back", id="invoice_builder.back", tooltip="Back (drafts are kept)"),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.data: BuilderData | None = None
        self.issued: tuple[InvoiceView, ...] = ()
        self._reload_on_resume = False

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Invoice builder", style="bold"), id="builder-title", classes="title")
        yield Static("Loading…", id="builder-state", classes="builder-state")
        yield VerticalScroll(id="builder-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        cid = self.client_id
        self.db_call(lambda s: load_builder(self.actor, s, cid), self.show, group="load")

    @on(ScreenResume)
    def _resumed(self) -> None:
        if self._reload_on_resume:
            self._reload_on_resume = False
            self.reload()

    # ------------------------------------------------------------------ showing

    async def show(self, d: BuilderData) -> None:
        self.data = d
        c = d.client
        self.query_one("#builder-title", Static).update(
            Text.assemble(("Invoice builder", "bold"), f" · {c.account_number} ", (c.display_name, "bold"))
        )
        body = self.query_one("#builder-body", VerticalScroll)
        await body.remove_children()
        widgets: list[Widget] = []
        if self.issued:
            widgets += self._issued_widgets()
        if d.drafts and d.preview is not None:
            for item, draft in zip(d.preview.items, d.drafts, strict=True):
                widgets += self._draft_widgets(item, draft)
        if d.unbilled:
            widgets.append(
                Static(
                    Text(f"Unbilled services ({len(d.unbilled)}) · b builds the drafts", style="bold"),
                    classes="section-title",
                )
            )
            t: DataTable[Any] = DataTable(
                id="unbilled", cursor_type="row", zebra_stripes=True, classes="auto-table"
            )
            widgets.append(t)
        await body.mount_all(widgets)
        if self.issued:
            self._fill_issued()
        if d.unbilled:
            t = self.query_one("#unbilled", DataTable)
            t.add_columns("Date", "Code", "Units", "Description")
            width = desc_width(self.size.width) + 20
            fill_table(
                t,
                [
                    (str(s.id), [s.service_date.isoformat(), s.code, str(s.units), cut(s.description, width)])
                    for s in d.unbilled
                ],
            )
        for draft in d.drafts:
            self._fill_lines(draft)
        self._show_state(d)
        tables = body.query(DataTable)
        if tables:
            tables.first().focus()

    def _show_state(self, d: BuilderData) -> None:
        state = self.query_one("#builder-state", Static)
        if d.preview is not None and d.drafts:
            total = sum((i.total for i in d.preview.items), ZERO)
            blocking = len(d.preview.blocking)
            text = Text(f"{len(d.drafts)} drafts, {fmt_money(total)} in all · ")
            if blocking:
                what = "PROBLEM BLOCKS" if blocking == 1 else "PROBLEMS BLOCK"
                text.append(f" {blocking} {what} THE ISSUE ", "bold reverse")
                text.append(" (listed under each draft)")
            else:
                text.append("all checks pass: i issues them", "bold")
            state.update(text)
        elif d.unbilled:
            state.update(Text(f"{len(d.unbilled)} unbilled services: b builds the drafts"))
        elif self.issued:
            state.update(Text("Issued. Enter opens a document to print it; Esc goes back to the account."))
        else:
            state.update(Text("Nothing to bill: the client has no unbilled services and no drafts."))

    def _issued_widgets(self) -> list[Widget]:
        t: DataTable[Any] = DataTable(
            id="issued", cursor_type="row", zebra_stripes=True, classes="auto-table"
        )
        return [Static(Text("Issued just now", style="bold"), classes="section-title"), t]

    def _fill_issued(self) -> None:
        t = self.query_one("#issued", DataTable)
        t.add_columns("Number", "Kind", "To", "Total", "Due")
        rows_: list[Row] = []
        for v in self.issued:
            rows_.append(
                (
                    str(v.id),
                    [
                        v.number or "",
                        kind_word(v.kind),
                        Text(v.bill_to_name),
                        Text(fmt_money(v.total), justify="right"),
                        v.due_date.isoformat() if v.due_date else "",
                    ],
                )
            )
        fill_table(t, rows_)

    def _draft_widgets(self, item: IssueItem, draft: InvoiceView) -> list[Widget]:
        party = Text.assemble(
            (f"{kind_word(item.kind)} to ", "bold"),
            (item.party, "bold"),
            f" (member {item.member_id})" if item.member_id else "",
        )
        head = Text.assemble(
            (f"{item.draft_label}: ", "bold"),
            party,
            f"\n  total {fmt_money(item.total)} · will be {item.expected_number}, issued {item.issue_date}, "
            f"due {item.due_date} ({item.terms_days} days)",
        )
        parts: list[Text] = []
        for p in item.blocking:
            part = Text.assemble((" BLOCKS ISSUE ", "bold reverse"), f" {p.message}")
            if p.check == "eligibility":
                part.append(
                    "\n    o: override it (with a reason)"
                    if self.actor.can(Action.ELIGIBILITY_OVERRIDE)
                    else "\n    A supervisor must override this check, or record a fresh check with v."
                )
            parts.append(part)
        if not item.blocking:
            parts.append(Text.assemble((" OK ", "bold reverse"), " all accuracy checks pass"))
        if any(p not in item.blocking for p in item.problems):
            # "Order" problems solved by issuing together: said once, plainly.
            parts.append(
                Text.assemble(
                    (" note ", "bold"),
                    " the client's share depends on the payer invoice above; issued together, that goes first",
                )
            )
        checks = Text("\n").join(parts)
        t: DataTable[Any] = DataTable(
            id=f"draft-{draft.id}", cursor_type="row", zebra_stripes=True, classes="auto-table draft-lines"
        )
        return [
            Static(head, classes="draft-head", id=f"draft-head-{draft.id}"),
            t,
            Static(checks, classes="draft-checks", id=f"draft-checks-{draft.id}"),
        ]

    def _fill_lines(self, draft: InvoiceView) -> None:
        t = self.query_one(f"#draft-{draft.id}", DataTable)
        width = desc_width(self.size.width)
        t.add_columns("#", "Date", "Code", "Description", "Units", "Price", "Charge", "Amount")
        rows_: list[Row] = []
        for ln in draft.lines:
            rows_.append(
                (
                    str(ln.line_no),
                    [
                        str(ln.line_no),
                        ln.service_date.isoformat() if ln.service_date else "",
                        Text(ln.code),
                        cut(ln.description, width),
                        str(ln.units),
                        Text(fmt_money(ln.unit_price), justify="right"),
                        Text(fmt_money(ln.charge), justify="right"),
                        Text(fmt_money(ln.amount), justify="right", style="bold"),
                    ],
                )
            )
        fill_table(t, rows_)

    # ------------------------------------------------------------------ opening lines and documents

    def _open(self, screen: Any) -> None:
        self._reload_on_resume = True
        self.app.push_screen(screen)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open_row(event.data_table)

    def _open_row(self, table: DataTable[Any] | None) -> bool:
        from screens.clerk.invoice_view import InvoiceViewScreen

        if table is None or table.row_count == 0 or table.id is None:
            return False
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            return False
        if table.id.startswith("draft-"):
            self._open(InvoiceViewScreen(int(table.id.removeprefix("draft-")), line_no=int(key)))
            return True
        if table.id == "issued":
            self._open(InvoiceViewScreen(int(key)))
            return True
        return False

    def action_explain(self) -> None:
        focused = self.focused
        if not (isinstance(focused, DataTable) and self._open_row(focused)):
            self.notify(
                "Choose a line of a draft (Tab moves between tables), then x or Enter", severity="warning"
            )

    # ------------------------------------------------------------------ build, issue, discard

    def action_build(self) -> None:
        d = self.data
        if d is None:
            return
        if not d.unbilled:
            self.notify("No unbilled services to build from", severity="warning")
            return
        cid = self.client_id

        def built(result: invoices.BuildResult) -> None:
            self.issued = ()
            parts = ", ".join(
                f"{kind_word(v.kind).lower()} to {v.bill_to_name} {fmt_money(v.total)}" for v in result.drafts
            )
            self.notify(escape(f"Built {len(result.drafts)} drafts from {result.services} services: {parts}"))
            self.reload()

        self.db_call(lambda s: invoices.build_invoices(self.actor, s, cid), built, write=True, group="write")

    def action_issue(self) -> None:
        d = self.data
        if d is None or not d.drafts:
            self.notify("No drafts to issue: b builds them from the unbilled services", severity="warning")
            return
        ids = [x.id for x in d.drafts]
        self.db_call(
            lambda s: account_view.issue_preview(self.actor, s, ids),
            lambda p: self._confirm_issue(ids, p),
            group="load",
        )

    def _confirm_issue(self, ids: list[int], preview: IssuePreview) -> None:
        if not preview.ok:
            n = len(preview.blocking)
            self.notify(
                f"Cannot issue yet: {n} problem{'s block' if n != 1 else ' blocks'} the issue (see each draft)",
                severity="error",
            )
            self.reload()
            return
        total = sum((i.total for i in preview.items), Decimal("0.00"))
        lines = [
            f"Issue {len(preview.items)} documents today ({preview.items[0].issue_date}). Each gets its "
            "number and a due date and is then frozen (corrections are credit notes).",
            "",
        ]
        for i in preview.items:
            member = f" (member {i.member_id})" if i.member_id else ""
            lines.append(f"{i.expected_number}  {kind_word(i.kind)} to {i.party}{member}")
            lines.append(f"    total {fmt_money(i.total)} · due {i.due_date} ({i.terms_days} days)")
        lines += [
            "",
            f"Together {fmt_money(total)}. The numbers are the next free ones; if another clerk issues at "
            "the same moment, the following numbers are used.",
        ]

        def decided(yes: bool | None) -> None:
            if yes:
                self._issue(ids)

        self.app.push_screen(ConfirmDialog("Issue these documents?", "\n".join(lines), "Issue"), decided)

    def _issue(self, ids: list[int]) -> None:
        def done(views: tuple[InvoiceView, ...]) -> None:
            self.issued = views
            nums = ", ".join(f"{v.number} ({fmt_money(v.total)})" for v in views)
            self.notify(escape(f"Issued {nums}"), title="Issued", timeout=8)
            self.reload()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, IssueRefused):
                self.notify(escape(str(exc)), title="Not issued", severity="error", timeout=12)
                self.reload()
            else:
                self.cd_app.show_error(exc)
                self.reload()

        self.db_call(
            lambda s: invoices.issue_drafts(self.actor, s, ids),
            done,
            write=True,
            on_error=failed,
            group="write",
        )

    def action_discard(self) -> None:
        d = self.data
        if d is None or not d.drafts:
            self.notify("No drafts to discard", severity="warning")
            return
        ids = [x.id for x in d.drafts]
        services_n = len({ln.service_id for x in d.drafts for ln in x.lines if ln.service_id is not None})
        what = "\n".join(
            f"{x.label}: {kind_word(x.kind).lower()} to {x.bill_to_name}, {fmt_money(x.total)}"
            for x in d.drafts
        )
        text = (
            f"{what}\n\nThese drafts are thrown away and their {services_n} services become unbilled again. "
            "Nothing was issued and no number is used."
        )

        def decided(yes: bool | None) -> None:
            if not yes:
                return

            def discard(s: Any) -> set[int]:
                gone: set[int] = set()
                for i in ids:
                    if i not in gone:
                        gone |= set(invoices.discard_draft(self.actor, s, i))
                return gone

            def discarded(gone: set[int]) -> None:
                self.notify(f"Discarded {len(gone)} drafts")
                self.reload()

            self.db_call(discard, discarded, write=True, group="write")

        self.app.push_screen(ConfirmDialog("Discard the drafts?", text, "Discard"), decided)

    # ------------------------------------------------------------------ eligibility

    def _eligibility_item(self) -> IssueItem | None:
        d = self.data
        if d is None or d.preview is None:
            return None
        return next((i for i in d.preview.items if any(p.check == "eligibility" for p in i.blocking)), None)

    def action_check_eligibility(self) -> None:
        d = self.data
        if d is None:
            return
        if not d.coverages:
            self.notify("The client has no coverage in force to check", severity="warning")
            return
        from screens.clerk.eligibility_form import EligibilityForm

        item = self._eligibility_item()
        chosen = item.coverage_id if item is not None else None
        self._open(EligibilityForm(d.client.display_name, d.coverages, chosen))

    def action_override(self) -> None:
        item = self._eligibility_item()
        if item is None or item.coverage_id is None:
            self.notify("No draft is held up by an eligibility check", severity="warning")
            return
        if not self.actor.can(Action.ELIGIBILITY_OVERRIDE):
            self.notify(
                "Only a supervisor can override an eligibility check. Ask a supervisor to open this "
                "client's invoice builder and press o, or record a fresh check with v.",
                title="Supervisor needed",
                severity="error",
                timeout=10,
            )
            return
        from screens.supervisor.eligibility_override import EligibilityOverrideDialog

        assert self.data is not None
        problem = next(p.message for p in item.blocking if p.check == "eligibility")
        what = f"{item.party}, member {item.member_id}, for {self.data.client.display_name}"
        self._open(EligibilityOverrideDialog(item.coverage_id, what, problem))

    def action_back(self) -> None:
        if self.data is not None and self.data.drafts:
            self.notify("The drafts are kept: open the invoice builder again to issue or discard them")
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
