"""Dialogs of the assignment screen: a plan's preview (auto-assign, rebalance) and the clerk picker."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, OptionList, Static
from textual.widgets.option_list import Option

from scheduling.work_plan import ClerkLoad, PlanPreview
from screens.common.work_text import kind_word
from tui.widgets.loadbar import load_bar

PREVIEW_ROWS = 200  # moves listed in the preview; the rest are counted


def plan_summary(p: PlanPreview) -> Text:
    """One paragraph: what moves, what stays without a clerk, owners kept, manual kept."""
    out = Text()
    n = len(p.moves)
    out.append(f"{n} item{'s' if n != 1 else ''} change clerk", style="bold")
    out.append(f" · {len(p.unassigned)} stay unassigned")
    if p.kind == "auto":
        out.append(f" · owners keep {p.owner_kept_pct:.0f}% of their accounts")
        out.append(f" · {p.kept_manual} manual assignment{'s' if p.kept_manual != 1 else ''} kept")
    return out


class PlanPreviewDialog(ModalScreen[bool]):
    """What an auto-assign or rebalance would do: loads before → after, the moves, the items left
    over with the reason. Nothing is written until the supervisor accepts."""

    BINDINGS = [
        Binding("enter,y", "accept", "Accept", id="plan_preview.accept", tooltip="Write this plan"),
        Binding("escape,d", "discard", "Discard", id="plan_preview.discard", tooltip="Change nothing"),
    ]

    def __init__(self, title: str, preview: PlanPreview) -> None:
        super().__init__()
        self.title_text = title
        self.preview = preview

    def compose(self) -> ComposeResult:
        p = self.preview
        with Vertical(classes="dialog -wide", id="plan-dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(plan_summary(p), id="plan-summary")
            with VerticalScroll(id="plan-scroll"):
                yield Static(Text("Load before → after (minutes of capacity)", style="bold"))
                yield DataTable(id="plan-loads", cursor_type="none", zebra_stripes=True)
                yield Static(Text("What moves where", style="bold"))
                yield DataTable(id="plan-moves", cursor_type="none", zebra_stripes=True)
                yield Static("", id="plan-more", classes="muted")
                yield Static("", id="plan-unassigned")
            with Horizontal(classes="buttons"):
                yield Button("Discard (esc)", id="discard", compact=True)
                yield Button("Accept (enter)", id="accept", variant="primary", compact=True)

    def on_mount(self) -> None:
        p = self.preview
        loads = self.query_one("#plan-loads", DataTable)
        for label, width in (("Clerk", 10), ("Before", 22), ("After", 26)):
            loads.add_column(label, width=width)
        for lc in p.loads:
            changed = lc.before_minutes != lc.after_minutes
            loads.add_row(
                Text(lc.login, style="bold" if changed else ""),
                load_bar(lc.before_minutes, lc.capacity_minutes, width=6),
                load_bar(lc.after_minutes, lc.capacity_minutes, width=6),
            )
        moves = self.query_one("#plan-moves", DataTable)
        for label, width in (
            ("Pri", 4),
            ("Kind", 7),
            ("Client", 22),
            ("Min", 3),
            ("From → to", 22),
            ("Needs", 18),
        ):
            moves.add_column(label, width=width)
        for m in p.moves[:PREVIEW_ROWS]:
            it = m.item
            moves.add_row(
                str(it.priority),
                kind_word(it.kind.value),
                Text(it.client_name),
                str(it.effort_minutes),
                Text(f"{m.from_login or '—'} → {m.to_login or 'unassigned'}"),
                Text(", ".join(it.needs) or "—"),
            )
        more = len(p.moves) - PREVIEW_ROWS
        self.query_one("#plan-more", Static).update(f"… and {more} more" if more > 0 else "")
        moves.display = bool(p.moves)
        left = Text()
        if p.unassigned:
            left.append(f"Left without a clerk ({len(p.unassigned)}):\n", style="bold")
            for u in p.unassigned[:PREVIEW_ROWS]:
                left.append(f"  {u.item.priority:>4} {u.item.client_name}: ")
                left.append(u.reason, style="italic")
                left.append("\n")
        elif not p.moves:
            left.append("Nothing to change: every item is where this plan would put it.")
        self.query_one("#plan-unassigned", Static).update(left)
        self.query_one("#accept", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")

    def action_accept(self) -> None:
        self.dismiss(True)

    def action_discard(self) -> None:
        self.dismiss(False)


class ClerkPicker(ModalScreen[ClerkLoad | None]):
    """Choose a clerk: arrows and Enter, the clerk's digit or letter, or a click."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="clerk_picker.close", tooltip="Choose nobody")]

    def __init__(self, title: str, clerks: list[tuple[str, ClerkLoad]]) -> None:
        super().__init__()
        self.title_text = title
        self.clerks = clerks  # (the key shown on the assignment screen, clerk)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="clerk-picker"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            options = []
            for key, c in self.clerks:
                label = Text.assemble(
                    (f" {key or ' '} ", "bold reverse"),
                    f" {c.login:<10} ",
                    load_bar(c.load_minutes, c.capacity_minutes, width=6),
                    (f"  {c.state}" if not c.available else "", "italic"),
                )
                options.append(Option(label, id=str(c.user_id), disabled=not c.available))
            yield OptionList(*options, id="clerk-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        for key, c in self.clerks:
            if key and event.character == key and c.available:
                event.stop()
                self.dismiss(c)
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(c for _, c in self.clerks if str(c.user_id) == event.option.id))

    def action_close(self) -> None:
        self.dismiss(None)
