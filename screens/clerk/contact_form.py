"""Log a contact attempt (call, letter, e-mail, SMS, visit) with an optional promise to pay.

Opened with one key from the client account or the collections worklist; the usual case (an
outbound phone call) is preset, so logging a call is: the key, choose the outcome, ctrl+s. A
promise needs both an amount and a date from today on; with one the outcome is recorded as
"promise to pay". Attempts are never edited: a wrong one is followed by a correcting note.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pendulum
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Button, Select, Static

from billing import contacts
from billing.contacts import ContactView, PromiseState
from db.enums import Channel, ContactDirection, ContactOutcome
from db.errors import ValidationError
from db.money import fmt_money
from db.timeutil import office_today
from screens.clerk.client_search import ListTable
from screens.clerk.payment_widgets import parse_amount
from screens.common.collections_bits import NOTE_MAX, words
from tui.widgets.base import DbModal
from tui.widgets.forms import ChoiceField, Field, Form, ParseError, parse_date

CHANNELS = [
    ("Phone call", Channel.PHONE.value),
    ("Letter", Channel.LETTER.value),
    ("E-mail", Channel.EMAIL.value),
    ("SMS", Channel.SMS.value),
    ("Visit", Channel.VISIT.value),
]
DIRECTIONS = [
    ("Outbound (we contacted them)", ContactDirection.OUTBOUND.value),
    ("Inbound (they contacted us)", ContactDirection.INBOUND.value),
]
OUTCOMES = [
    ("Reached", ContactOutcome.REACHED.value),
    ("Promise to pay", ContactOutcome.PROMISE_TO_PAY.value),
    ("No answer", ContactOutcome.NO_ANSWER.value),
    ("Left a message", ContactOutcome.LEFT_MESSAGE.value),
    ("Refused to pay", ContactOutcome.REFUSED.value),
    ("Wrong number", ContactOutcome.WRONG_NUMBER.value),
    ("Sent (letter, e-mail, SMS)", ContactOutcome.SENT.value),
]
CHANNEL_WORD = {
    Channel.PHONE: "call",
    Channel.LETTER: "letter",
    Channel.EMAIL: "e-mail",
    Channel.SMS: "SMS",
    Channel.VISIT: "visit",
}


def promise_date_parser(today: dt.date) -> Any:
    def parse(text: str) -> dt.date:
        if len(text.strip()) > 10:
            raise ParseError(f"{text.strip()[:20]!r} is not a date (YYYY-MM-DD)")
        day = parse_date(text)
        if day < today:
            raise ParseError(f"is in the past (today is {today.isoformat()})")
        return day

    return parse


class ContactLogTable(ListTable, inherit_bindings=False):
    """The account's contact log: paged, newest first, no filter (there is nothing to type)."""

    BINDINGS = [
        Binding("pagedown", "next_page", "Next page", id="list.next_page", tooltip="Fetch the next page"),
        Binding("pageup", "prev_page", "Prev page", id="list.prev_page", tooltip="Back to the previous page"),
        Binding("y", "copy_row", "Copy", id="list.copy", tooltip="Copy the row to the clipboard (OSC 52)"),
    ]


def contact_cells(v: ContactView, tz: str) -> list[Any]:
    """A row of the account's contact log."""
    promise = ""
    if v.promise_amount is not None and v.promise_date is not None:
        state = v.promise_state.value if v.promise_state is not None else ""
        if v.promise_state == PromiseState.BROKEN:
            state = state.upper()  # in words, not only in bold
        promise = f"{fmt_money(v.promise_amount)} {v.promise_date.strftime('%m-%d')} {state}"
    return [
        pendulum.instance(v.at).in_timezone(tz).format("YYYY-MM-DD HH:mm"),
        CHANNEL_WORD[v.channel],
        "out" if v.direction == ContactDirection.OUTBOUND else "in",
        words(v.outcome.value),
        Text(promise, style="bold" if v.promise_state == PromiseState.BROKEN else ""),
        v.made_by_login,
        Text(v.notes[:200]),
    ]


def logged_text(v: ContactView) -> str:
    text = f"Logged: {v.direction.value} {CHANNEL_WORD[v.channel]}"
    if v.promise_amount is not None and v.promise_date is not None:
        return f"{text}, promise to pay {fmt_money(v.promise_amount)} by {v.promise_date.isoformat()}"
    return f"{text}, {words(v.outcome.value)}"


class ContactDialog(DbModal[ContactView | None]):
    HELP_TITLE = "Log a contact"
    HELP = (
        "Every attempt to reach the client is logged: channel, direction, outcome, notes. A promise "
        "to pay needs an amount and a date (today or later); the account shows whether it is kept. "
        "Ctrl+S saves, Esc closes without saving."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="contact_form.save", tooltip="Log the contact"),
        Binding("escape", "cancel", "Cancel", id="contact_form.cancel", tooltip="Close without saving"),
    ]

    def __init__(self, client_id: int, client_label: str, *, owed: Decimal | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_label = client_label
        self.owed = owed
        self._saving = False

    def compose(self) -> ComposeResult:
        today = office_today(self.cd_app.tz)
        with Vertical(classes="dialog -wide", id="contact-dialog"):
            yield Static(
                Text(f"Log a contact with {self.client_label}", style="bold"), classes="dialog-title"
            )
            if self.owed is not None:
                yield Static(Text(f"Past due now: {fmt_money(self.owed)}"))
            yield Static("", id="form-problem", classes="form-problem")
            with VerticalScroll(), Form():
                yield ChoiceField("channel", "Channel", CHANNELS, value=Channel.PHONE.value, required=True)
                yield ChoiceField(
                    "direction", "Direction", DIRECTIONS, value=ContactDirection.OUTBOUND.value, required=True
                )
                yield ChoiceField("outcome", "Outcome", OUTCOMES, required=True)
                yield Field(
                    "notes", "Notes", max_length=NOTE_MAX, placeholder="who you spoke to, what was said"
                )
                yield Field(
                    "promise_amount",
                    "Promise: amount",
                    parse=parse_amount,
                    placeholder="e.g. 50.00 (optional)",
                )
                yield Field(
                    "promise_date",
                    "Promise: pay by",
                    parse=promise_date_parser(today),
                    placeholder="YYYY-MM-DD (with an amount)",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)

    def on_mount(self) -> None:
        self.query_one("#input-outcome", Select).focus()

    @property
    def form(self) -> Form:
        return self.query_one(Form)

    def _problem(self, message: str | None) -> None:
        box = self.query_one("#form-problem", Static)
        box.update(Text(message or "", style="bold"))
        box.display = bool(message)

    def _bad(self) -> None:
        self._problem("Some fields need fixing (marked below)")
        self.notify("Some fields need fixing", severity="error")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._saving:
            return  # a second ctrl+s while the first is on its way
        v = self.form.collect()
        if v is None:
            self._bad()
            return
        amount, day = v["promise_amount"], v["promise_date"]
        if (amount is None) != (day is None):
            missing = "promise_date" if day is None else "promise_amount"
            self.form.show_errors({missing: "is needed too: a promise has an amount and a date"})
            self._bad()
            return
        self._problem(None)
        cid = self.client_id

        def save(s: Any) -> ContactView:
            return contacts.log_contact(
                self.actor,
                s,
                client_id=cid,
                channel=v["channel"],
                direction=v["direction"],
                outcome=v["outcome"],
                notes=v["notes"],
                promise_amount=amount,
                promise_date=day,
            )

        def failed(exc: BaseException) -> None:
            self._saving = False
            if isinstance(exc, ValidationError) and self.form.show_errors(exc.fields):
                self._bad()
            else:
                self.cd_app.show_error(exc)

        def done(view: ContactView) -> None:
            self.notify(escape(logged_text(view)))
            self.dismiss(view)

        self._saving = True
        self.db_call(save, done, write=True, on_error=failed, group="save")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
