"""Ask before a destructive or money-moving action, showing what will happen."""

from __future__ import annotations

import time

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape,n", "no", "Cancel", id="confirm.no", tooltip="Do nothing"),
        Binding("y", "yes", "Yes", id="confirm.yes", tooltip="Go ahead"),
    ]

    def __init__(self, title: str, what_happens: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.what_happens = what_happens
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(Text(self.what_happens))
            with Horizontal(classes="buttons"):
                yield Button("Cancel (n)", id="no", compact=True)
                yield Button(f"{self.yes_label} (y)", variant="error", id="yes", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        # Keys typed ahead, before the question was on screen ("dry" typed into the wrong place:
        # d opened this, y would confirm it), must not answer it. Keys typed fast reach this
        # dialog in order once it is up (tui.keyqueue), so what counts is when the key was typed:
        # a y pressed before the first paint is not an answer.
        self._shown_at: float | None = None
        self.call_after_refresh(self._arm)

    def _arm(self) -> None:
        self._shown_at = time.monotonic()  # Textual stamps events with time.monotonic too

    def on_key(self, event: events.Key) -> None:
        if event.key == "y" and (self._shown_at is None or event.time < self._shown_at):
            event.stop()
            event.prevent_default()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
