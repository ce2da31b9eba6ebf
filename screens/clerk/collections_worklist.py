"""The collections worklist: overdue accounts by priority (docs/collections-screens.md, issue 9).

A broken promise first, then the oldest past-due item, then the amount: the order comes from
``billing.collections.collections_worklist``, one page at a time by key. ``/`` filters by
account number or name as you type; ``m`` switches between my accounts and everyone's; Enter
opens the account; ``k`` logs a contact for the highlighted account without leaving the list.
Accounts placed with an agency are not here (the agency works them).
"""

from __future__ import annotations

from typing import Any

import pendulum
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import ScreenResume
from textual.widgets import Static

from billing import collections
from billing.collections import WorklistRow
from screens.clerk.client_search import ListTable
from screens.common.collections_bits import cut, money_cell
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.paged import Page, PagedTable

COLUMNS = ["Account", "Client", "Past due", "Days", "Lvl", "Contacted", "Note"]
WIDTHS = (8, 15, 10, 4, 3, 10, 14)  # 80 columns with the scrollbar
WIDE_WIDTHS = (8, 30, 10, 4, 3, 10, 40)  # 120 columns and more


def note_text(r: WorklistRow) -> Text:
    """What stands out about the account, in words (never colour alone)."""
    parts: list[tuple[str, str]] = []
    if r.broken_promise:
        parts.append(("PROMISE BROKEN", "bold reverse"))
    if r.open_disputes:
        parts.append(("DISPUTED" if r.open_disputes == 1 else f"{r.open_disputes} DISPUTED", "bold"))
    if r.open_promise_date is not None and not r.broken_promise:
        parts.append((f"promise {r.open_promise_date.strftime('%m-%d')}", ""))
    out = Text()
    for i, (words_, style) in enumerate(parts):
        if i:
            out.append(" · ")
        out.append(words_, style)
    return out


def row_cells(r: WorklistRow, tz: str, name_width: int = 15) -> list[Any]:
    last = "never"
    if r.last_contact_at is not None:
        last = pendulum.instance(r.last_contact_at).in_timezone(tz).format("YYYY-MM-DD")
    return [
        r.account_number,
        cut(r.client_name, name_width),
        money_cell(r.past_due, bold=True),
        Text(str(r.days_past_due), justify="right"),
        Text(str(r.dunning_level or "")),
        last,
        note_text(r),
    ]


class CollectionsWorklistScreen(DbScreen):
    HELP_TITLE = "Collections worklist"
    HELP = (
        "Overdue accounts, most urgent first: a broken promise to pay, then the oldest past-due "
        "item, then the amount. / filters by account or name as you type; m shows only my "
        "accounts or everyone's; Enter opens the account; k logs a call (or letter, e-mail, …) "
        "for the highlighted account. Accounts with an agency are not listed."
    )
    BINDINGS = [
        Binding(
            "k", "log_contact", "Log contact", id="worklist.log_contact", tooltip="Log a contact attempt"
        ),
        Binding(
            "m",
            "toggle_mine",
            "Mine/all",
            id="worklist.toggle_mine",
            tooltip="My accounts only, or everyone's",
        ),
        Binding("o", "open_account", "Open", id="worklist.open", tooltip="Open the highlighted account"),
        Binding("escape", "back", "Back", id="worklist.back", tooltip="Back to the previous screen"),
    ]

    def __init__(self, *, mine: bool = False) -> None:
        super().__init__()
        self.mine = mine
        self.wide = False  # set in compose from the terminal's width
        self._reload_on_resume = False

    def compose(self) -> ComposeResult:
        self.wide = self.app.size.width >= 120
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static(self._title(), id="worklist-title", classes="section-title")
        yield ListTable(
            COLUMNS,
            self.fetch,
            widths=WIDE_WIDTHS if self.wide else WIDTHS,
            page_size=50,
            filter_placeholder="account number or name…",
            id="worklist",
        )
        yield KeyFooter()

    def _title(self) -> Text:
        whose = "my accounts" if self.mine else "all accounts"
        return Text.assemble(("Collections worklist", "bold"), f" · {whose} · most urgent first")

    def on_mount(self) -> None:
        self.query_one("#worklist", ListTable).focus()

    def fetch(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        owner = self.actor.user_id if self.mine else None
        page = collections.collections_worklist(
            self.actor, session, after=after, limit=limit, filter_text=text, owner_id=owner
        )
        tz = self.cd_app.tz
        # The key carries the row so Enter and k know the account without another read.
        width = WIDE_WIDTHS[1] if self.wide else WIDTHS[1]
        return Page(rows=[(r, row_cells(r, tz, width)) for r in page.rows], next_after=page.next_after)

    def reload(self) -> None:
        self.query_one("#worklist", ListTable).reload()

    @on(ScreenResume)
    def _resumed(self) -> None:
        if self._reload_on_resume:
            self._reload_on_resume = False
            self.query_one("#worklist", ListTable).refresh_page()

    def _current(self) -> WorklistRow | None:
        row = self.query_one("#worklist", ListTable).current_key
        if row is None:
            self.notify("No account highlighted", severity="warning")
        return row

    @on(PagedTable.Chosen, "#worklist")
    def _chosen(self, event: PagedTable.Chosen) -> None:
        self._open_account(event.key)

    def action_open_account(self) -> None:
        row = self._current()
        if row is not None:
            self._open_account(row)

    def _open_account(self, row: WorklistRow) -> None:
        from screens.clerk.client_account import ClientAccountScreen

        self._reload_on_resume = True
        self.app.push_screen(ClientAccountScreen(row.client_id))

    def action_log_contact(self) -> None:
        row = self._current()
        if row is None:
            return
        from screens.clerk.contact_form import ContactDialog

        def done(result: Any) -> None:
            if result is not None:
                self.query_one("#worklist", ListTable).refresh_page()

        self.app.push_screen(
            ContactDialog(row.client_id, f"{row.client_name} ({row.account_number})", owed=row.past_due),
            done,
        )

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.query_one("#worklist-title", Static).update(self._title())
        self.reload()
        self.notify("Showing my accounts" if self.mine else "Showing all accounts")
