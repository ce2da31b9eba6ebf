"""How a work item ended, in one key (two with a reason): the clerk's finish dialog.

``d`` done, ``n`` no answer, ``p`` promise to pay, ``e`` escalated, ``s`` skipped (then the
reason, Enter). The letters act only while the focus is not in the reason box, so typing a
reason never picks another outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from db.enums import WorkOutcome

# (key, outcome, words); the order is the order on screen.
OUTCOMES: tuple[tuple[str, WorkOutcome, str], ...] = (
    ("d", WorkOutcome.DONE, "Done"),
    ("n", WorkOutcome.NO_ANSWER, "No answer"),
    ("p", WorkOutcome.PROMISE_TO_PAY, "Promise to pay"),
    ("e", WorkOutcome.ESCALATED, "Escalated"),
    ("s", WorkOutcome.SKIPPED, "Skipped (reason)"),
)
OUTCOME_WORDS = {o: w.removesuffix(" (reason)") for _, o, w in OUTCOMES}
REASON_MAX = 500


@dataclass(frozen=True)
class Finish:
    outcome: WorkOutcome
    note: str = ""


class OutcomeDialog(ModalScreen[Finish | None]):
    BINDINGS = [
        *[
            Binding(
                key, f"pick('{o.value}')", words, id=f"outcome.{o.value}", tooltip=f"Finish: {words.lower()}"
            )
            for key, o, words in OUTCOMES
        ],
        Binding("escape", "cancel", "Cancel", id="outcome.cancel", tooltip="Not finished yet"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="outcome-dialog"):
            yield Static(Text("Finish this item", style="bold"), classes="dialog-title")
            yield Static(Text(self.what), id="outcome-what")
            with Vertical(id="outcome-keys"):
                for key, o, words in OUTCOMES:  # the mouse way; the letters are the keyboard way
                    yield Button(f"{key}  {words}", id=f"outcome-{o.value}", compact=True)
            yield Input(
                placeholder="why it was skipped (required), Enter saves",
                max_length=REASON_MAX,
                id="outcome-reason",
            )
            yield Static("", id="outcome-problem", classes="form-problem")
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#outcome-reason", Input).display = False
        self.query_one("#cancel", Button).focus()

    def _typing(self) -> bool:
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick" and self._typing():
            return False  # the letter goes into the reason box
        return True

    def action_pick(self, value: str) -> None:
        outcome = WorkOutcome(value)
        if outcome is WorkOutcome.SKIPPED:
            box = self.query_one("#outcome-reason", Input)
            box.display = True
            box.focus()
            return
        self.dismiss(Finish(outcome))

    @on(Input.Submitted, "#outcome-reason")
    def _reason(self, event: Input.Submitted) -> None:
        event.stop()
        reason = event.value.strip()
        problem = self.query_one("#outcome-problem", Static)
        if not reason:
            problem.update(Text("A skipped item needs a reason: type it, then Enter."))
            problem.display = True
            return
        self.dismiss(Finish(WorkOutcome.SKIPPED, reason))

    @on(Button.Pressed, "#outcome-keys Button")
    def _picked(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_pick((event.button.id or "").removeprefix("outcome-"))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self._typing() and self.query_one("#outcome-reason", Input).value:
            # Escape in a half-typed reason goes back to the choice, keeping nothing half-done.
            box = self.query_one("#outcome-reason", Input)
            box.value = ""
            box.display = False
            self.query_one("#cancel", Button).focus()
            return
        self.dismiss(None)
