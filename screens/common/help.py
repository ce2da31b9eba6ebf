"""Help (``?`` / F1): the keys of the screen in front, and what the focused widget is for."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "close", "Close", id="help.close", tooltip="Close help")]

    def __init__(self, target: Screen[object], focused: Widget | None) -> None:
        super().__init__()
        self.target = target
        self.focused_widget = focused

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", no_wrap=True)
        table.add_column("Action")
        table.add_column("What it does", style="dim")
        seen: set[tuple[str, str]] = set()
        for active in self.target.active_bindings.values():
            b = active.binding
            if not b.description:
                continue
            ident = (b.action, b.description)
            if ident in seen:
                continue
            seen.add(ident)
            table.add_row(self.app.get_key_display(b), b.description, b.tooltip or "")
        title = getattr(self.target, "HELP_TITLE", None) or type(self.target).__name__
        with Vertical(classes="dialog -wide"):
            yield Static(Text(f"Keys: {title}", style="bold"), classes="dialog-title")
            about = getattr(self.target, "HELP", None)
            if about:
                yield Static(Text(about))
            if self.focused_widget is not None and self.focused_widget.tooltip:
                yield Static(Text(f"In focus: {self.focused_widget.tooltip}", style="italic"))
            with VerticalScroll():
                yield Static(table)
            yield Static(
                Text("Every action is also in the command palette (ctrl+p). Esc closes.", style="dim")
            )

    def action_close(self) -> None:
        self.dismiss()
