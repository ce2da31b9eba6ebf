"""A list that pages from the database by key: never loads an unbounded table.

The owner gives a ``fetch(session, after, limit, filter_text) -> Page`` function (a service
call). Pages are fetched in a thread worker; the widget keeps the start key of each page it
has shown so it can go back. ``/`` filters as you type (debounced); Enter chooses a row.

A page may answer after its screen was left (or, for a load asked for before the table was
mounted, before there is a table to fill): such an answer, or its failure, is dropped, never
an error dialog. Whether the screen is still there is decided on the UI thread, where popping
a screen happens, so there is no window in which a dying screen counts as alive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

K = TypeVar("K")

Cell = str | Text


@dataclass(frozen=True)
class Page(Generic[K]):
    """One page: (key, cells) rows and the key to continue after (None on the last page)."""

    rows: Sequence[tuple[K, Sequence[Cell]]]
    next_after: K | None
    total: int | None = None  # when cheap to know


Fetch = Callable[[Any, Any, int, str], Page[Any]]


@dataclass
class _State(Generic[K]):
    starts: list[K | None] = field(default_factory=lambda: [None])  # start key of each page seen
    next_after: K | None = None


class PagedTable(Vertical, can_focus=False):
    """DataTable of one page at a time + a filter box."""

    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    PagedTable > Input { display: none; height: 3; }
    PagedTable.-filtering > Input { display: block; }
    PagedTable > DataTable { height: 1fr; }
    PagedTable > .paged-status { height: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("pagedown,n", "next_page", "Next page", id="list.next_page", tooltip="Fetch the next page"),
        Binding(
            "pageup,p", "prev_page", "Prev page", id="list.prev_page", tooltip="Back to the previous page"
        ),
        Binding("slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
        Binding("y", "copy_row", "Copy", id="list.copy", tooltip="Copy the row to the clipboard (OSC 52)"),
    ]

    class Chosen(Message):
        """Enter on a row."""

        def __init__(self, table: PagedTable, key: Any) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> PagedTable:
            return self.table

    class Loaded(Message):
        def __init__(self, table: PagedTable, page: Page[Any], start: Any, generation: int) -> None:
            super().__init__()
            self.table = table
            self.page = page
            self.start = start
            self.generation = generation

    def __init__(
        self,
        columns: Sequence[str],
        fetch: Fetch,
        *,
        page_size: int = 50,
        filter_placeholder: str = "Type to filter…",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.fetch = fetch
        self.page_size = page_size
        self.filter_placeholder = filter_placeholder
        self.filter_text = ""
        self._state: _State[Any] = _State()
        self._generation = 0
        self._debounce: Timer | None = None
        self._keys: list[Any] = []
        self._ready = False  # on_mount has run: the DataTable and status line exist
        # Until the rows on screen answer the filter as typed, a choice waits for them: Enter
        # typed fast after a name must open a row of that name's search, not of the rows still
        # shown from before.
        self._shown_filter: str | None = None  # the filter the rows on screen answer (None: none yet)
        self._load_filter = ""  # the filter of the newest load asked for
        self._loading = False
        self._pending_choice = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.filter_placeholder, id="filter")
        table: DataTable[Cell] = DataTable(cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("loading…", classes="paged-status")

    @property
    def table(self) -> DataTable[Cell]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        self._ready = True
        self.table.add_columns(*self.columns)
        self.reload()

    def focus(self, scroll_visible: bool = True) -> PagedTable:
        self.table.focus(scroll_visible)
        return self

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        """Back to the first page with the current filter."""
        self._state = _State()
        self._load(None)

    def refresh_page(self) -> None:
        self._load(self._state.starts[-1])

    def _load(self, start: Any) -> None:
        self._generation += 1
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        if not self._ready:
            return  # on_mount loads the first page with the filter as it is then
        self._loading = True
        self._load_filter = self.filter_text
        self._fetch_worker(start, self.filter_text, self._generation)

    @property
    def rows_current(self) -> bool:
        """The rows shown answer the filter as it reads now (a page still coming for the same
        filter, a live refresh, leaves them current: they are what the person sees)."""
        return self._shown_filter == self.filter_text and self._debounce is None

    def choose(self) -> bool:
        """Choose the row under the cursor now, or once the rows for the filter as typed are in.
        False when there is nothing to choose."""
        if not self.rows_current:
            self._pending_choice = True
            if self._debounce is None and not self._loading:  # the last load failed: again
                self.refresh_page()
            return True
        key = self.current_key
        if key is None:
            return False
        self.post_message(self.Chosen(self, key))
        return True

    def _live(self) -> bool:
        """On the UI thread: is this table still on a screen of the app's stack?"""
        if not self._ready or not self.is_attached:
            return False
        try:
            return self.screen in self.app.screen_stack
        except Exception:  # no screen above it any more
            return False

    def _fetch_failed(self, exc: BaseException) -> None:
        self._loading = False
        self._pending_choice = False  # the error dialog says why; choosing again loads again
        if self._live():
            self.app.show_error(exc)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="paged-fetch", exit_on_error=False)
    def _fetch_worker(self, start: Any, filter_text: str, generation: int) -> None:
        app = self.app
        try:
            page = app.database.read(  # type: ignore[attr-defined]
                lambda s: self.fetch(s, start, self.page_size, filter_text)
            )
        except Exception as exc:  # shown to the person (if still there), never a crash
            try:
                app.call_from_thread(self._fetch_failed, exc)
            except RuntimeError:  # the app has stopped meanwhile
                pass
            return
        self.post_message(self.Loaded(self, page, start, generation))  # dropped by a removed widget

    @on(Loaded)
    def _on_loaded(self, event: Loaded) -> None:
        event.stop()
        if event.generation != self._generation or not self._live():
            return  # a newer request (typing) superseded this one, or the screen is gone
        table = self.table
        row_index = table.cursor_row
        table.clear()
        self._keys = []
        for key, cells in event.page.rows:
            self._keys.append(key)
            table.add_row(*cells)
        self._state.next_after = event.page.next_after
        if event.start is not None and event.start not in self._state.starts:
            self._state.starts.append(event.start)
        if self._keys:
            table.move_cursor(row=min(row_index, len(self._keys) - 1))
        self._shown_filter = self._load_filter
        self._loading = False
        page_no = len(self._state.starts)
        shown = len(self._keys)
        more = "more with PgDn" if event.page.next_after is not None else "end of list"
        total = f" of {event.page.total}" if event.page.total is not None else ""
        filt = f" · filter: {self.filter_text!r}" if self.filter_text else ""
        self.query_one(".paged-status", Static).update(
            Text(f"page {page_no} · {shown} rows{total} · {more}{filt}")
        )
        if self._pending_choice and self.rows_current:
            self._pending_choice = False
            if not self.choose():
                self.app.notify(f"Nothing matches {self.filter_text!r}", severity="warning")

    # ------------------------------------------------------------------ actions

    @property
    def current_key(self) -> Any:
        row = self.table.cursor_row
        if 0 <= row < len(self._keys):
            return self._keys[row]
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape only clears a filter; otherwise it goes on to the screen (close, back).
        if action == "clear_filter":
            return self.has_class("-filtering") or bool(self.filter_text)
        return True

    def action_next_page(self) -> None:
        if self._state.next_after is None:
            self.app.bell()
            return
        self._state.starts.append(self._state.next_after)
        self._load(self._state.next_after)

    def action_prev_page(self) -> None:
        if len(self._state.starts) <= 1:
            self.app.bell()
            return
        self._state.starts.pop()
        self._load(self._state.starts[-1])

    def action_filter(self) -> None:
        self.add_class("-filtering")
        box = self.query_one("#filter", Input)
        box.value = self.filter_text
        box.focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.remove_class("-filtering")
        self.filter_text = ""
        self.reload()
        self.table.focus()

    def action_copy_row(self) -> None:
        row = self.table.cursor_row
        if not self._keys:
            return
        cells = self.table.get_row_at(row)
        text = "\t".join(c.plain if isinstance(c, Text) else str(c) for c in cells)
        self.app.copy_to_clipboard(text)
        self.app.notify("Copied the row to the clipboard")

    @on(Input.Changed, "#filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value.strip()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.25, self.reload)

    @on(Input.Submitted, "#filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._debounce is not None:  # Enter: search now, not after the typing pause
            self.reload()
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        # Enter on the rows before they answer the filter as typed (an empty table included,
        # which sends no RowSelected) waits for them; on current rows the table's own Enter runs.
        if event.key == "enter" and self.table.has_focus and not self.rows_current:
            event.stop()
            event.prevent_default()
            self.choose()

    @on(DataTable.RowSelected)
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.choose()
