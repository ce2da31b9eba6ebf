"""The go-to menu (``g``): one letter opens a screen this role may use."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.nav import NavEntry


class GotoDialog(ModalScreen[NavEntry | None]):
    BINDINGS = [Binding("escape", "close", "Close", id="goto.close", tooltip="Stay here")]

    def __init__(self, entries: list[NavEntry]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield OptionList(
                *[
                    Option(
                        Text.assemble((f" {e.key} ", "bold reverse"), f"  {e.title}  ", (e.help, "dim")),
                        id=e.key,
                    )
                    for e in self.entries
                ]
            )

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Go to (letter or Enter)"
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        for e in self.entries:
            if event.character == e.key:
                event.stop()
                self.dismiss(e)
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(e for e in self.entries if e.key == event.option.id))

    def action_close(self) -> None:
        self.dismiss(None)
