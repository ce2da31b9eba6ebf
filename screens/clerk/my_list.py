"""The clerk's work list for today (docs/assignment_screens.md): the published items in priority order, progress,
Enter opens the client's account at the tab for the item's kind, ``f`` finishes with an outcome.

Live: a worker reads the day's change marker about once a second (one primary-key read, on a
timer: no busy loop); when it moved, the list is read again and a short notice says what
changed ("2 items added, 1 moved away"). A supervisor's change reaches an open list within two
seconds on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import DataTable, Static

from db.enums import WorkKind
from db.errors import ConflictError
from db.timeutil import office_now, office_today
from scheduling import work_items
from scheduling.work_items import OUTCOME_LABELS, ItemRow, MyDay
from screens.clerk.outcome_dialog import Finish, OutcomeDialog
from screens.common.work_text import kind_word
from tui.widgets.base import DbScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.loadbar import load_bar, minutes_text

# The account tab that fits the work: billing looks at services, chasing at the invoices, etc.
KIND_TAB: dict[WorkKind, str] = {
    WorkKind.BILL: "tab-services",
    WorkKind.CHASE: "tab-invoices",
    WorkKind.VERIFY: "tab-coverage",
    WorkKind.INSTALLMENT: "tab-plan",
    WorkKind.DISPUTE: "tab-invoices",
}


def change_notice(before: set[int], after: set[int]) -> str:
    """``"2 items added, 1 moved away"``; "" when the same items are on the list."""
    added, gone = len(after - before), len(before - after)
    parts = []
    if added:
        parts.append(f"{added} item{'s' if added != 1 else ''} added")
    if gone:
        parts.append(f"{gone} moved away")
    return ", ".join(parts)


def progress_text(d: MyDay) -> Text:
    t = Text()
    t.append(f"{d.day:%a %d %b}", style="bold")
    if not d.published:
        t.append(" · your supervisor has not published today's list yet")
        return t
    t.append(f" · {d.done} of {d.total} done · ")
    t.append(load_bar(d.done_minutes, d.total_minutes, width=10, figures=False))
    t.append(f" {minutes_text(d.done_minutes)} of {minutes_text(d.total_minutes)}")
    return t


def outcome_cell(r: ItemRow) -> Text:
    if r.outcome is None:
        return Text("open", style="bold")
    return Text(f"✓ {OUTCOME_LABELS[r.outcome]}")


class MyListScreen(DbScreen):
    HELP_TITLE = "My work list"
    HELP = (
        "Today's work in priority order. Enter opens the client's account at the tab for the work "
        "(billing: services, chasing: invoices, installment: plan, check: coverage); f finishes the "
        "highlighted item with an outcome (d done, n no answer, p promise to pay, e escalated, "
        "s skipped with a reason), then the next open item is highlighted. ctrl+z reopens a finished "
        "item. Changes by your supervisor appear within seconds, with a notice."
    )
    BINDINGS = [
        Binding(
            "enter", "open", "Open account", id="my_list.open", tooltip="The client's account for this work"
        ),
        Binding("f", "finish", "Finish", id="my_list.finish", tooltip="Finish the item with an outcome"),
        Binding("ctrl+z", "reopen", "Reopen", id="my_list.reopen", tooltip="Reopen a finished item"),
        Binding("escape", "back", "Back", id="my_list.back", tooltip="Back to my day"),
    ]
    POLL_SECONDS: ClassVar[float] = 1.0  # tests make it shorter

    def __init__(self, day: dt.date | None = None) -> None:
        super().__init__()
        self._day = day
        self.data: MyDay | None = None
        self.marker: int | None = None
        self._polling = False
        self._poll_failed = False
        self._focus_after: int | None = None  # the item to highlight after the next load
        self.polls = 0  # finished polls (tests wait on it)

    @property
    def day(self) -> dt.date:
        if self._day is None:
            self._day = office_today(self.cd_app.tz)
        return self._day

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading your list…", id="ml-progress")
        yield Static("", id="ml-notice")
        yield DataTable(id="ml-items", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ml-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        t = self.query_one("#ml-items", DataTable)
        for label, width in (("#", 3), ("Pri", 4), ("Kind", 7), ("Client", 20), ("Min", 3), ("State", 16),
                             ("What", 40)):  # fmt: skip
            t.add_column(label, width=width)
        t.tooltip = "Enter opens the account; f finishes the item"
        t.focus()
        self.query_one("#ml-notice", Static).display = False
        self.reload()
        self.set_interval(self.POLL_SECONDS, self.poll)

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        day = self.day
        self.db_call(lambda s: work_items.my_day(self.actor, s, day), self.show, group="list")

    def show(self, d: MyDay) -> None:
        before = {r.id for r in self.data.items} if self.data is not None else None
        self.data = d
        self.marker = d.marker
        self.query_one("#ml-progress", Static).update(progress_text(d))
        t = self.query_one("#ml-items", DataTable)
        current = self.current()
        keep = self._focus_after if self._focus_after is not None else (current.id if current else None)
        self._focus_after = None
        t.clear()
        for n, r in enumerate(d.items, start=1):
            t.add_row(
                str(n),
                str(r.priority),
                kind_word(r.kind.value),
                Text(r.client_name),
                str(r.effort_minutes),
                outcome_cell(r),
                Text(r.summary),
                key=str(r.id),
            )
        ids = [r.id for r in d.items]
        if keep in ids:
            t.move_cursor(row=ids.index(keep))
        elif ids:
            t.move_cursor(row=self._first_open())
        t.display = bool(d.items)
        if before is not None:
            notice = change_notice(before, set(ids))
            if notice:
                self._notice(f"Your supervisor changed your list: {notice}")
        self._show_detail()

    def _notice(self, message: str) -> None:
        box = self.query_one("#ml-notice", Static)
        at = office_now(self.cd_app.tz).format("HH:mm")
        box.update(Text.assemble((" CHANGED ", "bold reverse"), f" {at} {message}"))
        box.display = True
        self.notify(escape(message), title="Your list changed")

    def _first_open(self, after: int = -1) -> int:
        items = self.data.items if self.data else ()
        for i, r in enumerate(items):
            if i > after and not r.finished:
                return i
        for i, r in enumerate(items):
            if not r.finished:
                return i
        return max(min(after, len(items) - 1), 0)

    def current(self) -> ItemRow | None:
        if self.data is None or not self.data.items:
            return None
        t = self.query_one("#ml-items", DataTable)
        row = t.cursor_row
        return self.data.items[row] if 0 <= row < len(self.data.items) else None

    @on(DataTable.RowHighlighted, "#ml-items")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        box = self.query_one("#ml-detail", Static)
        r = self.current()
        if r is None:
            d = self.data
            box.update(
                Text("Nothing on your list today.", style="italic")
                if d is not None and d.published
                else Text("")
            )
            return
        t = Text()
        t.append(f"{r.account_number} {r.client_name}", style="bold")
        if r.invoice_number and r.invoice_number not in r.summary:
            t.append(f" · invoice {r.invoice_number}")
        t.append(f" · {r.summary}")
        t.append(f"\nPriority {r.terms.explain()}")
        if r.outcome is not None:
            t.append(f"\nFinished {r.finished_at_local or ''}: {OUTCOME_LABELS[r.outcome]}")
            if r.outcome_note:
                t.append(f" ({r.outcome_note})")
        else:
            t.append("\nEnter opens the account · f finishes it")
        box.update(t)

    # ------------------------------------------------------------------ live

    def poll(self) -> None:
        """One cheap read of the day's change marker; the list is read again only when it moved."""
        if self._polling:
            return
        self._polling = True
        day = self.day
        self.db_call(
            lambda s: work_items.change_marker(self.actor, s, day),
            self._polled,
            on_error=self._poll_error,
            group="poll",
            exclusive=False,
        )

    def _polled(self, marker: int) -> None:
        self._polling = False
        self._poll_failed = False
        self.polls += 1
        if self.marker is not None and marker != self.marker:
            self.marker = marker
            self.reload()

    def _poll_error(self, exc: BaseException) -> None:
        self._polling = False
        self.polls += 1
        if not self._poll_failed:  # once, not every second
            self._poll_failed = True
            self.cd_app.show_error(exc)

    # ------------------------------------------------------------------ actions

    def action_open(self) -> None:
        r = self.current()
        if r is None:
            return
        from screens.clerk.client_account import ClientAccountScreen

        self.app.push_screen(ClientAccountScreen(r.client_id, tab=KIND_TAB.get(r.kind)))

    @on(DataTable.RowSelected, "#ml-items")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_finish(self) -> None:
        r = self.current()
        if r is None:
            return
        if r.finished:
            self.notify("Already finished (ctrl+z reopens it)", severity="warning")
            return
        row = self.query_one("#ml-items", DataTable).cursor_row

        def chosen(f: Finish | None) -> None:
            if f is None:
                return

            def done(res: ItemRow) -> None:
                items = self.data.items if self.data is not None else ()
                words = OUTCOME_LABELS[f.outcome]
                self.notify(escape(f"{r.client_name}: {words}"))
                # The next open item after this one (the list keeps its order while reloading).
                nxt = next(
                    (x.id for i, x in enumerate(items) if i > row and not x.finished and x.id != r.id),
                    None,
                )
                if nxt is None:
                    nxt = next((x.id for x in items if not x.finished and x.id != r.id), None)
                self._focus_after = nxt
                self.reload()

            self.db_call(
                lambda s: work_items.finish_item(self.actor, s, r.id, r.version, f.outcome, f.note),
                done,
                write=True,
                on_error=self._refused,
                group="finish",
            )

        self.app.push_screen(
            OutcomeDialog(f"{r.client_name} · {r.kind.value}: {r.summary}"),
            chosen,
        )

    def action_reopen(self) -> None:
        r = self.current()
        if r is None or not r.finished:
            self.notify("Only a finished item can be reopened", severity="warning")
            return
        self._focus_after = r.id

        def reopened(_res: object) -> None:
            self.notify(escape(f"{r.client_name}: open again"))
            self.reload()

        self.db_call(
            lambda s: work_items.reopen_item(self.actor, s, r.id, r.version),
            reopened,
            write=True,
            on_error=self._refused,
            group="finish",
        )

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):
            self.notify(
                escape(f"{exc} Your list is read again."),
                title="Changed meanwhile",
                severity="error",
                timeout=8,
            )
            self.reload()
            return
        self.cd_app.show_error(exc)
