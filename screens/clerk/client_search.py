"""Client search: find a client as you type by name, account number, phone or member id.

The search is the clients service's keyset-paged prefix search (fast on 200,000 clients): each
keystroke (debounced) fetches one page. Enter opens the account; ``n`` registers a new client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from billing import clients
from billing.clients import ClientView, SearchField
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Fetch, Page, PagedTable

HOW = {
    SearchField.NAME: "by name (Last or Last, First)",
    SearchField.ACCOUNT: "by account number",
    SearchField.PHONE: "by phone number",
    SearchField.MEMBER: "by insurance member id",
}


class ListTable(PagedTable, inherit_bindings=False):
    """A PagedTable without the single-letter paging keys (n, p), which the billing screens
    use for their own actions; PgDn/PgUp page."""

    BINDINGS = [
        Binding("pagedown", "next_page", "Next page", id="list.next_page", tooltip="Fetch the next page"),
        Binding("pageup", "prev_page", "Prev page", id="list.prev_page", tooltip="Back to the previous page"),
        Binding("slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
        Binding("y", "copy_row", "Copy", id="list.copy", tooltip="Copy the row to the clipboard (OSC 52)"),
    ]

    def __init__(self, columns: Sequence[str], fetch: Fetch, *, widths: Sequence[int], **kwargs: Any) -> None:
        super().__init__(columns, fetch, **kwargs)
        self.widths = tuple(widths)

    def on_mount(self) -> None:
        # Fixed column widths: auto widths are measured in the table's idle handler, which can
        # come after the rows are painted (header-wide columns showing "[Smi", "413-5").
        self.call_later(self._fix_widths)

    def _fix_widths(self) -> None:
        for column, width in zip(self.table.ordered_columns, self.widths, strict=False):
            column.width = width
            column.auto_width = False
        self.table.refresh(layout=True)


class SearchTable(ListTable):
    """The search box stays on screen; Escape empties it (a second Escape leaves the screen)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.query_one("#filter", Input).value)
        return True

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        self.filter_text = ""
        self.reload()
        box.focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()


class ClientSearchScreen(DbScreen):
    HELP_TITLE = "Clients"
    HELP = (
        "Type to search: a name (Smith, or Smith, Jo), an account number (A000123), a phone number "
        "(413-555) or an insurance member id (W123). Enter or Down goes to the results, Enter opens "
        "the account, / goes back to the search box, ctrl+n registers a new client (n too, in the "
        "results). Coming back from an account starts a fresh search."
    )
    BINDINGS = [
        Binding("o", "open", "Open", id="client_search.open", tooltip="Open the selected client's account"),
        # ctrl+n works from the search box too (where n is a letter of a name).
        Binding(
            "ctrl+n",
            "new",
            "New client",
            id="client_search.new",
            tooltip="Register a new client",
            priority=True,
        ),
        Binding(
            "n",
            "new",
            "New client",
            show=False,
            id="client_search.new_in_list",
            tooltip="Register a new client",
        ),
        Binding(
            "down",
            "results",
            "To results",
            show=False,
            id="client_search.results",
            tooltip="From the search box to the results",
        ),
        Binding("escape", "back", "Back", id="client_search.back", tooltip="Back to the previous screen"),
    ]

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(Text("Clients", style="bold"), classes="title")
        yield Static(Text("Type a name, account number, phone or member id"), id="how", classes="muted")
        yield SearchTable(
            ["Account", "Name", "Born", "Phone", "Status", "Owner", "Matched"],
            self.fetch,
            widths=(7, 20, 10, 12, 10, 8, 22),
            page_size=50,
            filter_placeholder="Smith, Jo · A000123 · 413-555 · W123…",
            id="clients",
        )
        yield KeyFooter()

    @property
    def results(self) -> SearchTable:
        return self.query_one("#clients", SearchTable)

    def on_mount(self) -> None:
        self.results.add_class("-filtering")
        self.results.query_one("#filter", Input).focus()

    def on_screen_resume(self) -> None:
        # Back from an account: a fresh search, so Enter cannot open the previous client again.
        box = self.results.query_one("#filter", Input)
        if box.value:
            self.results.action_clear_filter()
        box.focus()

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        page = clients.search_clients(self.actor, session, text, after=after, limit=limit)
        self.app.call_from_thread(self._show_how, text, page.field)
        return Page(
            rows=[
                (
                    r.id,
                    [
                        r.account_number,
                        Text(r.display_name),
                        r.date_of_birth.isoformat() if r.date_of_birth else "",
                        Text(r.phone),
                        r.status.value.replace("_", " "),
                        r.owner_login,
                        Text(r.matched),
                    ],
                )
                for r in page.rows
            ],
            next_after=page.next_after,
        )

    def _show_how(self, text: str, field: SearchField) -> None:
        # Called from the fetch worker: the screen may have been left meanwhile.
        how = next(iter(self.query("#how").results(Static)), None)
        if how is None:
            return
        if text.strip():
            how.update(Text(f"Searching {HOW.get(field, 'by name')}"))
        else:
            how.update(Text("Type a name, account number, phone or member id"))

    def reload(self) -> None:
        self.results.refresh_page()

    # ------------------------------------------------------------------ actions

    @on(PagedTable.Chosen, "#clients")
    def _chosen(self, event: PagedTable.Chosen) -> None:
        self.open_account(event.key)

    def open_account(self, client_id: int) -> None:
        from screens.clerk.client_account import ClientAccountScreen

        self.app.push_screen(ClientAccountScreen(client_id))

    def action_open(self) -> None:
        # Through the table: typed fast after a name, it waits for that name's rows.
        if not self.results.choose():
            self.notify("No client selected: search, then choose a row", severity="warning")

    def action_results(self) -> None:
        self.results.table.focus()

    def action_new(self) -> None:
        from screens.clerk.client_form import ClientForm

        def saved(view: ClientView | None) -> None:
            if view is not None:
                self.results.refresh_page()
                self.open_account(view.id)

        self.app.push_screen(ClientForm(None), saved)
