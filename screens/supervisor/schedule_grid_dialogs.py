"""The schedule grid's dialogs (docs/schedule.md): pick a code, what to build, the build's progress
(the solver runs in a thread worker, never inside a database transaction), keep or discard a
stopped build, and the build's result in words."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Static

from scheduling.grid_view import day_label, long_day
from scheduling.roster.status import SolveStatus
from scheduling.shifts import ShiftTypeView
from screens.common.collections_bits import n_of
from tui.widgets.dialogs import FormDialog, collect_or_mark
from tui.widgets.forms import ChoiceField, Field, parse_int

if TYPE_CHECKING:
    # The roster engine loads OR-Tools (seconds on a busy machine): import it in worker threads only.
    from scheduling import rostering


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

    def __init__(self, start: dt.date, end: dt.date, fixed: int, drafts: int, pinned: int = 0) -> None:
        super().__init__()
        self.start, self.end, self.fixed, self.drafts = start, end, fixed, drafts
        self.pinned = pinned

    def heading(self) -> str:
        return f"Build the roster for {long_day(self.start)} – {long_day(self.end)}"

    def intro(self) -> Iterable[Widget]:
        yield Static(
            Text(
                f"Published shifts and hand edits ({self.fixed} cell{'s' if self.fixed != 1 else ''} "
                "marked + or published) are "
                f"always kept. 'Whole period' may replace the {self.drafts} other draft shifts; "
                "'Only empty cells' keeps every cell that holds a shift and fills the rest."
                + (
                    f" {self.pinned} pinned day{'s' if self.pinned != 1 else ''} off (·+) "
                    + ("stay" if self.pinned != 1 else "stays")
                    + " empty."
                    if self.pinned
                    else ""
                )
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
    out.append(r.words + "\n")
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
            out.append("No roster satisfies every rule (this week was left as it was):\n")
            for m in w.conflicts:
                out.append(f"  ✗ {m}\n")
        elif w.status != SolveStatus.OPTIMAL:
            out.append(w.words + "\n")  # time ran out, or stopped
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
