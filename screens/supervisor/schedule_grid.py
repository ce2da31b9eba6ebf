"""Schedule grid (supervisor): clerks × days, a week or four weeks at a time (SPEC §3.9, §4).

How a cell reads (no colour needed): a published shift in capitals (``E``), a draft in lower
case and italics (``e``), ``+`` a hand edit the builder keeps, ``!`` a broken rule (reverse),
``·`` off, ``~`` approved time off, ``#`` a holiday, ``>`` the cell marked for a swap. Under the
grid, people per day and shift type against the minimum; a shortfall is ``!`` in reverse.

Editing is by keyboard and every edit is checked at once: the service returns the touched
cells, the rule breaks of the touched clerks and the week's coverage (``EditResult``), which the
grid shows before the next key. Building runs in three steps so the solver never holds a
database transaction: read the plan, solve in a thread worker (progress line, ``escape``
cancels), write the roster.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Static

from db.errors import ConflictError, ValidationError
from db.models import RequestStatus
from db.timeutil import minutes_between, office_today
from scheduling import shifts, timeoff
from scheduling.shifts import (
    CoverageTotal,
    EditResult,
    Grid,
    GridCell,
    RuleBreak,
    ShiftTypeView,
    fmt_hm,
    week_start,
)
from scheduling.timeoff import TimeOffView
from screens.common.collections_bits import n_of
from screens.common.confirm import ConfirmDialog
from tui.base import DbScreen
from tui.dialogs import FormDialog, collect_or_mark
from tui.widgets.footer import KeyFooter
from tui.widgets.forms import ChoiceField, Field, parse_int
from tui.widgets.header import OfficeHeader

if TYPE_CHECKING:
    # The roster engine loads OR-Tools (seconds on a busy machine): import it in worker threads only.
    from scheduling import rostering

WEEKDAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Key = tuple[str, dt.date]  # (login, day)

LEGEND = (
    "Cells: E published, e draft, + hand edit (builds keep it), ! rule broken, "
    "· off, ~ time off, # holiday, > marked for a swap."
)


def day_label(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b}"


def long_day(d: dt.date) -> str:
    return f"{WEEKDAY[d.weekday()]} {d.day} {d:%b} {d.year}"


def plain_date(d: dt.date) -> dt.date:
    """pendulum dates are dates, but keys and arithmetic are kept in plain ``datetime.date``."""
    return dt.date(d.year, d.month, d.day)


# --------------------------------------------------------------------------- what the grid shows


@dataclass
class GridModel:
    """The grid as last loaded, kept up to date by each edit's result."""

    grid: Grid
    cells: dict[Key, GridCell]
    breaks: list[RuleBreak]
    coverage: dict[tuple[dt.date, str], CoverageTotal]
    week_penalty: dict[dt.date, int]
    time_off: dict[Key, str]
    unmet: list[str] = field(default_factory=list)

    @property
    def logins(self) -> list[str]:
        return [r.login for r in self.grid.rows]

    @property
    def types(self) -> dict[str, ShiftTypeView]:
        return {t.code: t for t in self.grid.shift_types}

    @property
    def active_codes(self) -> list[str]:
        return [t.code for t in self.grid.shift_types if t.active]

    def name(self, login: str) -> str:
        return next((r.name for r in self.grid.rows if r.login == login), login)

    def row_minutes(self, login: str) -> int:
        total = 0
        types = self.types
        for d in self.grid.days:
            c = self.cells.get((login, d))
            if c is None or c.code is None or c.starts_at is None or c.ends_at is None:
                continue
            unpaid = types[c.code].unpaid_break_minutes if c.code in types else 0
            total += max(minutes_between(c.starts_at, c.ends_at) - unpaid, 0)
        return total

    def breaks_on(self, login: str, day: dt.date) -> list[RuleBreak]:
        return [b for b in self.breaks if b.login == login and b.day == day]

    def weekly_breaks(self, login: str, week: dt.date | None = None) -> list[RuleBreak]:
        return [
            b for b in self.breaks if b.login == login and b.day is None and (week is None or b.week == week)
        ]

    def drafts(self) -> int:
        return sum(1 for c in self.cells.values() if c.code is not None and not c.published)

    def shifts(self) -> int:
        return sum(1 for c in self.cells.values() if c.code is not None)

    def apply(self, res: EditResult) -> None:
        """Fold an edit's result in: its cells, the touched clerks' breaks, the weeks' coverage."""
        for c in res.cells:
            self.cells[(c.login, plain_date(c.day))] = c
        weeks = {week_start(c.day) for c in res.coverage} | {week_start(c.day) for c in res.cells}
        logins = {c.login for c in res.cells}
        kept = [b for b in self.breaks if not (b.login in logins and b.week in weeks)]
        new = [b for b in res.violations if b.day is None or self.grid.start <= b.day <= self.grid.end]
        self.breaks = kept + new
        for ct in res.coverage:
            if self.grid.start <= ct.day <= self.grid.end:
                self.coverage[(plain_date(ct.day), ct.shift_code)] = ct
        if len(weeks) == 1:
            self.week_penalty[next(iter(weeks))] = res.penalty


def load_model(actor: Any, s: Any, start: dt.date, end: dt.date) -> GridModel:
    """One read: the grid, its evaluation and the approved time off of the range."""
    from scheduling import rostering

    grid = shifts.schedule_grid(actor, s, start, end)
    ev = rostering.evaluate_grid(actor, s, start, end)
    off: list[TimeOffView] = timeoff.list_time_off(
        actor, s, status=RequestStatus.APPROVED, start=start, end=end
    )
    cells = {(c.login, plain_date(c.day)): c for r in grid.rows for c in r.cells}
    penalty: dict[dt.date, int] = {}
    for it in ev.items:
        ws = week_start(it.day)
        penalty[ws] = penalty.get(ws, 0) + it.amount
    ws = start
    while ws <= end:
        penalty.setdefault(ws, 0)
        ws += dt.timedelta(days=7)
    time_off: dict[Key, str] = {}
    for r in off:
        d = max(r.start_date, start)
        while d <= min(r.end_date, end):
            time_off[(r.login, d)] = r.reason
            d += dt.timedelta(days=1)
    return GridModel(
        grid,
        cells,
        list(ev.violations),
        {(plain_date(c.day), c.shift_code): c for c in ev.coverage},
        penalty,
        time_off,
        [it.message for it in ev.items],
    )


# --------------------------------------------------------------------------- the tables


class GridTable(DataTable[Text]):
    """The clerks × days table. A letter that is not a command key types a shift code."""

    def on_key(self, event: events.Key) -> None:
        screen = self.screen
        if isinstance(screen, ScheduleGridScreen) and screen.typed(event):
            event.stop()
            event.prevent_default()


class CoverageTable(DataTable[Text]):
    """People per day and shift type, aligned under the grid's columns."""


# --------------------------------------------------------------------------- dialogs


class CodePicker(ModalScreen[str | None]):
    """Enter on a cell: pick a shift type (or off) from the list."""

    BINDINGS = [
        Binding("escape", "close", "Cancel", id="code_picker.cancel", tooltip="Leave the cell as it is")
    ]

    def __init__(self, what: str, types: list[ShiftTypeView]) -> None:
        super().__init__()
        self.what = what
        self.types = types

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(classes="dialog"):
            yield Static(Text(self.what, style="bold"), classes="dialog-title")
            yield OptionList(
                *[Option(Text(t.label), id=t.code) for t in self.types],
                Option(Text("Off (no shift)"), id="-off-"),
                id="codes",
            )

    def on_mount(self) -> None:
        from textual.widgets import OptionList

        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: Any) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class BuildChoice:
    keep_edits: bool
    time_limit: int


class BuildDialog(FormDialog[BuildChoice]):
    """What to build: the whole period, or only the empty cells (every existing cell kept)."""

    FORM_ID = "build_dialog"
    SAVE_LABEL = "Build"
    WIDE = False
    BINDINGS = [
        Binding("ctrl+s", "save", "Build", id="build_dialog.build", tooltip="Start the roster builder"),
        Binding("escape", "cancel", "Cancel", id="build_dialog.cancel", tooltip="Do not build"),
    ]

    def __init__(self, start: dt.date, end: dt.date, fixed: int, drafts: int) -> None:
        super().__init__()
        self.start, self.end, self.fixed, self.drafts = start, end, fixed, drafts

    def heading(self) -> str:
        return f"Build the roster for {long_day(self.start)} – {long_day(self.end)}"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                f"Published shifts and hand edits ({self.fixed} cell{'s' if self.fixed != 1 else ''} "
                "marked + or published) are "
                f"always kept. 'Whole period' may replace the {self.drafts} other draft shifts; "
                "'Only empty cells' keeps every cell that holds a shift and fills the rest."
            )
        )

    def fields(self) -> ComposeResult:
        yield ChoiceField(
            "mode",
            "Fill",
            [("Whole period", "all"), ("Only empty cells (keep edits)", "empty")],
            value="all",
            required=True,
        )
        yield Field(
            "seconds",
            "Time limit (seconds)",
            value="10",
            parse=lambda t: parse_int(t, 1, 600),
            required=True,
            max_length=4,
        )

    def action_save(self) -> None:
        # Nothing to write: the choice goes back to the grid, which runs the builder.
        values = collect_or_mark(self.form, self.problem)
        if values is not None:
            self.dismiss(BuildChoice(values["mode"] == "empty", values["seconds"]))


@dataclass(frozen=True)
class SolveDone:
    outcome: rostering.BuildOutcome | None
    cancelled: bool
    error: BaseException | None = None


class BuildProgressDialog(ModalScreen[SolveDone]):
    """Runs the solver in a thread worker (no database) and shows its progress; escape stops it."""

    BINDINGS = [
        Binding(
            "escape",
            "stop",
            "Stop",
            id="build_progress.stop",
            tooltip="Stop the builder (keep or discard next)",
        )
    ]

    def __init__(self, plan: rostering.BuildPlan, time_limit: int, workers: int = 2) -> None:
        super().__init__()
        self.plan = plan
        self.time_limit = time_limit
        self.solver_workers = workers
        self.cancel = threading.Event()
        self.started = time.monotonic()
        # Written by the solver's threads, read by the UI timer: a plain attribute swap.
        self.latest = "finding a first roster…"

    def compose(self) -> ComposeResult:
        keep = "only the empty cells" if self.plan.keep_edits else "the whole period"
        with Vertical(classes="dialog"):
            yield Static(
                Text(f"Building {long_day(self.plan.start)} – {long_day(self.plan.end)}", style="bold"),
                classes="dialog-title",
            )
            yield Static(Text(f"Filling {keep}; hand edits and published shifts stay."))
            yield Static("", id="progress-line")
            yield Static("", id="progress-time")
            yield Static(Text("esc stops and asks whether to keep the best roster so far", style="dim"))

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(0.25, self.tick)
        self.run_worker(self.solve, thread=True, exit_on_error=False, group="solve")

    def on_unmount(self) -> None:
        self.cancel.set()  # never leave a solver running behind a closed dialog

    def progress(self, line: str) -> None:
        self.latest = line

    def solve(self) -> None:
        from scheduling import rostering

        try:
            outcome = rostering.solve_plan(
                self.plan,
                time_limit=self.time_limit,
                workers=self.solver_workers,
                seed=0,
                progress=self.progress,
                cancel=self.cancel,
            )
        except Exception as exc:  # shown by the grid screen, never a crash
            self.app.call_from_thread(self.finish, SolveDone(None, self.cancel.is_set(), exc))
            return
        self.app.call_from_thread(self.finish, SolveDone(outcome, self.cancel.is_set()))

    def finish(self, done: SolveDone) -> None:
        if self.is_attached:
            self.dismiss(done)

    def tick(self) -> None:
        elapsed = time.monotonic() - self.started
        left = max(self.time_limit - elapsed, 0)
        self.query_one("#progress-line", Static).update(Text(f"Best so far: {self.latest}"))
        if self.cancel.is_set():
            when = "stopping…"
        elif left > 0:
            when = f"{left:.0f} s left of {self.time_limit} s"
        else:
            when = "time is up; finishing…"
        self.query_one("#progress-time", Static).update(Text(f"{elapsed:.1f} s · {when}"))

    def action_stop(self) -> None:
        self.cancel.set()
        self.tick()


class KeepDiscardDialog(ModalScreen[bool]):
    """After a stopped build: keep the best roster found so far, or discard it."""

    BINDINGS = [
        Binding("k", "keep", "Keep", id="keep_discard.keep", tooltip="Save the best roster found as drafts"),
        Binding("d,escape", "discard", "Discard", id="keep_discard.discard", tooltip="Change nothing"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Build stopped", style="bold"), classes="dialog-title")
            yield Static(Text(self.text))
            with Horizontal(classes="buttons"):
                yield Button("Discard (d)", id="discard", compact=True)
                yield Button("Keep (k)", variant="primary", id="keep", compact=True)

    def on_mount(self) -> None:
        self.query_one("#discard", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "keep")

    def action_keep(self) -> None:
        self.dismiss(True)

    def action_discard(self) -> None:
        self.dismiss(False)


def result_text(r: rostering.BuildResult) -> Text:
    """The build's result in words: status, penalty, what could not be satisfied and why."""
    out = Text()
    penalty = "—" if r.penalty is None else str(r.penalty)
    out.append(f"Status: {r.status.value} · penalty {penalty}\n", style="bold")
    out.append(
        f"{n_of(r.created, 'shift')} created, {r.changed} changed, {r.removed} removed; "
        f"{r.kept} fixed cell{'s' if r.kept != 1 else ''} kept as {'they were' if r.kept != 1 else 'it was'}.\n"
    )
    for w in r.weeks:
        bound = "—" if w.lower_bound is None else str(w.lower_bound)
        pen = "—" if w.penalty is None else str(w.penalty)
        out.append(
            f"\nWeek {day_label(w.start)} – {day_label(w.end)}: {w.status.value}, penalty {pen} "
            f"(best possible ≥ {bound}), {w.seconds:.1f} s\n",
            style="bold",
        )
        if w.conflicts:
            out.append("No roster: these rules cannot all hold (this week was left as it was):\n")
            for m in w.conflicts:
                out.append(f"  ✗ {m}\n")
        if w.unmet:
            out.append("Could not satisfy:\n")
            for m in w.unmet:
                out.append(f"  • {m}\n")
        elif w.penalty is not None:
            out.append("Every coverage target and request is met.\n")
    if r.status.value == "feasible":
        out.append(
            "\nA good roster, not proven the best: more time (or a rebuild) may lower the penalty.\n",
            style="italic",
        )
    return out


class BuildResultDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="build_result.close", tooltip="Back to the grid"),
    ]

    def __init__(self, result: rostering.BuildResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide", id="build-result"):
            yield Static(
                Text(f"Roster for {long_day(self.result.start)} – {long_day(self.result.end)}", style="bold"),
                classes="dialog-title",
            )
            with VerticalScroll(id="build-result-body"):
                yield Static(result_text(self.result), id="build-result-text")
            yield Static(Text("Shortfalls show as ! under the grid. Esc or Enter closes.", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#build-result-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- the screen


class ScheduleGridScreen(DbScreen):
    HELP_TITLE = "Schedule grid"
    HELP = (
        "Clerks × days. Arrows move. Type a shift code to set the cell (codes are case-insensitive; "
        "when a letter is also a command key, type the other case, e.g. M for Mid if m marks). "
        "Enter picks from a list. o or Delete makes the day off. Tab moves to the coverage rows. Every edit is checked at once: "
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
        grid = self.query_one("#grid", GridTable)
        cov = self.query_one("#coverage", CoverageTable)
        grid.clear(columns=True)
        cov.clear(columns=True)
        four = self.weeks > 1
        longest = max((len(t.code) for t in m.grid.shift_types), default=1)
        name_w = min(max((len(r.name) for r in m.grid.rows), default=5), 16) + 1
        cov_cells = {k: self.coverage_text(k[0], k[1]) for k in m.coverage}
        day_w = max(
            (4 if four else 6),
            longest + 3,
            max((len(t.plain) for t in cov_cells.values()), default=0),
        )
        hours_w = 8 if four else 7
        self.widths = [name_w, *([day_w] * len(m.grid.days)), hours_w]
        grid.add_column(Text("Clerk\n"), width=name_w, key="name")
        cov.add_column(Text(""), width=name_w, key="name")
        for d in m.grid.days:
            hol = "#" if d in m.grid.holidays else ""
            if four:
                label = Text(
                    f" {WEEKDAY[d.weekday()][:2]}{hol}\n {d.day}", style="bold" if d.weekday() == 0 else ""
                )
            else:
                label = Text(f" {WEEKDAY[d.weekday()]}{hol}\n {d.month}/{d.day}")
            grid.add_column(label, width=day_w, key=d.isoformat())
            cov.add_column(Text(""), width=day_w, key=d.isoformat())
        grid.add_column(Text(" Hours\n"), width=hours_w, key="hours")
        cov.add_column(Text(""), width=hours_w, key="hours")
        for r in m.grid.rows:
            grid.add_row(
                Text(r.name[: name_w - 1]),
                *(self.cell_text(r.login, d) for d in m.grid.days),
                self.hours_text(r.login),
                key=r.login,
            )
        codes = sorted({code for (_, code) in m.coverage}, key=lambda c: self._type_order(c))
        for code in codes:
            t = m.types.get(code)
            row_label = f"{code} {t.name}" if t else code
            cov.add_row(
                Text(row_label[: name_w - 1], style="bold"),
                *(self.coverage_text(d, code) for d in m.grid.days),
                Text(""),
                key=code,
            )

    def _type_order(self, code: str) -> tuple[dt.time, str]:
        assert self.model is not None
        t = self.model.types.get(code)
        return (t.start_time if t else dt.time(0), code)

    # ------------------------------------------------------------------ rendering cells

    def cell_text(self, login: str, day: dt.date) -> Text:
        m = self.model
        assert m is not None
        c = m.cells.get((login, day))
        broken = bool(m.breaks_on(login, day))
        lead = ">" if self.mark == (login, day) else " "
        if c is None or c.code is None:
            if day in m.grid.holidays:
                body, style = "#", "dim"
            elif (login, day) in m.time_off:
                body, style = "~", "dim"
            else:
                body, style = "·", "dim"
        else:
            body = c.code if c.published else c.code.lower()
            style = "bold" if c.published else "italic"
            if c.fixed:
                body += "+"
        if broken:
            body += "!"
            style = "bold reverse"
        if lead == ">":
            style += " underline"
        return Text(lead + body, style=style)

    def hours_text(self, login: str) -> Text:
        m = self.model
        assert m is not None
        weekly = m.weekly_breaks(login)
        text = " " + fmt_hm(m.row_minutes(login))
        return Text(text + ("!" if weekly else ""), style="bold reverse" if weekly else "")

    def coverage_text(self, day: dt.date, code: str) -> Text:
        m = self.model
        assert m is not None
        ct = m.coverage.get((day, code))
        if ct is None:
            return Text("")
        if ct.required == 0 and ct.scheduled == 0:
            return Text(" ·", style="dim")
        short = ct.short > 0
        body = f" {ct.scheduled}" if self.weeks > 1 else f" {ct.scheduled}/{ct.required}"
        return Text(body + ("!" if short else ""), style="bold reverse" if short else "")

    def refresh_cells(self) -> None:
        """Re-render every cell from the model (after an edit), keeping the cursor and widths."""
        m = self.model
        if m is None:
            return
        grid = self.query_one("#grid", GridTable)
        cov = self.query_one("#coverage", CoverageTable)
        for r, row in enumerate(m.grid.rows):
            for k, d in enumerate(m.grid.days, start=1):
                grid.update_cell_at(Coordinate(r, k), self.cell_text(row.login, d))
            grid.update_cell_at(Coordinate(r, len(m.grid.days) + 1), self.hours_text(row.login))
        for r, key in enumerate(cov.rows):
            code = str(key.value)
            for k, d in enumerate(m.grid.days, start=1):
                cov.update_cell_at(Coordinate(r, k), self.coverage_text(d, code))
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
        """The cell under the cursor: what it holds, then its rule breaks (first, so they show
        at 80×24), then time off, holiday, the day's coverage and who the clerk is."""
        m = self.model
        assert m is not None
        login = self.cursor_login()
        if login is None:
            return Text("No clerks in this period.")
        row = next(r for r in m.grid.rows if r.login == login)
        out = Text()
        out.append(row.name, style="bold")
        key = self.cursor_key()
        if key is None:
            out.append(f" · {fmt_hm(m.row_minutes(login))} paid in the period shown\n")
            for b in m.weekly_breaks(login):
                out.append(f" ! week of {day_label(b.week)}: {b.message}\n", style="bold")
            out.append(f"{row.login}" + (f" · team {row.team}" if row.team else ""))
            return out
        _, day = key
        c = m.cells.get(key)
        out.append(f" · {long_day(day)}: ", style="bold")
        if c is None or c.code is None:
            out.append("off")
        else:
            t = m.types.get(c.code)
            out.append(t.label if t else c.code)
            out.append(" · " + ("published" if c.published else "draft"))
            if c.fixed:
                out.append(" · hand edit (builds keep it)")
        out.append("\n")
        here = m.breaks_on(login, day)
        weekly = m.weekly_breaks(login, week_start(day))
        for b in here:
            out.append(f" ! {b.message}\n", style="bold")
        for b in weekly:
            out.append(f" ! (week) {b.message}\n", style="bold")
        if not here and not weekly:
            out.append("No rule broken.\n")
        if key in m.time_off:
            out.append("Approved time off that day")
            out.append(f": {m.time_off[key]}" if m.time_off[key] else "")
            out.append(".\n")
        if day in m.grid.holidays:
            out.append(f"Holiday: {m.grid.holidays[day]}.\n")
        out.append(self.day_coverage_line(day))
        out.append(f"\n{row.login}" + (f" · team {row.team}" if row.team else ""))
        if self.mark is not None:
            out.append(
                f"\nMarked for swap: {m.name(self.mark[0])}, {day_label(self.mark[1])} "
                "(x on another clerk's cell that day swaps them)."
            )
        return out

    def day_coverage_line(self, day: dt.date) -> Text:
        m = self.model
        assert m is not None
        parts = Text("Coverage: ")
        first = True
        for (d, code), ct in sorted(m.coverage.items(), key=lambda kv: self._type_order(kv[0][1])):
            if d != day or (ct.required == 0 and ct.scheduled == 0):
                continue
            if not first:
                parts.append(" · ")
            first = False
            if ct.short:
                parts.append(f"{code} {ct.scheduled}/{ct.required} ({ct.short} short)", style="bold reverse")
            else:
                parts.append(f"{code} {ct.scheduled}/{ct.required}")
        if first:
            parts.append("none wanted")
        return parts

    def coverage_detail(self) -> Text:
        m = self.model
        assert m is not None
        cov = self.query_one("#coverage", CoverageTable)
        if not cov.row_count:
            return Text("No coverage wanted in this period.")
        row, col = cov.cursor_coordinate
        code = str(list(cov.rows)[row].value)
        t = m.types.get(code)
        if not (1 <= col <= len(m.grid.days)):
            return Text(f"{t.label if t else code}: people per day under the grid; ! = below the minimum.")
        day = m.grid.days[col - 1]
        ct = m.coverage.get((day, code))
        out = Text()
        out.append(f"{long_day(day)} · {t.label if t else code}\n", style="bold")
        if ct is None:
            return out
        pref = f", prefers {ct.preferred}" if ct.preferred is not None else ""
        out.append(f"{ct.scheduled} scheduled ({ct.published} published); needs {ct.required}{pref}.\n")
        if ct.short:
            out.append(f"{ct.short} short of the minimum.\n", style="bold reverse")
        elif ct.short_of_preferred:
            out.append(f"{ct.short_of_preferred} short of the preferred number.\n")
        elif ct.over:
            out.append(f"{ct.over} more than wanted.\n")
        on = [m.name(lg) for lg in m.logins if (c := m.cells.get((lg, day))) is not None and c.code == code]
        off = []
        for lg in m.logins:
            c = m.cells.get((lg, day))
            if c is not None and c.code is not None:
                continue
            why = " (time off)" if (lg, day) in m.time_off else ""
            off.append(m.name(lg) + why)
        if on:
            out.append("On: " + ", ".join(on) + "\n")
        if off:
            out.append("Not working that day: " + ", ".join(off) + "\n")
        if day in m.grid.holidays:
            out.append(f"Holiday: {m.grid.holidays[day]} (no coverage wanted).\n")
        return out

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

        self.app.push_screen(BuildDialog(start, end, fixed, drafts), chosen)

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
        weeks = len(_week_starts(outcome.plan.start, outcome.plan.end))
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

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self.db_call(
                lambda s: shifts.publish(self.actor, s, start, end),
                lambda r: (
                    self.notify(f"Published {n_of(r.published, 'shift')}; clerks see them now."),
                    self.note(
                        f"Published {n_of(r.published, 'shift')} of {day_label(start)} – {day_label(end)}."
                    ),
                    self.reload(),
                ),
                write=True,
            )

        self.app.push_screen(ConfirmDialog("Publish the schedule?", what, "Publish"), confirmed)


def _week_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    ws = week_start(start)
    while ws <= end:
        out.append(ws)
        ws += dt.timedelta(days=7)
    return out
