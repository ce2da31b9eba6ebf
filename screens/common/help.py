"""Help (``?`` / F1): the keys of the screen in front, and what the focused widget is for."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close", id="help.close", tooltip="Close help")]

    def __init__(self, target: Screen[object], focused: Widget | None) -> None:
        super().__init__()
        self.target = target
        self.focused_widget = focused

    def compose(self) -> ComposeResult:
        title = getattr(self.target, "HELP_TITLE", None) or type(self.target).__name__
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Keys: {title}", style="bold"), classes="dialog-title")
            about = getattr(self.target, "HELP", None)
            if about:
                yield Static(Text(about))
            if self.focused_widget is not None and self.focused_widget.tooltip:
                yield Static(Text(f"In focus: {self.focused_widget.tooltip}", style="italic"))
            table: DataTable[str] = DataTable(cursor_type="row", id="keys")
            yield table
            yield Static(
                Text("Every action is also in the command palette (ctrl+p). Esc closes.", style="dim")
            )

    def on_mount(self) -> None:
        table = self.query_one("#keys", DataTable)
        table.add_columns("Key", "Action", "What it does")
        seen: set[tuple[str, str]] = set()

        def rank(active: ActiveBinding) -> int:
            # The screen's own keys first, then the app's (go to, help, quit), then generic
            # widget keys (scrolling, focus) that every screen has.
            b = active.binding
            if not b.id:  # Textual's own (copy, scroll, ...): every ClerkDesk key has an id
                return 2
            if active.node is self.target and not b.id.startswith("focus."):
                return 0
            return 1 if active.node is self.app else 2

        for active in sorted(self.target.active_bindings.values(), key=rank):
            b = active.binding
            ident = (b.action, b.description)
            if not b.description or ident in seen:
                continue
            seen.add(ident)
            table.add_row(self.app.get_key_display(b), b.description, b.tooltip or "")
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
