"""Daily assignment (supervisor): the day's work items on the left, the clerks on shift on the right
(docs/assignment_screens.md).

The items page from the database (keyset, ``scheduling.work_items.list_items``), filter as you
type (``/``), sort (``s``) and narrow to unassigned/assigned/open/finished (``v``). Space marks
items (shift+↑/↓ extends the marks); without marks the highlighted row is the selection. A
clerk's digit (the first ten) or letter assigns the selection to them; ``m`` asks for the clerk;
``u`` unassigns; ``a`` previews an auto-assign and ``r`` a rebalance of the highlighted clerk's
open items (accept or discard, ctrl+z undoes the last one); ``p`` publishes; ``n`` generates the
day's items. Over-capacity manual moves are flagged, never refused.

Letter keys act only while the focus is not in the filter box (typing a filter never assigns).
The screen polls the day's change marker, so a clerk finishing an item shows up here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.markup import escape
from textual.widgets import DataTable, Input, Static

from db.errors import ConflictError
from db.rights import Action
from db.timeutil import office_today
from scheduling import work_items, work_plan
from scheduling.work_items import AssignedFilter, DayStatus, GenerationResult, ItemRow, ItemSort
from scheduling.work_plan import AssignResult, ClerkLoad, PlanPreview
from screens.clerk.client_search import ListTable
from screens.common.collections_bits import n_of
from screens.common.work_text import kind_word
from screens.supervisor.assign_dialogs import ClerkPicker, PlanPreviewDialog
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.loadbar import load_bar
from tui.widgets.paged import Cell, Page

DIGITS = "1234567890"  # the first ten clerks, in list order
# Letters this screen (or the app) uses itself, beyond the domain's RESERVED_KEYS: a clerk whose
# letter is one of these is assigned by digit or with m (see NEEDS.md).
OWN_KEYS = frozenset("gsv") | work_plan.RESERVED_KEYS
CLERK_LETTERS = "".join(ch for ch in "abcdefghijklmnopqrstuvwxyz" if ch not in OWN_KEYS)
SORTS = list(ItemSort)
VIEWS = list(AssignedFilter)
HEADER_SORT = {
    "Pri": ItemSort.PRIORITY,
    "Kind": ItemSort.KIND,
    "Age": ItemSort.AGE,
    "Amount": ItemSort.AMOUNT,
}
MARK = "●"


def item_clerk_cell(r: ItemRow) -> Text:
    """Who has the item: ``jchen*`` by hand (kept by re-plans), ``✓jchen`` finished, ``—`` nobody."""
    if r.assignee_login is None:
        return Text("—", style="bold")
    t = Text()
    if r.finished:
        t.append("✓")
    t.append(r.assignee_login)
    if r.manual:
        t.append("*")
    return t


def terms_text(r: ItemRow) -> Text:
    """The highlighted row in words: the client, why, and the priority term by term."""
    t = Text()
    t.append(f"{r.account_number} {r.client_name}", style="bold")
    t.append(f" · {r.kind.value}: {r.summary}")
    if r.carried:
        t.append(f" · carried since {r.origin_day}")
    t.append("\nPriority ")
    t.append(r.terms.explain(), style="bold")
    needs = ", ".join(r.needs) if r.needs else "no special skill"
    t.append(f"\nNeeds {needs} · owner {r.owner_login or 'nobody'} · {r.effort_minutes} min")
    if r.outcome is not None:
        t.append(f" · finished {r.finished_at_local or ''}: {work_items.OUTCOME_LABELS[r.outcome]}")
        if r.outcome_note:
            t.append(f" ({r.outcome_note})")
    return t


def day_line(st: DayStatus, sort: ItemSort, view: AssignedFilter) -> Text:
    t = Text()
    t.append(f"{st.day:%a %d %b %Y}", style="bold")
    if not st.generated:
        t.append(" · no items yet: n generates them")
        return t
    t.append(f" · {n_of(st.total, 'item')} · ")
    t.append(f"{st.unassigned} unassigned", style="bold reverse" if st.unassigned else "")
    t.append(f" · {st.assigned_open} open · {st.finished} done · ")
    if st.published:
        t.append(f"published {st.published_at_local or ''}", style="bold")
    else:
        t.append("NOT PUBLISHED", style="bold reverse")
    t.append(f" · sort {sort.value} · showing {view.value}")
    if st.undo:
        t.append(f" · ctrl+z undoes {st.undo}")
    return t


class ItemsTable(ListTable, inherit_bindings=False):
    """The day's items; the first column shows the marks. Copy stays out of the footer, which
    at 80 columns has room for the screen's own keys only."""

    BINDINGS = [
        Binding("pagedown", "next_page", "Next page", id="list.next_page", tooltip="Fetch the next page"),
        Binding("pageup", "prev_page", "Prev page", id="list.prev_page", tooltip="Back to the previous page"),
        Binding("slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
        Binding(
            "y",
            "copy_row",
            "Copy",
            show=False,
            id="list.copy",
            tooltip="Copy the row to the clipboard (OSC 52)",
        ),
    ]

    def on_paged_table_loaded(self, event: ListTable.Loaded) -> None:
        # The base class fills the table in its own handler, after this one: mark afterwards.
        self.call_later(self.screen_remark)

    def screen_remark(self) -> None:
        screen = self.screen
        if isinstance(screen, AssignmentScreen):
            screen.remark()


def _assign_bindings() -> list[Binding]:
    """A binding per possible clerk key; only keys that belong to a clerk today are active."""
    out = [
        Binding(
            d,
            f"assign_key('{d}')",
            "Assign" if d == "1" else "",
            key_display="1-9/letter" if d == "1" else None,
            show=d == "1",
            id=f"assignment.assign_{d}",
            tooltip="Assign the selection to the clerk with this digit or letter",
        )
        for d in DIGITS
    ]
    out += [
        Binding(
            ch,
            f"assign_key('{ch}')",
            "",
            show=False,
            id=f"assignment.assign_{ch}",
            tooltip="Assign the selection to the clerk with this letter",
        )
        for ch in CLERK_LETTERS
    ]
    return out


class AssignmentScreen(DbScreen):
    HELP_TITLE = "Daily assignment"
    HELP = (
        "Left: the day's items (/ filters, s sorts, v narrows: unassigned, assigned, open, finished). "
        "Space (or Enter, or a click on the highlighted row) marks an item, shift+↑/↓ marks while "
        "moving, Esc clears the marks; with no marks the "
        "highlighted item is the selection. Right: the clerks on shift with their load "
        "(assigned minutes / capacity) and skills. A clerk's digit or letter assigns the selection "
        "(a * in the Clerk column means by hand: re-plans keep it), m asks for the clerk, u unassigns. "
        "a previews an auto-assign, r a rebalance of the clerk highlighted on the right (accept with "
        "Enter, discard with Esc); ctrl+z undoes the last one. p publishes the day to the clerks. "
        "n generates the day's items (running it again creates nothing new). Tab moves between the "
        "two lists; Enter on a clerk assigns the selection to them."
    )
    BINDINGS = [
        Binding("a", "auto", "Auto-assign", id="assignment.auto", tooltip="Preview an auto-assign"),
        *_assign_bindings(),
        Binding("m", "move", "Move", id="assignment.move", tooltip="Assign or move the selection to a clerk"),
        Binding("u", "unassign", "Unassign", id="assignment.unassign", tooltip="Take the selection away"),
        Binding(
            "r",
            "rebalance",
            "Rebalance",
            id="assignment.rebalance",
            tooltip="Spread the highlighted clerk's open items over the others (preview first)",
        ),
        Binding("p", "publish", "Publish", id="assignment.publish", tooltip="Publish the day to the clerks"),
        Binding(
            "ctrl+z", "undo", "Undo", id="assignment.undo", tooltip="Undo the last auto-assign or rebalance"
        ),
        Binding("space", "toggle_mark", "Mark", id="assignment.mark", tooltip="Mark or unmark the item"),
        Binding("n", "generate", "Generate", id="assignment.generate", tooltip="Create the day's work items"),
        Binding(
            "shift+down",
            "extend('down')",
            "Mark down",
            show=False,
            id="assignment.mark_down",
            tooltip="Mark this item and the next",
        ),
        Binding(
            "shift+up",
            "extend('up')",
            "Mark up",
            show=False,
            id="assignment.mark_up",
            tooltip="Mark this item and the previous",
        ),
        Binding(
            "escape",
            "clear_marks",
            "Clear marks",
            show=False,
            id="assignment.clear_marks",
            tooltip="Unmark every item",
        ),
        # With no marks to clear, Esc goes back, as on every other screen.
        Binding(
            "escape", "back", "Back", show=False, id="assignment.back", tooltip="Back to the previous screen"
        ),
        Binding("s", "sort", "Sort", id="assignment.sort", tooltip="Sort by priority, kind, age or amount"),
        Binding(
            "v", "view", "View", id="assignment.view", tooltip="All, unassigned, assigned, open, finished"
        ),
    ]

    POLL_SECONDS: ClassVar[float] = 2.0  # the day's change marker (a clerk finishing, another supervisor)

    def __init__(self, day: dt.date | None = None) -> None:
        super().__init__()
        self._day = day
        self.sort = ItemSort.PRIORITY
        self.view = AssignedFilter.ALL
        self.marked: set[int] = set()
        self.rows: dict[int, ItemRow] = {}  # every item row seen, by id (versions for the services)
        self.clerks: list[ClerkLoad] = []
        self.keys: dict[str, ClerkLoad] = {}  # digit or letter → clerk
        self.status: DayStatus | None = None
        self.marker: int | None = None
        self._polling = False
        self._poll_failed = False

    @property
    def day(self) -> dt.date:
        if self._day is None:
            self._day = office_today(self.cd_app.tz)
        return self._day

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading the day…", id="asg-day")
        yield Static("", id="asg-warn")
        with Horizontal(id="asg-body"):
            with Vertical(id="asg-left"):
                yield ItemsTable(
                    ["", "Pri", "Kind", "Client", "Clerk", "Amount", "Age", "Min"],
                    self.fetch_items,
                    widths=(1, 4, 7, 14, 9, 10, 3, 3),
                    page_size=50,
                    filter_placeholder="client name or account, kind, or clerk login…",
                    id="asg-items",
                )
                yield Static("", id="asg-terms")
            with Vertical(id="asg-right"):
                yield Static(Text("Clerks on shift", style="bold"), classes="panel-title")
                yield DataTable(id="asg-clerks", cursor_type="row", zebra_stripes=True)
                yield Static("", id="asg-clerk-note")
        yield KeyFooter()

    def on_mount(self) -> None:
        if not self.actor.can(Action.WORK_ASSIGN):
            # Opened some other way than the go-to menu (which never offers it to a clerk).
            self.notify("Only a supervisor may assign work", title="Not allowed", severity="error")
            self.app.pop_screen()
            return
        clerks = self.query_one("#asg-clerks", DataTable)
        for label, width in (
            ("Key", 3),
            ("Clerk", 9),
            ("Load", 14),
            ("State", 9),
            ("Skills", 30),
        ):
            clerks.add_column(label, width=width)
        clerks.tooltip = "Clerks on shift: Enter assigns the selection to the highlighted clerk; r rebalances"
        self.query_one("#asg-warn", Static).display = False
        self.query_one(ItemsTable).focus()
        self.reload_side()
        self.set_interval(self.POLL_SECONDS, self.poll)

    # ------------------------------------------------------------------ loading

    def fetch_items(self, session: Any, after: Any, limit: int, text: str) -> Page[Any]:
        page = work_items.list_items(
            self.actor, session, self.day, after=after, limit=limit, filter_text=text,
            sort=self.sort, assigned=self.view,
        )  # fmt: skip
        rows: list[tuple[int, list[Cell]]] = []
        for r in page.rows:
            self.rows[r.id] = r
            rows.append(
                (
                    r.id,
                    [
                        MARK if r.id in self.marked else "",
                        str(r.priority),
                        kind_word(r.kind.value),
                        Text(r.client_name),
                        item_clerk_cell(r),
                        Text(f"{r.amount:,.2f}", justify="right"),
                        Text(str(r.age_days), justify="right"),
                        Text(str(r.effort_minutes), justify="right"),
                    ],
                )
            )
        return Page(rows=rows, next_after=page.next_after, total=page.total)

    def reload(self) -> None:
        """Everything again: the day's counts, the clerks, the page of items."""
        self.reload_side()
        self.query_one(ItemsTable).refresh_page()

    def reload_side(self) -> None:
        day = self.day

        def load(s: Any) -> tuple[DayStatus, tuple[ClerkLoad, ...]]:
            return work_items.day_status(self.actor, s, day), work_plan.clerks_on_shift(self.actor, s, day)

        self.db_call(load, self.show_side, group="side")

    def show_side(self, result: tuple[DayStatus, tuple[ClerkLoad, ...]]) -> None:
        st, clerks = result
        self.status = st
        self.marker = st.marker if self.marker is None else self.marker
        self.query_one("#asg-day", Static).update(day_line(st, self.sort, self.view))
        self.clerks = list(clerks)
        self.keys = {}
        table = self.query_one("#asg-clerks", DataTable)
        row = table.cursor_row
        table.clear()
        for i, c in enumerate(self.clerks):
            keys = []
            if i < len(DIGITS):
                keys.append(DIGITS[i])
            if c.key and c.key in CLERK_LETTERS:
                keys.append(c.key)
            for k in keys:
                self.keys[k] = c
            table.add_row(
                "/".join(keys) or "m",
                Text(c.login, style="" if c.available else "italic"),
                load_bar(c.load_minutes, c.capacity_minutes, width=6, figures=False).append(
                    f" {c.load_minutes}/{c.capacity_minutes}"
                ),
                Text(c.state if c.available else c.state.upper(), style="" if c.available else "bold"),
                Text(", ".join(c.skills) or "—"),
                key=str(c.user_id),
            )
        if self.clerks:
            table.move_cursor(row=min(max(row, 0), len(self.clerks) - 1))
        self._show_clerk()
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#asg-clerks")
    def _clerk_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_clerk()

    def _show_clerk(self) -> None:
        """The highlighted clerk in full (the columns are cut at 80×24), and who is over capacity."""
        note = self.query_one("#asg-clerk-note", Static)
        if not self.clerks:
            note.update(Text("Nobody has a published shift this day.", style="italic"))
            return
        text = Text()
        c = self._highlighted_clerk()
        if c is not None:
            text.append(c.name, style="bold")
            text.append(f" · {c.shift_code or 'no shift'} {c.shift_local} · {c.state}")
            text.append(f" · {c.open_items} open, {c.done_items} done")
            text.append(f"\nSkills: {', '.join(c.skills) or 'none'}")
        over = [x.login for x in self.clerks if x.over_capacity]
        if over:
            text.append("\n")
            text.append("OVER CAPACITY", "bold reverse")
            text.append(f" {', '.join(over)}")
        note.update(text)

    def poll(self) -> None:
        """Read the day's change marker (one primary-key read); reload when someone changed the day."""
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
        if self.marker is not None and marker != self.marker:
            self.marker = marker
            self.reload()
        self.marker = marker

    def _poll_error(self, exc: BaseException) -> None:
        self._polling = False
        if not self._poll_failed:  # say it once, not every two seconds
            self._poll_failed = True
            self.cd_app.show_error(exc)

    def remark(self) -> None:
        """Show the marks on the rows of the page in view."""
        items = self.query_one(ItemsTable)
        table = items.table
        for i, key in enumerate(items._keys):
            want = MARK if key in self.marked else ""
            if table.get_cell_at(Coordinate(i, 0)) != want:
                table.update_cell_at(Coordinate(i, 0), want)
        self._show_terms()

    # ------------------------------------------------------------------ selection

    def selection(self) -> list[ItemRow]:
        """The marked items, else the highlighted one."""
        if self.marked:
            return [self.rows[i] for i in sorted(self.marked) if i in self.rows]
        key = self.query_one(ItemsTable).current_key
        return [self.rows[key]] if key in self.rows else []

    def _typing(self) -> bool:
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "assign_key":
            if self._typing() or parameters[0] not in self.keys:
                return False  # not a clerk's key today: the key does nothing here
            return True
        if (
            action
            in (
                "toggle_mark",
                "extend",
                "sort",
                "view",
                "move",
                "unassign",
                "auto",
                "rebalance",
                "publish",
                "generate",
                "undo",
            )
            and self._typing()
        ):
            return False
        if action == "clear_marks":
            return bool(self.marked) and not self._typing()
        return True

    def action_toggle_mark(self) -> None:
        items = self.query_one(ItemsTable)
        key = items.current_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.remark()
        items.table.action_cursor_down()

    def action_extend(self, direction: str) -> None:
        items = self.query_one(ItemsTable)
        key = items.current_key
        if key is None:
            return
        self.marked.add(key)
        table = items.table
        if direction == "down":
            table.action_cursor_down()
        else:
            table.action_cursor_up()
        nxt = items.current_key
        if nxt is not None:
            self.marked.add(nxt)
        self.remark()

    def action_clear_marks(self) -> None:
        self.marked.clear()
        self.remark()

    @on(ListTable.Chosen, "#asg-items")
    def _item_chosen(self, event: ListTable.Chosen) -> None:
        # Enter or a click on the highlighted row marks it (the mouse way to build a selection).
        self.marked.symmetric_difference_update({event.key})
        self.remark()

    @on(DataTable.RowHighlighted, "#asg-items DataTable")
    def _item_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_terms()

    def _show_terms(self) -> None:
        key = self.query_one(ItemsTable).current_key
        box = self.query_one("#asg-terms", Static)
        r = self.rows.get(key) if key is not None else None
        text = Text()
        if self.marked:  # first: the terms below may be cut at 80×24
            minutes = sum(self.rows[i].effort_minutes for i in self.marked if i in self.rows)
            text.append(f"{len(self.marked)} marked · {minutes} min", style="bold reverse")
            text.append(" (Esc clears)\n" if r is not None else " (Esc clears)")
        if r is not None:
            text.append_text(terms_text(r))
        box.update(text)

    @on(DataTable.HeaderSelected, "#asg-items DataTable")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        # The mouse way to sort: a click on Pri, Kind, Age or Amount.
        wanted = HEADER_SORT.get(str(event.label))
        if wanted is not None and wanted is not self.sort:
            self.sort = SORTS[(SORTS.index(wanted) - 1) % len(SORTS)]
            self.action_sort()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.query_one(ItemsTable).reload()
        if self.status is not None:
            self.query_one("#asg-day", Static).update(day_line(self.status, self.sort, self.view))
        self.notify(f"Sorted by {self.sort.value}")

    def action_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.query_one(ItemsTable).reload()
        if self.status is not None:
            self.query_one("#asg-day", Static).update(day_line(self.status, self.sort, self.view))
        self.notify(f"Showing {self.view.value} items")

    # ------------------------------------------------------------------ changes

    def _changed(self, message: str, used: frozenset[int] = frozenset()) -> Callable[[Any], None]:
        """What to do when a change is written: only the items it used lose their marks (marks made
        while it ran stay), then the day is read again."""

        def done(result: Any) -> None:
            if isinstance(result, AssignResult):
                for r in result.items:
                    self.rows[r.id] = r
                self.marker = result.marker
                self._warn(result.warnings)
            elif hasattr(result, "marker"):
                self.marker = result.marker
            self.marked.difference_update(used)
            self.notify(escape(message))
            self.reload()

        return done

    def _warn(self, warnings: tuple[str, ...]) -> None:
        box = self.query_one("#asg-warn", Static)
        if warnings:
            text = Text()
            for w in warnings:
                text.append(" OVER CAPACITY ", "bold reverse")
                text.append(f" {w}\n")
            text.rstrip()  # in place: rich's Text.rstrip returns None
            box.update(text)
            self.notify(
                escape("\n".join(warnings)), title="Over capacity (assigned anyway)", severity="warning"
            )
        box.display = bool(warnings)

    def _refused(self, exc: BaseException) -> None:
        if isinstance(exc, ConflictError):
            self.notify(
                escape(f"{exc} The list is read again; try once more."), title="Changed meanwhile", severity="error",
                timeout=8,
            )  # fmt: skip
            self.reload()
            return
        self.cd_app.show_error(exc)

    def _pairs(self, items: list[ItemRow]) -> list[tuple[int, int]]:
        return [(r.id, r.version) for r in items]

    def assign_to(self, clerk: ClerkLoad) -> None:
        items = self.selection()
        if not items:
            self.notify("No item selected", severity="warning")
            return
        pairs = self._pairs(items)
        day, uid = self.day, clerk.user_id
        n = len(items)
        self.db_call(
            lambda s: work_plan.assign_items(self.actor, s, day, pairs, uid),
            self._changed(
                f"{n} item{'s' if n != 1 else ''} to {clerk.login}", frozenset(r.id for r in items)
            ),
            write=True,
            on_error=self._refused,
            group="change",
        )

    def action_assign_key(self, key: str) -> None:
        clerk = self.keys.get(key)
        if clerk is not None:
            self.assign_to(clerk)

    @on(DataTable.RowSelected, "#asg-clerks")
    def _clerk_chosen(self, event: DataTable.RowSelected) -> None:
        clerk = self._highlighted_clerk()
        if clerk is not None:
            self.assign_to(clerk)

    def _highlighted_clerk(self) -> ClerkLoad | None:
        table = self.query_one("#asg-clerks", DataTable)
        if not self.clerks or table.row_count == 0:
            return None
        return self.clerks[min(table.cursor_row, len(self.clerks) - 1)]

    def _keyed_clerks(self) -> list[tuple[str, ClerkLoad]]:
        out = []
        for c in self.clerks:
            key = next((k for k, v in self.keys.items() if v.user_id == c.user_id), "")
            out.append((key, c))
        return out

    def action_move(self) -> None:
        items = self.selection()
        if not items:
            self.notify("No item selected", severity="warning")
            return
        if not self.clerks:
            self.notify("Nobody is on shift this day", severity="warning")
            return
        n = len(items)

        def chosen(c: ClerkLoad | None) -> None:
            if c is not None:
                self.assign_to(c)

        self.app.push_screen(
            ClerkPicker(f"Move {n} item{'s' if n != 1 else ''} to…", self._keyed_clerks()), chosen
        )

    def action_unassign(self) -> None:
        items = [r for r in self.selection() if r.assignee_id is not None]
        if not items:
            self.notify("The selection has no assigned item", severity="warning")
            return
        who = sorted({r.assignee_login or "" for r in items})
        n = len(items)
        pairs = self._pairs(items)
        day = self.day

        def go(yes: bool | None) -> None:
            if yes:
                self.db_call(
                    lambda s: work_plan.unassign_items(self.actor, s, day, pairs),
                    self._changed(
                        f"{n} item{'s' if n != 1 else ''} unassigned", frozenset(r.id for r in items)
                    ),
                    write=True,
                    on_error=self._refused,
                    group="change",
                )

        self.app.push_screen(
            ConfirmDialog(
                "Unassign",
                f"Take {n} item{'s' if n != 1 else ''} away from {', '.join(who)}? "
                "They stay on the day, without a clerk.",
                "Unassign",
            ),
            go,
        )

    def _preview(self, title: str, load: Callable[[Any], PlanPreview]) -> None:
        def show(p: PlanPreview) -> None:
            def decided(accept: bool | None) -> None:
                if not accept:
                    self.notify("Plan discarded; nothing changed")
                    return
                self.db_call(
                    lambda s: work_plan.apply_plan(self.actor, s, p),
                    self._changed(f"Plan applied: {len(p.moves)} moved (ctrl+z undoes it)"),
                    write=True,
                    on_error=self._refused,
                    group="change",
                )

            self.app.push_screen(PlanPreviewDialog(title, p), decided)

        self.db_call(load, show, group="preview")

    def action_auto(self) -> None:
        day = self.day
        self._preview(
            f"Auto-assign {day:%a %d %b}: preview",
            lambda s: work_plan.preview_auto_assign(self.actor, s, day),
        )

    def action_rebalance(self) -> None:
        clerk = self._highlighted_clerk()
        if clerk is None:
            self.notify("Nobody is on shift this day", severity="warning")
            return
        day, uid = self.day, clerk.user_id
        self._preview(
            f"Rebalance {clerk.name}'s open items ({clerk.state}): preview",
            lambda s: work_plan.preview_rebalance(self.actor, s, day, uid),
        )

    def action_undo(self) -> None:
        st = self.status
        if st is None or not st.undo:
            self.notify("Nothing to undo", severity="warning")
            return
        day = self.day

        def go(yes: bool | None) -> None:
            if yes:
                self.db_call(
                    lambda s: work_plan.undo_last_plan(self.actor, s, day),
                    self._changed(f"Undone: {st.undo}"),
                    write=True,
                    on_error=self._refused,
                    group="change",
                )

        self.app.push_screen(
            ConfirmDialog("Undo", f"Undo {st.undo}? Every item goes back to where it was before.", "Undo"), go
        )

    def action_publish(self) -> None:
        st = self.status
        if st is None:
            return
        if not st.generated:
            self.notify("No items yet: n generates them", severity="warning")
            return
        day = self.day
        assigned = st.total - st.unassigned
        what = (
            f"Publish {day:%a %d %b}: {assigned} assigned items go to the clerks' lists"
            f"{f' ({len([c for c in self.clerks if c.open_items])} clerks)' if self.clerks else ''}; "
            f"{st.unassigned} stay unassigned. Later changes reach the clerks at once."
        )

        def go(yes: bool | None) -> None:
            if yes:
                self.db_call(
                    lambda s: work_plan.publish_day(self.actor, s, day),
                    lambda r: self._changed(
                        f"Published: {n_of(r.assigned, 'item')} to {n_of(r.clerks, 'clerk')}"
                    )(r),
                    write=True,
                    on_error=self._refused,
                    group="change",
                )

        self.app.push_screen(ConfirmDialog("Publish the day", what, "Publish"), go)

    def action_generate(self) -> None:
        day = self.day

        def done(g: GenerationResult) -> None:
            kinds = ", ".join(f"{k.value} {n}" for k, n in g.created.items() if n)
            msg = f"{g.total_created} new items" + (f" ({kinds})" if kinds else "")
            msg += f"; {g.carried} carried over, {g.resolved} resolved before they were worked"
            if g.existing and not g.total_created:
                msg = f"Nothing new: the day already has its {g.existing} items" + (
                    f"; {g.carried} carried over" if g.carried else ""
                )
            self._changed(msg)(g)

        self.db_call(
            lambda s: work_items.generate_items(self.actor, s, day),
            done,
            write=True,
            on_error=self._refused,
            group="change",
        )
