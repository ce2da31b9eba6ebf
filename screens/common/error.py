"""An unexpected error: what happened, in one line. Never a crash, never a traceback on screen
(it may hold client data and means nothing to a clerk); ``y`` copies it for support."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ErrorDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="error.close", tooltip="Close this message"),
        Binding("y", "copy", "Copy details", id="error.copy", tooltip="Copy the details (OSC 52)"),
    ]

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__()
        self.message = message
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Static(Text("Something went wrong", style="bold"), classes="dialog-title")
            yield Static(Text(self.message))
            yield Static(
                Text(
                    "Nothing was saved by the action that failed. Press y to copy the technical "
                    "details for whoever supports ClerkDesk (they are also in the app's log).",
                    style="italic",
                )
            )
            with Horizontal(classes="buttons"):
                yield Button("Close", variant="primary", id="close", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(f"{self.message}\n\n{self.detail}")
        self.app.notify("Copied the error details")
