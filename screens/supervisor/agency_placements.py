"""Agency placements (supervisor): agencies, their placed accounts, and the hand-off work
(docs/collections-screens.md).

* The agencies are a short list at the top (``n`` adds one); the placements of the highlighted
  agency are below, paged, active ones or all (``s``).
* ``a`` places accounts: mark overdue accounts with space in the list that opens, ctrl+s shows
  each account with the balance that will be placed and asks; the accounts leave internal
  dunning and the work lists.
* ``p`` records what the agency collected on the highlighted placement: the dialog shows the
  agency's fee and the net that is posted as the payment before anything is saved.
* ``c`` recalls the placement (reason required); ``x`` writes the agency's placement file (CSV).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from billing import agency, collections
from billing.agency import AgencyPaymentResult, AgencyView, ExportResult, PlacementView
from billing.collections import WorklistRow
from db.enums import PlacementStatus
from db.errors import ConflictError
from db.money import ZERO, fmt_money
from db.rights import Action
from db.timeutil import office_today
from screens.clerk.client_search import ListTable
from screens.clerk.payment_widgets import parse_amount, received_date_parser
from screens.common.collections_bits import REASON_MAX, cut, money_cell, n_of, refused
from screens.common.time_view import ReasonDialog
from tui.exports import ExportError, folder_target, make_folders
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.dialogs import FormDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import Field, FolderField, ParseError
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable

PLACEMENT_COLUMNS = ["Account", "Client", "Placed", "Placed $", "Owes now", "Collected", "Status"]
PLACEMENT_WIDTHS = (8, 12, 10, 9, 9, 9, 8)  # 80 columns
_last_folder = "placements"  # inside the exports folder; remembered for the session
LISTED = 6  # accounts named one by one in the confirmation (it must fit 80×24)


def fee_of(gross: Decimal, fee_bp: int) -> Decimal:
    """The agency's fee on what it collected: gross × percent, half up to the cent (as booked)."""
    return (gross * fee_bp / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(fee_bp: int) -> str:
    return f"{fee_bp // 100}.{fee_bp % 100:02d} %"


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "agency"


def parse_file_name(text: str) -> str:
    t = text.strip()
    if not t:
        raise ParseError("is required")
    # 40: the export's audit entry keeps the file name in a 40-character column (see NEEDS.md).
    if len(t) > 40 or "/" in t or "\\" in t or t.startswith(".") or any(ord(c) < 32 for c in t):
        raise ParseError("must be a plain file name (no folders, at most 40 characters)")
    return t


# --------------------------------------------------------------------------- dialogs


AGENCY_REFUSED = "Only a supervisor can work with collection agencies"


class AgencyDialog(FormDialog[AgencyView]):
    HELP_TITLE = "New agency"
    HELP = "A collection agency and its fee percent (what it keeps of what it collects)."
    FORM_ID = "agency_form"
    WIDE = False
    SUBMIT_ON_ENTER = True
    REQUIRES = (Action.AGENCY_PLACE, AGENCY_REFUSED)
    ERROR_FIELDS = {ConflictError: "name"}  # the name is taken

    def heading(self) -> str:
        return "New collection agency"

    def fields(self) -> ComposeResult:
        yield Field("name", "Name", required=True, max_length=120)
        yield Field("fee", "Fee percent", required=True, max_length=12, placeholder="e.g. 30 or 27.5")
        yield Field("contact", "Contact", max_length=300, placeholder="phone, e-mail, person")

    def save(self, s: Any, values: dict[str, Any]) -> AgencyView:
        return agency.add_agency(
            self.actor, s, name=values["name"], fee_bp=values["fee"], contact=values["contact"]
        )

    def saved_message(self, result: AgencyView) -> str:
        return f"Agency {result.name} added, fee {result.fee_percent}"


class AgencyPaymentDialog(FormDialog[AgencyPaymentResult]):
    """What the agency collected (gross); the fee and the net are shown before saving."""

    HELP_TITLE = "Agency payment"
    HELP = (
        "Type what the agency collected from the client (gross). The agency keeps its fee; the net "
        "it remits is posted as a payment and the fee is booked as an adjustment, so the client's "
        "balance goes down by the gross amount. Ctrl+S asks first."
    )
    FORM_ID = "agency_payment"
    SAVE_LABEL = "Post"
    SUBMIT_ON_ENTER = True
    REQUIRES = (Action.AGENCY_PLACE, AGENCY_REFUSED)

    def __init__(self, placement: PlacementView) -> None:
        super().__init__()
        self.placement = placement
        self.key = f"tui-agency-{uuid.uuid4().hex}"  # one key per dialog: saving twice posts once

    def heading(self) -> str:
        p = self.placement
        return f"Payment collected by {p.agency_name} for {p.client_name} ({p.account_number})"

    def intro(self) -> Iterable[Widget]:
        p = self.placement
        yield Static(
            Text(
                f"Placed {p.placed_on} with {fmt_money(p.balance_placed)} · owes now {fmt_money(p.balance_now)} "
                f"· agency fee {percent(p.fee_bp)}"
            )
        )

    def fields(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        yield Field(
            "gross", "Collected (gross)", parse=parse_amount, required=True, placeholder="e.g. 100.00"
        )
        yield Field(
            "received_on",
            "Received on",
            value=today.isoformat(),
            parse=received_date_parser(today),
            required=True,
            max_length=40,
        )
        yield Field("reference", "Reference", max_length=100, placeholder="agency remittance number")

    def outro(self) -> Iterable[Widget]:
        yield Static("", id="agency-net", classes="agency-net")

    def on_mount(self) -> None:
        self._show_net("")

    @on(Input.Changed, "#input-gross")
    def _gross_changed(self, event: Input.Changed) -> None:
        self._show_net(event.value)

    def _show_net(self, text: str) -> None:
        box = self.query_one("#agency-net", Static)
        try:
            gross = parse_amount(text)
        except ParseError:
            box.update(
                Text(f"Fee {percent(self.placement.fee_bp)} of what is collected; the rest is posted.")
            )
            return
        fee = fee_of(gross, self.placement.fee_bp)
        box.update(
            Text.assemble(
                f"Gross {fmt_money(gross)} − agency fee {fmt_money(fee)} = ",
                (f"net {fmt_money(gross - fee)}", "bold"),
                " posted as the payment",
            )
        )

    def check(self, values: dict[str, Any]) -> Mapping[str, str]:
        owes = self.placement.balance_now
        if values["gross"] > owes:
            return {"gross": f"is more than the account owes ({fmt_money(owes)})"}
        return {}

    def confirmation(self, values: dict[str, Any]) -> tuple[str, str, str]:
        p = self.placement
        gross: Decimal = values["gross"]
        fee = fee_of(gross, p.fee_bp)
        text = (
            f"{p.agency_name} collected {fmt_money(gross)} from {p.client_name} ({p.account_number}), "
            f"received {values['received_on']}.\n\nPosted as a payment: {fmt_money(gross - fee)} (net)\n"
            f"Agency fee {percent(p.fee_bp)}: {fmt_money(fee)}, booked as an adjustment\n"
            f"The account owes {fmt_money(p.balance_now)} → {fmt_money(p.balance_now - gross)}."
        )
        return "Post the agency payment?", text, "Post"

    def save(self, s: Any, values: dict[str, Any]) -> AgencyPaymentResult:
        return agency.record_agency_payment(
            self.actor,
            s,
            placement_id=self.placement.id,
            gross=values["gross"],
            received_on=values["received_on"],
            idempotency_key=self.key,
            reference=values["reference"],
        )

    def saved(self, result: AgencyPaymentResult) -> None:
        r = result
        if r.duplicate:
            self.notify(f"Already recorded as payment #{r.payment_id}; nothing changed", severity="warning")
        else:
            self.notify(
                escape(
                    f"Payment #{r.payment_id}: {fmt_money(r.net)} posted net of the {fmt_money(r.fee)} agency fee "
                    f"(collected {fmt_money(r.gross)})"
                )
            )
        self.dismiss(r)


class ExportDialog(FormDialog[ExportResult]):
    HELP_TITLE = "Placement file"
    HELP = "Writes the agency's active placements as CSV into the folder. An existing file is never replaced."
    FORM_ID = "agency_export"
    SAVE_LABEL = "Write file"
    SUBMIT_ON_ENTER = True
    REQUIRES = (Action.AGENCY_PLACE, AGENCY_REFUSED)
    # A write transaction: the export's audit entry (who took which clients' data) must be kept.
    SAVE_WRITES = True
    ERROR_FIELDS = {ConflictError: "name", ExportError: "folder"}  # the file exists; the folder fails
    FIELD_ALIASES = {"path": "folder"}

    def __init__(self, ag: AgencyView, today: dt.date) -> None:
        super().__init__()
        self.agency = ag
        self.default_name = f"agency-{safe_name(ag.name)[:16]}-{today.strftime('%Y%m%d')}.csv"

    def heading(self) -> str:
        return f"Placement file for {self.agency.name}"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                f"One row per active placement ({self.agency.active_placements}) with contact data and the "
                "itemized balance. Nothing is opened; the file goes into this folder of "
                f"{self.cd_app.exports} (created if needed), readable by you alone."
            )
        )

    def fields(self) -> ComposeResult:
        yield FolderField(self.cd_app.exports, _last_folder)
        yield Field("name", "File name", value=self.default_name, parse=parse_file_name, required=True)

    def check(self, values: dict[str, Any]) -> Mapping[str, str]:
        try:
            folder_target(self.cd_app.exports, values["folder"], values["name"])
        except ExportError as e:
            return {"name": str(e)}  # the folder alone passed its own check: the name is wrong
        return {}

    def save(self, s: Any, values: dict[str, Any]) -> ExportResult:
        root = self.cd_app.exports
        target = make_folders(root, folder_target(root, values["folder"], values["name"]))
        return agency.export_placement_file(self.actor, s, path=target, agency_id=self.agency.id)

    def saved_message(self, result: ExportResult) -> str:
        return ""  # said below, with a longer time on screen

    def saved(self, result: ExportResult) -> None:
        global _last_folder
        _last_folder = self.query_one("#input-folder", Input).value.strip()
        self.notify(
            escape(f"Wrote {result.path} ({n_of(result.rows, 'account')})"), title="Placement file", timeout=8
        )
        super().saved(result)


# --------------------------------------------------------------------------- choosing accounts


class PlaceAccountsScreen(DbScreen):
    """Overdue accounts not yet placed; space marks, ctrl+s places the marked ones (asks first)."""

    HELP_TITLE = "Place accounts with an agency"
    HELP = (
        "The overdue accounts, most urgent first (none of them is with an agency). Space marks or "
        "unmarks the highlighted account; ctrl+s shows the balances that will be placed and asks."
    )
    BINDINGS = [
        Binding("space", "mark", "Mark", id="agency_place.mark", tooltip="Mark or unmark the account"),
        Binding("ctrl+s", "place", "Place", id="agency_place.place", tooltip="Place the marked accounts"),
        Binding("escape", "back", "Back", id="agency_place.back", tooltip="Back without placing"),
    ]

    def __init__(self, ag: AgencyView) -> None:
        super().__init__()
        self.agency = ag
        self.marked: dict[int, WorklistRow] = {}
        self._placing = False

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(
            Text.assemble(
                (f"Place accounts with {self.agency.name}", "bold"), f" · fee {percent(self.agency.fee_bp)}"
            ),
            classes="section-title",
        )
        yield ListTable(
            ["", "Account", "Client", "Past due", "Owes", "Days"],
            self.fetch,
            widths=(1, 8, 24, 11, 11, 5),
            filter_placeholder="account number or name…",
            id="candidates",
        )
        yield Static("Nothing marked yet (space marks)", id="marked", classes="muted")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#candidates", ListTable).focus()

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        page = collections.collections_worklist(
            self.actor, session, after=after, limit=limit, filter_text=text
        )
        return Page(
            rows=[
                (
                    r,
                    [
                        "✓" if r.client_id in self.marked else "",
                        r.account_number,
                        cut(r.client_name, 24),
                        money_cell(r.past_due),
                        money_cell(r.balance, bold=True),
                        Text(str(r.days_past_due), justify="right"),
                    ],
                )
                for r in page.rows
            ],
            next_after=page.next_after,
        )

    def action_mark(self) -> None:
        table = self.query_one("#candidates", ListTable)
        r: WorklistRow | None = table.current_key
        if r is None:
            return
        if r.client_id in self.marked:
            del self.marked[r.client_id]
        else:
            self.marked[r.client_id] = r
        table.table.update_cell_at(
            Coordinate(table.table.cursor_row, 0), "✓" if r.client_id in self.marked else ""
        )
        total = sum((m.balance for m in self.marked.values()), ZERO)
        self.query_one("#marked", Static).update(
            Text(f"Marked {n_of(len(self.marked), 'account')}, {fmt_money(total)} · ctrl+s places them")
            if self.marked
            else Text("Nothing marked yet (space marks)")
        )
        table.table.action_cursor_down()

    @on(PagedTable.Chosen, "#candidates")
    def _enter(self) -> None:
        self.action_mark()

    def action_place(self) -> None:
        if not self.marked:
            self.notify("Mark accounts first (space)", severity="warning")
            return
        if self._placing:
            return
        rows = list(self.marked.values())
        total = sum((m.balance for m in rows), ZERO)
        lines = [f"{r.account_number} {r.client_name}: {fmt_money(r.balance)}" for r in rows[:LISTED]]
        if len(rows) > LISTED:
            lines.append(f"… and {len(rows) - LISTED} more")
        text = (
            f"Place {n_of(len(rows), 'account')} with {self.agency.name} (fee {percent(self.agency.fee_bp)}), "
            f"balance placed {fmt_money(total)}:\n\n" + "\n".join(lines) + "\n\nThe accounts leave internal "
            "dunning and the work lists until they are recalled. Payments the agency collects are posted "
            "net of its fee."
        )
        ids = [r.client_id for r in rows]
        aid = self.agency.id

        def decided(yes: bool | None) -> None:
            if not yes:
                return
            self._placing = True

            def failed(exc: BaseException) -> None:
                self._placing = False
                self.cd_app.show_error(exc)

            def done(placed: tuple[PlacementView, ...]) -> None:
                placed_total = sum((p.balance_placed for p in placed), ZERO)
                self.notify(
                    escape(
                        f"Placed {n_of(len(placed), 'account')} with {self.agency.name}: {fmt_money(placed_total)}"
                    )
                )
                self.dismiss(placed)  # type: ignore[arg-type]

            self.db_call(
                lambda s: agency.place_accounts(self.actor, s, agency_id=aid, client_ids=ids),
                done,
                write=True,
                on_error=failed,
                group="place",
            )

        self.app.push_screen(ConfirmDialog(f"Place {n_of(len(rows), 'account')}?", text, "Place"), decided)

    def action_back(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- the screen


class AgencyPlacementsScreen(DbScreen):
    HELP_TITLE = "Agency placements"
    HELP = (
        "Agencies at the top (n adds one), the highlighted agency's placements below (Tab moves "
        "between them; s shows active or all). a places overdue accounts with the agency, p records "
        "what the agency collected (posted net of its fee), c recalls a placement, x writes the "
        "agency's placement file (CSV)."
    )
    BINDINGS = [
        Binding("a", "place", "Place", id="agency.place", tooltip="Place accounts with the agency"),
        Binding(
            "p", "payment", "Agency payment", id="agency.payment", tooltip="Record what the agency collected"
        ),
        Binding("c", "recall", "Recall", id="agency.recall", tooltip="Bring the account back (reason)"),
        Binding("x", "export", "Export file", id="agency.export", tooltip="Write the placement file (CSV)"),
        Binding("n", "new_agency", "New agency", id="agency.new", tooltip="Add a collection agency"),
        Binding("s", "toggle_status", "Active/all", id="agency.toggle", tooltip="Active placements or all"),
        Binding("escape", "back", "Back", id="agency.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.agencies: tuple[AgencyView, ...] = ()
        self.agency_id: int | None = None
        self.only_active = True

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield DataTable(id="agencies", cursor_type="row", zebra_stripes=True)
        yield Static("Loading…", id="placements-title", classes="section-title")
        yield ListTable(
            PLACEMENT_COLUMNS,
            self.fetch,
            widths=PLACEMENT_WIDTHS,
            page_size=50,
            filter_placeholder="account number or name…",
            id="placements",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        if refused(self, Action.AGENCY_PLACE, "work with collection agencies"):
            return
        t = self.query_one("#agencies", DataTable)
        for name, width in (("Agency", 24), ("Fee", 8), ("Placed", 6), ("Contact", 30)):
            t.add_column(name, width=width)
        t.focus()
        self.reload()

    def reload(self) -> None:
        if not self.actor.can(Action.AGENCY_PLACE):
            return  # the screen shows the refusal only
        self.db_call(lambda s: agency.list_agencies(self.actor, s), self.show_agencies, group="agencies")

    def show_agencies(self, rows: tuple[AgencyView, ...]) -> None:
        self.agencies = rows
        t = self.query_one("#agencies", DataTable)
        keep = self.agency_id
        t.clear()
        for a in rows:
            t.add_row(
                cut(a.name, 30), a.fee_percent, str(a.active_placements), cut(a.contact, 30), key=str(a.id)
            )
        ids = [a.id for a in rows]
        if keep in ids:
            t.move_cursor(row=ids.index(keep))
        self.agency_id = rows[min(max(t.cursor_row, 0), len(rows) - 1)].id if rows else None
        self._title()
        self.query_one("#placements", ListTable).reload()

    def _agency(self) -> AgencyView | None:
        return next((a for a in self.agencies if a.id == self.agency_id), None)

    def _title(self) -> None:
        a = self._agency()
        box = self.query_one("#placements-title", Static)
        if a is None:
            box.update(Text("No agencies yet: n adds one.", style="bold"))
            return
        which = "active placements" if self.only_active else "all placements"
        box.update(Text.assemble((a.name, "bold"), f" · fee {a.fee_percent} · {which}"))

    @on(DataTable.RowHighlighted, "#agencies")
    def _agency_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None or int(key) == self.agency_id:
            return
        self.agency_id = int(key)
        self._title()
        self.query_one("#placements", ListTable).reload()

    @on(DataTable.RowSelected, "#agencies")
    def _agency_chosen(self) -> None:
        self.query_one("#placements", ListTable).focus()

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        if not self.actor.can(Action.AGENCY_PLACE):
            return Page(rows=[], next_after=None)  # the screen shows the refusal only
        aid = self.agency_id
        if aid is None:
            return Page(rows=[], next_after=None)
        status = PlacementStatus.ACTIVE if self.only_active else None
        page = agency.list_placements(
            self.actor, session, agency_id=aid, status=status, after=after, limit=limit, filter_text=text
        )
        return Page(
            rows=[
                (
                    p,
                    [
                        p.account_number,
                        cut(p.client_name, 12),
                        p.placed_on.isoformat(),
                        money_cell(p.balance_placed),
                        money_cell(p.balance_now, bold=True),
                        money_cell(p.collected),
                        p.status.value,
                    ],
                )
                for p in page.rows
            ],
            next_after=page.next_after,
        )

    def _placement(self) -> PlacementView | None:
        p: PlacementView | None = self.query_one("#placements", ListTable).current_key
        if p is None:
            self.notify("Choose a placement in the lower list first (Tab)", severity="warning")
        return p

    def _refresh(self, result: Any) -> None:
        if result is not None and result != ():
            self.reload()

    # ------------------------------------------------------------------ actions

    def action_new_agency(self) -> None:
        self.app.push_screen(AgencyDialog(), self._refresh)

    def action_place(self) -> None:
        a = self._agency()
        if a is None:
            self.notify("Add an agency first (n)", severity="warning")
            return
        if not a.active:
            self.notify(escape(f"{a.name} is inactive"), severity="warning")
            return
        self.app.push_screen(PlaceAccountsScreen(a), self._refresh)

    def action_payment(self) -> None:
        p = self._placement()
        if p is None:
            return
        if p.status != PlacementStatus.ACTIVE:
            self.notify(
                escape(f"{p.account_number} is {p.status.value}: only an active placement"),
                severity="warning",
            )
            return
        self.app.push_screen(AgencyPaymentDialog(p), self._refresh)

    def action_recall(self) -> None:
        p = self._placement()
        if p is None:
            return
        if p.status != PlacementStatus.ACTIVE:
            self.notify(
                escape(f"{p.account_number} is not with the agency ({p.status.value})"), severity="warning"
            )
            return
        pid = p.id

        def done(v: PlacementView | None) -> None:
            if v is not None:
                self.notify(
                    escape(
                        f"{v.account_number} recalled from {v.agency_name}: back in dunning and work lists"
                    )
                )
                self.reload()

        self.app.push_screen(
            ReasonDialog(
                f"Recall {p.client_name} ({p.account_number}) from {p.agency_name}?",
                f"Placed {p.placed_on} with {fmt_money(p.balance_placed)}; owes {fmt_money(p.balance_now)} now. "
                "The placement ends; the account is back in internal dunning and the work lists.",
                lambda actor, s, reason: agency.recall_placement(actor, s, pid, reason=reason[:REASON_MAX]),
                ok="Recall",
            ),
            done,
        )

    def action_export(self) -> None:
        a = self._agency()
        if a is None:
            self.notify("Add an agency first (n)", severity="warning")
            return
        self.app.push_screen(ExportDialog(a, office_today(self.cd_app.tz)))

    def action_toggle_status(self) -> None:
        self.only_active = not self.only_active
        self._title()
        self.query_one("#placements", ListTable).reload()
