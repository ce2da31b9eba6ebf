"""Schedule grid (supervisor): clerks × days, a week or four weeks at a time (docs/schedule.md).

How a cell reads (no colour needed): a published shift in capitals (``E``), a draft in lower
case and italics (``e``), ``+`` a hand edit the builder keeps, ``!`` a broken rule (reverse),
``·`` off, ``·+`` a pinned day off, ``~`` approved time off, ``#`` a holiday, ``>`` the cell
marked for a swap (tui/widgets/schedule_table.py renders them). Under the grid, people per day
and shift type against the minimum; a shortfall is ``!`` in reverse.

Editing is by keyboard and every edit is checked at once: the service returns the touched
cells, the rule breaks of the touched clerks and the week's coverage (``EditResult``), which the
grid shows before the next key. Building runs in three steps so the solver never holds a
database transaction: read the plan, solve in a thread worker (progress line, ``escape``
cancels), write the roster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from db.errors import ConflictError, ValidationError
from db.timeutil import office_today
from scheduling import shifts
from scheduling.grid_view import GridModel, Key, day_label, load_model, long_day, plain_date, week_starts
from scheduling.shifts import EditResult, week_start
from screens.common.collections_bits import n_of
from screens.supervisor.schedule_grid_dialogs import (
    BuildChoice,
    BuildDialog,
    BuildProgressDialog,
    BuildResultDialog,
    CodePicker,
    KeepDiscardDialog,
    SolveDone,
)
from tui.widgets.base import DbScreen
from tui.widgets.confirm import ConfirmDialog
from tui.widgets.footer import KeyFooter
from tui.widgets.header import OfficeHeader
from tui.widgets.schedule_table import (
    LEGEND,
    CoverageTable,
    GridTable,
    cell_detail,
    column_widths,
    coverage_detail,
)

if TYPE_CHECKING:
    # The roster engine loads OR-Tools (seconds on a busy machine): import it in worker threads only.
    from scheduling import rostering

__all__ = [
    "BuildDialog",
    "BuildProgressDialog",
    "BuildResultDialog",
    "KeepDiscardDialog",
    "ScheduleGridScreen",
]


class ScheduleGridScreen(DbScreen):
    HELP_TITLE = "Schedule grid"
    HELP = (
        "Clerks × days. Arrows move. Type a shift code to set the cell (codes are case-insensitive; "
        "when a letter is also a command key, type the other case, e.g. M for Mid if m marks). "
        "Enter picks from a list. o or Delete makes the day off; O pins the day off (the builder "
        "leaves it empty; O again unpins it). Tab moves to the coverage rows. Every edit is checked at once: "
        "! marks a broken rule, and the panel explains the cell under the cursor. "
        + LEGEND
        + " Under the grid: people on each shift per day, ! = below the minimum."
    )
    DEFAULT_CSS = """
    ScheduleGridScreen #sched-title { height: 1; padding: 0 1; }
    ScheduleGridScreen #sched-body { height: 1fr; }
    ScheduleGridScreen #grid-area { width: auto; height: 1fr; }
    ScheduleGridScreen #grid { height: 1fr; width: auto; }
    ScheduleGridScreen #coverage { height: auto; width: auto; overflow-x: hidden; }
    ScheduleGridScreen #grid { scrollbar-gutter: stable; }
    ScheduleGridScreen #coverage { margin-right: 2; }
    ScheduleGridScreen #sched-status { height: 1; padding: 0 1; }
    ScheduleGridScreen #detail { padding: 0 1; }
    ScheduleGridScreen.-side #sched-body { layout: horizontal; }
    ScheduleGridScreen.-side #detail { width: 1fr; height: 1fr; border-left: solid $primary 40%; }
    ScheduleGridScreen.-below #sched-body { layout: vertical; }
    ScheduleGridScreen.-below #grid-area { width: 1fr; height: auto; }
    ScheduleGridScreen.-below #grid, ScheduleGridScreen.-below #coverage { width: 1fr; }
    ScheduleGridScreen.-below #detail { width: 1fr; height: 1fr; min-height: 3; background: $boost; }
    """
    BINDINGS = [
        Binding("o", "off", "Off", id="schedule.off", tooltip="Make the cell a day off (removes the shift)"),
        Binding(
            "delete,backspace", "clear", "Clear", id="schedule.clear", tooltip="Clear the cell (no shift)"
        ),
        Binding(
            "m", "mark", "Mark", id="schedule.mark", tooltip="Mark this cell to swap it with another clerk's"
        ),
        Binding(
            "x", "swap", "Swap", id="schedule.swap", tooltip="Swap the marked cell with this one (same day)"
        ),
        Binding(
            "c",
            "copy_week",
            "Copy week",
            id="schedule.copy",
            tooltip="Copy the previous week into this week's empty cells",
        ),
        Binding(
            "b", "build", "Build", id="schedule.build", tooltip="Run the roster builder for the period shown"
        ),
        Binding(
            "P",
            "publish",
            "Publish",
            id="schedule.publish",
            tooltip="Make the period's drafts visible to clerks",
        ),
        # After Publish: at 80 columns the footer keeps Publish and drops this one (help lists it).
        Binding(
            "O",
            "pin_off",
            "Pin off",
            id="schedule.pin_off",
            tooltip="Pin the day off (builds leave it empty); again to unpin",
        ),
        Binding(
            "left_square_bracket",
            "prev",
            "Prev",
            id="schedule.prev",
            tooltip="The previous week (or four weeks)",
        ),
        Binding(
            "right_square_bracket",
            "next",
            "Next",
            id="schedule.next",
            tooltip="The next week (or four weeks)",
        ),
        Binding("v", "toggle_view", "Week/4 wk", id="schedule.view", tooltip="Show one week or four weeks"),
        Binding("t", "this_week", "This week", show=False, id="schedule.today", tooltip="Back to this week"),
        Binding(
            "escape", "back", "Back", id="schedule.back", tooltip="Cancel typing or the mark, else go back"
        ),
    ]

    def __init__(self, start: dt.date | None = None, weeks: int = 1) -> None:
        super().__init__()
        self.start = start
        self.weeks = weeks
        self.model: GridModel | None = None
        self.buffer = ""
        self.mark: Key | None = None
        self.edits: list[Callable[[], None]] = []
        self.editing = False
        self.generation = 0
        self.widths: list[int] = []
        self.last_note: Text = Text("")

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield OfficeHeader(self.actor.name, self.actor.role.value, self.cd_app.tz)
        yield Static("Loading the schedule…", id="sched-title")
        with Horizontal(id="sched-body"):
            with Vertical(id="grid-area"):
                grid = GridTable(
                    id="grid", cursor_type="cell", header_height=2, cell_padding=0, fixed_columns=1
                )
                grid.tooltip = "Type a shift code, o for off, Enter for a list; the panel explains the cell"
                yield grid
                cov = CoverageTable(
                    id="coverage", cursor_type="cell", show_header=False, cell_padding=0, fixed_columns=1
                )
                cov.tooltip = "People on each shift per day against the minimum (! = short)"
                yield cov
            detail = VerticalScroll(Static("", id="detail-text"), id="detail")
            detail.tooltip = "The cell under the cursor explained (Tab here to scroll it)"
            yield detail
        yield Static("", id="sched-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.start is None:
            self.start = week_start(plain_date(office_today(self.cd_app.tz)))
        grid = self.query_one("#grid", GridTable)
        grid.on_type = self.typed
        self.watch(grid, "scroll_x", self._scrolled, init=False)
        self.add_class("-below")
        grid.focus()
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_layout()

    def _scrolled(self, x: float) -> None:
        """Keep horizontal scrolling on day-column boundaries (no half column under the names)
        and the coverage rows under the same days."""
        grid = self.query_one("#grid", GridTable)
        step = self.widths[1] if len(self.widths) > 2 else 0
        col = grid.cursor_coordinate.column
        on_hours = col == len(self.widths) - 1  # the last column: show it whole, even off the grid
        if step and int(x) % step and not on_hours:
            up = (int(x) // step + 1) * step
            down = (int(x) // step) * step
            cursor_start = (col - 1) * step  # where the cursor's day column starts, past the names
            grid.scroll_x = up if up <= grid.max_scroll_x and cursor_start >= up else down
            return
        self.query_one("#coverage", CoverageTable).scroll_x = x

    @property
    def end(self) -> dt.date:
        assert self.start is not None
        return self.start + dt.timedelta(days=7 * self.weeks - 1)

    def fit_layout(self) -> None:
        """Side panel when the grid leaves room for one; else under the grid, sized to fit."""
        if not self.widths or self.model is None:
            return
        grid_w = sum(self.widths) + 2
        width, height = self.size.width, self.size.height
        side = width - grid_w >= 34
        self.set_class(side, "-side")
        self.set_class(not side, "-below")
        n_types = len(self.query_one("#coverage", CoverageTable).rows)
        hscroll = 1 if grid_w > width else 0
        want = 2 + len(self.model.grid.rows) + hscroll
        fixed = 1 + 1 + 1 + 1 + n_types  # header, title, status, footer, coverage rows
        room = height - fixed - (0 if side else 3)
        self.query_one("#grid", GridTable).styles.height = max(min(want, room), 4)
        self.query_one("#grid-area").styles.width = "auto" if side else "1fr"

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        start, end = self.start, self.end
        assert start is not None
        self.generation += 1
        gen = self.generation
        self.db_call(
            lambda s: load_model(self.actor, s, start, end), lambda m: self.loaded(m, gen), group="grid"
        )

    def loaded(self, model: GridModel, gen: int) -> None:
        if gen != self.generation:
            return  # an older load finished after a newer one started
        keep: Coordinate | None = None
        grid = self.query_one("#grid", GridTable)
        if self.model is not None and self.model.grid.days == model.grid.days and grid.row_count:
            keep = grid.cursor_coordinate
        self.model = model
        if self.mark is not None and self.mark not in model.cells:
            self.mark = None
        self.build_tables()
        if keep is not None:
            grid.move_cursor(row=keep.row, column=keep.column, animate=False)
        elif grid.row_count:
            grid.move_cursor(row=0, column=1, animate=False)
        self.fit_layout()
        self.show_title()
        self.show_detail()

    def build_tables(self) -> None:
        m = self.model
        assert m is not None
        four = self.weeks > 1
        self.widths = column_widths(m, four)
        self.query_one("#grid", GridTable).show(m, self.widths, four, self.mark)
        self.query_one("#coverage", CoverageTable).show(m, self.widths, four)

    def refresh_cells(self) -> None:
        """Re-render every cell from the model (after an edit), keeping the cursor and widths."""
        m = self.model
        if m is None:
            return
        self.query_one("#grid", GridTable).refresh_cells(m, self.mark)
        self.query_one("#coverage", CoverageTable).refresh_cells(m, self.weeks > 1)
        self.show_title()
        self.show_detail()

    def show_title(self) -> None:
        m = self.model
        if m is None:
            return
        span = "week" if self.weeks == 1 else f"{self.weeks} weeks"
        breaks = len(m.breaks)
        penalty = sum(p for w, p in m.week_penalty.items() if m.grid.start <= w <= m.grid.end)
        drafts = m.drafts()
        title = Text.assemble(
            (f"{day_label(m.grid.start)} – {day_label(m.grid.end)} {m.grid.end.year}", "bold"),
            f" ({span}) · {drafts} draft{'s' if drafts != 1 else ''} · ",
            (f"{breaks} break{'s' if breaks != 1 else ''}", "bold reverse" if breaks else ""),
            f" · penalty {penalty}",
        )
        self.query_one("#sched-title", Static).update(title)

    def note(self, text: Text | str) -> None:
        self.last_note = text if isinstance(text, Text) else Text(text)
        self.query_one("#sched-status", Static).update(self.last_note)

    # ------------------------------------------------------------------ the cell under the cursor

    def cursor_key(self) -> Key | None:
        """(login, day) of the grid cell under the cursor; None on the name or hours column."""
        m = self.model
        grid = self.query_one("#grid", GridTable)
        if m is None or not grid.row_count:
            return None
        row, col = grid.cursor_coordinate
        if not (0 <= row < len(m.grid.rows)) or not (1 <= col <= len(m.grid.days)):
            return None
        return (m.grid.rows[row].login, m.grid.days[col - 1])

    def cursor_login(self) -> str | None:
        m = self.model
        grid = self.query_one("#grid", GridTable)
        if m is None or not grid.row_count:
            return None
        row = grid.cursor_coordinate.row
        return m.grid.rows[row].login if 0 <= row < len(m.grid.rows) else None

    @on(DataTable.CellHighlighted)
    def _moved(self, event: DataTable.CellHighlighted) -> None:
        grid = self.query_one("#grid", GridTable)
        if event.data_table is grid:
            self._scrolled(grid.scroll_x)
        elif grid.row_count and event.data_table.has_focus:
            # The coverage cursor leads the grid's column, so both stay under the same days.
            cov = event.data_table
            if grid.cursor_coordinate.column != event.coordinate.column:
                grid.move_cursor(column=event.coordinate.column, animate=False)
            self.call_after_refresh(lambda: setattr(cov, "scroll_x", grid.scroll_x))
        self.show_detail()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        cov = self.query_one("#coverage", CoverageTable)
        grid = self.query_one("#grid", GridTable)
        if event.widget is cov and cov.row_count:
            cov.move_cursor(column=grid.cursor_coordinate.column, animate=False)  # the same day
        self.show_detail()

    @on(DataTable.CellSelected, "#grid")
    def _enter(self, event: DataTable.CellSelected) -> None:
        self.action_pick()

    def show_detail(self) -> None:
        """Explain the cell under the cursor of whichever table has the focus."""
        m = self.model
        if m is None:
            return
        cov = self.query_one("#coverage", CoverageTable)
        if cov.has_focus:
            text = self.coverage_detail()
        else:
            text = self.cell_detail()
        text.append("\n\n" + LEGEND, style="dim")
        self.query_one("#detail-text", Static).update(text)

    def cell_detail(self) -> Text:
        m = self.model
        assert m is not None
        return cell_detail(m, self.cursor_login(), self.cursor_key(), self.mark)

    def coverage_detail(self) -> Text:
        m = self.model
        assert m is not None
        cov = self.query_one("#coverage", CoverageTable)
        if not cov.row_count:
            return Text("No coverage wanted in this period.")
        row, col = cov.cursor_coordinate
        code = str(list(cov.rows)[row].value)
        day = m.grid.days[col - 1] if 1 <= col <= len(m.grid.days) else None
        return coverage_detail(m, code, day)

    # ------------------------------------------------------------------ typing a code

    def typed(self, event: events.Key) -> bool:
        """Handle a key on the grid; True when it was part of typing a shift code."""
        if self.model is None:
            return False
        ch = event.character or ""
        if self.buffer:
            if event.key == "enter":
                self.commit_buffer(final=True)
                return True
            if event.key == "escape":
                self.buffer = ""
                self.note("Typing cancelled; nothing changed.")
                return True
            if event.key == "backspace":
                self.buffer = self.buffer[:-1]
                self.show_buffer()
                return True
            if len(ch) == 1 and ch.isascii() and ch.isalnum():
                self.buffer += ch.upper()
                self.commit_buffer(final=False)
                return True
            # Any other key (an arrow, a command) abandons the half-typed code first.
            self.buffer = ""
            self.note("Typing cancelled; nothing changed.")
            return False
        if len(ch) == 1 and ch.isascii() and ch.isalpha() and event.key not in self.active_bindings:
            self.buffer = ch.upper()
            self.commit_buffer(final=False)
            return True
        return False

    def show_buffer(self) -> None:
        if self.buffer:
            self.note(
                Text.assemble("Shift code: ", (self.buffer, "bold reverse"), "  (Enter sets it, Esc cancels)")
            )
        else:
            self.note("")

    def commit_buffer(self, *, final: bool) -> None:
        m = self.model
        assert m is not None
        codes = m.active_codes
        buf = self.buffer
        longer = [c for c in codes if c.startswith(buf) and c != buf]
        if buf in codes and (final or not longer):
            self.buffer = ""
            self.set_code(buf)
            return
        if not longer or final:
            self.buffer = ""
            known = ", ".join(f"{t.code} {t.name}" for t in m.grid.shift_types if t.active) or "none yet"
            self.note(
                Text.assemble(
                    ("No shift type ", "bold"), (repr(buf), "bold"), f"; nothing changed. Codes: {known}"
                )
            )
            self.notify(Text(f"No shift type {buf!r}. Codes: {known}").plain, severity="error", markup=False)
            return
        self.show_buffer()

    # ------------------------------------------------------------------ edits (one at a time)

    def queue_edit(self, run: Callable[[], None]) -> None:
        """Edits run one after another so each uses the version the previous one left."""
        self.edits.append(run)
        if not self.editing:
            self._next_edit()

    def _next_edit(self) -> None:
        if not self.edits:
            self.editing = False
            return
        self.editing = True
        self.edits.pop(0)()

    def _edit_call(self, fn: Callable[[Any], EditResult], describe: Callable[[EditResult], Text]) -> None:
        self.generation += 1  # a load started before this edit must not overwrite its result

        def done(res: EditResult) -> None:
            if self.model is not None:
                self.model.apply(res)
                self.refresh_cells()
                self.note(describe(res))
                if res.violations:
                    first = res.violations[0].message
                    self.notify(Text(f"Rule broken: {first}").plain, severity="warning", markup=False)
            self._next_edit()

        def failed(exc: BaseException) -> None:
            self.edits.clear()
            self.editing = False
            if isinstance(exc, ConflictError):
                self.notify(
                    Text(f"{exc} Reloading the grid.").plain,
                    title="Changed meanwhile",
                    severity="warning",
                    markup=False,
                )
                self.note(Text(f"Not saved: {exc}"))
                self.reload()
            elif isinstance(exc, ValidationError):
                self.note(Text(f"Not saved: {exc}"))
                self.cd_app.show_error(exc)
            else:
                self.cd_app.show_error(exc)

        self.db_call(fn, done, write=True, on_error=failed, group="edit", exclusive=False)

    def _describe(self, key: Key, what: str) -> Callable[[EditResult], Text]:
        def text(res: EditResult) -> Text:
            m = self.model
            assert m is not None
            mine = [b for b in res.violations if b.login == key[0]]
            out = Text(f"{m.name(key[0])}, {day_label(key[1])}: {what}. ")
            if mine:
                out.append(
                    f"{len(mine)} rule break{'s' if len(mine) > 1 else ''}: {mine[0].message}",
                    style="bold reverse",
                )
            else:
                out.append("No rule broken.")
            out.append(f" Week penalty {res.penalty}.")
            return out

        return text

    def set_code(self, code: str | None) -> None:
        key = self.cursor_key()
        if key is None:
            self.note("Move to a day cell first (arrow keys).")
            return
        login, day = key
        what = f"set to {code}" if code else "off"

        def run() -> None:
            m = self.model
            assert m is not None
            cell = m.cells.get(key)
            version = cell.version if cell is not None else None
            if code is None and (cell is None or cell.code is None):
                self.note(Text(f"{m.name(login)}, {day_label(day)} is already off."))
                self._next_edit()
                return
            self._edit_call(
                lambda s: shifts.set_cell(self.actor, s, login, day, code, expected_version=version),
                self._describe(key, what),
            )

        self.queue_edit(run)

    def action_pin_off(self) -> None:
        """Pin the day off under the cursor, or unpin it (the cell says which it is)."""
        key = self.cursor_key()
        if key is None:
            self.note("Move to a day cell first (arrow keys).")
            return
        login, day = key

        def run() -> None:
            m = self.model
            assert m is not None
            cell = m.cells.get(key)
            pin = not (cell is not None and cell.pinned)
            version = cell.version if cell is not None else None
            what = "day off pinned" if pin else "day off unpinned"
            if pin and cell is not None and cell.code is not None:
                what += f" (shift {cell.code} removed)"
            self._edit_call(
                lambda s: shifts.pin_day_off(self.actor, s, login, day, pin, expected_version=version),
                self._describe(key, what),
            )

        self.queue_edit(run)

    def action_off(self) -> None:
        self.set_code(None)

    def action_clear(self) -> None:
        self.set_code(None)

    def action_pick(self) -> None:
        key = self.cursor_key()
        m = self.model
        if key is None or m is None:
            self.note("Move to a day cell first (arrow keys).")
            return
        types = [t for t in m.grid.shift_types if t.active]

        def chosen(code: str | None) -> None:
            if code is None:
                return
            if self.cursor_key() != key:
                return
            self.set_code(None if code == "-off-" else code)

        self.app.push_screen(CodePicker(f"{m.name(key[0])}, {long_day(key[1])}", types), chosen)

    def action_mark(self) -> None:
        key = self.cursor_key()
        if key is None:
            self.note("Move to a day cell first (arrow keys).")
            return
        self.mark = None if self.mark == key else key
        self.refresh_cells()
        if self.mark:
            assert self.model is not None
            self.note(
                f"Marked {self.model.name(key[0])}, {day_label(key[1])}: x on another clerk's cell that day swaps them."
            )
        else:
            self.note("Mark removed.")

    def action_swap(self) -> None:
        key = self.cursor_key()
        m = self.model
        if key is None or m is None:
            self.note("Move to a day cell first (arrow keys).")
            return
        if self.mark is None:
            self.note("Mark a cell with m first, then press x on the other clerk's cell that day.")
            return
        a, b = self.mark, key
        if a[1] != b[1]:
            self.note(f"Swaps are within one day: move to {day_label(a[1])}, or mark again.")
            return
        if a[0] == b[0]:
            self.note("That is the marked cell: move to another clerk's row.")
            return
        self.mark = None
        what = f"swapped with {m.name(a[0])}"

        def run() -> None:
            mm = self.model
            assert mm is not None
            ca, cb = mm.cells.get(a), mm.cells.get(b)
            versions = (ca.version if ca else None, cb.version if cb else None)
            self._edit_call(
                lambda s: shifts.swap_cells(self.actor, s, a[1], a[0], b[0], expected_versions=versions),
                self._describe(b, what),
            )

        self.queue_edit(run)

    def action_copy_week(self) -> None:
        key = self.cursor_key()
        assert self.start is not None
        week = week_start(key[1]) if key else self.start

        def describe(res: EditResult) -> Text:
            out = Text(
                f"Copied {n_of(len(res.cells), 'shift')} from the week of {day_label(week - dt.timedelta(days=7))} as drafts."
            )
            if res.skipped:
                out.append(
                    f" Skipped {len(res.skipped)}: "
                    + "; ".join(res.skipped[:3])
                    + ("…" if len(res.skipped) > 3 else "")
                )
            if res.violations:
                out.append(f" {n_of(len(res.violations), 'rule break')}.", style="bold reverse")
            return out

        self.queue_edit(
            lambda: self._edit_call(lambda s: shifts.copy_previous_week(self.actor, s, week), describe)
        )

    # ------------------------------------------------------------------ period

    def _move(self, weeks: int) -> None:
        assert self.start is not None
        self.start = self.start + dt.timedelta(days=7 * weeks)
        self.mark = None
        self.buffer = ""
        self.note("")
        self.reload()

    def action_prev(self) -> None:
        self._move(-self.weeks)

    def action_next(self) -> None:
        self._move(self.weeks)

    def action_this_week(self) -> None:
        self.start = week_start(plain_date(office_today(self.cd_app.tz)))
        self._move(0)

    def action_toggle_view(self) -> None:
        self.weeks = 4 if self.weeks == 1 else 1
        self._move(0)

    def action_back(self) -> None:
        if self.mark is not None:
            self.mark = None
            self.refresh_cells()
            self.note("Mark removed.")
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    # ------------------------------------------------------------------ build

    def action_build(self) -> None:
        m = self.model
        if m is None:
            return
        start, end = m.grid.start, m.grid.end
        fixed = sum(1 for c in m.cells.values() if c.code is not None and (c.fixed or c.published))
        drafts = sum(1 for c in m.cells.values() if c.code is not None and not c.fixed and not c.published)

        def chosen(choice: BuildChoice | None) -> None:
            if choice is None:
                return
            self.note("Reading the records for the builder…")

            def plan(s: Any) -> rostering.BuildPlan:
                from scheduling import rostering

                return rostering.plan_build(self.actor, s, start, end, keep_edits=choice.keep_edits)

            self.db_call(
                plan,
                lambda plan: self.app.push_screen(BuildProgressDialog(plan, choice.time_limit), self.solved),
            )

        pinned = sum(1 for c in m.cells.values() if c.pinned)
        self.app.push_screen(BuildDialog(start, end, fixed, drafts, pinned), chosen)

    def solved(self, done: SolveDone | None) -> None:
        if done is None:
            return
        if done.error is not None:
            self.note("The build failed; nothing changed.")
            self.cd_app.show_error(done.error)
            return
        outcome = done.outcome
        assert outcome is not None
        found = [w for w in outcome.weeks if w.penalty is not None]
        if not done.cancelled:
            self.save(outcome)
            return
        if not found:
            self.note("Build stopped before any roster was found; nothing changed.")
            self.notify("Build stopped: no roster found yet, nothing changed.", severity="warning")
            return
        weeks = len(week_starts(outcome.plan.start, outcome.plan.end))
        penalty = sum(w.penalty or 0 for w in found)
        bounds = [w.lower_bound for w in found if w.lower_bound is not None]
        text = (
            f"The best roster found so far has penalty {penalty}"
            + (f" (the best possible is at least {sum(bounds)})" if bounds else "")
            + f", for {len(found)} of {weeks} week{'s' if weeks > 1 else ''}. "
            "Keep it as draft shifts (hand edits and published shifts stay), or discard it and change nothing?"
        )

        def answer(keep: bool | None) -> None:
            if keep:
                self.save(outcome)
            else:
                self.note("Build stopped; the roster was discarded and nothing changed.")

        self.app.push_screen(KeepDiscardDialog(text), answer)

    def save(self, outcome: rostering.BuildOutcome) -> None:
        def done(result: rostering.BuildResult) -> None:
            self.note(
                Text(
                    f"Built: {result.status.value}, penalty {result.penalty if result.penalty is not None else '—'}; "
                    f"{result.created} created, {result.changed} changed, {result.removed} removed."
                )
            )
            self.reload()
            self.app.push_screen(BuildResultDialog(result))

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ConflictError):
                self.notify(f"{exc}", title="Not saved", severity="warning", markup=False)
                self.note(Text(f"Not saved: {exc}"))
                self.reload()
            else:
                self.cd_app.show_error(exc)

        def write(s: Any) -> rostering.BuildResult:
            from scheduling import rostering

            return rostering.save_build(self.actor, s, outcome)

        self.db_call(write, done, write=True, on_error=failed)

    # ------------------------------------------------------------------ publish

    def action_publish(self) -> None:
        m = self.model
        if m is None:
            return
        start, end = m.grid.start, m.grid.end
        drafts, total = m.drafts(), m.shifts()
        if not drafts:
            self.notify(
                f"Nothing to publish: every shift of {day_label(start)} – {day_label(end)} is already published."
            )
            return
        what = (
            f"{drafts} draft shift{'s' if drafts != 1 else ''} of {long_day(start)} – {long_day(end)} "
            f"become visible to clerks ({total - drafts} already published stay as they are)."
        )
        if m.breaks:
            n = len(m.breaks)
            what += f" Warning: {n} rule {'break remains' if n == 1 else 'breaks remain'} (cells marked !)."
        short = sum(1 for c in m.coverage.values() if c.short)
        if short:
            what += f" {short} day/shift{'s' if short != 1 else ''} below the minimum."

        def published(r: Any) -> None:
            self.notify(f"Published {n_of(r.published, 'shift')}; clerks see them now.")
            self.note(f"Published {n_of(r.published, 'shift')} of {day_label(start)} – {day_label(end)}.")
            self.reload()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.db_call(lambda s: shifts.publish(self.actor, s, start, end), published, write=True)

        self.app.push_screen(ConfirmDialog("Publish the schedule?", what, "Publish"), confirmed)
