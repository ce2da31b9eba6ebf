"""Pieces shared by the payment, batch and plan screens: typed amounts, type-ahead look-ups.

``Lookup`` is a label, an input and a short list of matches under it: the clerk types an
account number or a name, Up/Down move through the matches without leaving the input, Enter
takes the highlighted one (or the first one as soon as it arrives). The search runs in a
thread worker (clients come from the database, keyset-paged, a handful at a time) or, for a
list already in memory (payers), right away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from billing import payments
from billing.clients import ClientRow, search_clients
from billing.payment_views import PayerChoice
from db.errors import ValidationError
from db.money import fmt_money
from db.rights import Actor
from tui.widgets.forms import FieldBase, FieldInput, ParseError, parse_date, shown

MATCHES_SHOWN = 6


# --------------------------------------------------------------------------- typed input


def parse_amount(text: str) -> Decimal:
    """An amount as typed: more than zero, at most two decimals, no junk (the service's rules)."""
    try:
        return payments.parse_amount(text)
    except ValidationError as e:
        # The service repeats what was typed; a pasted page is quoted by its first characters.
        t = text.strip()
        why = e.fields.get("amount", str(e)).replace(repr(t), shown(t)).replace(t, shown(t)[1:-1])
        raise ParseError(why) from None


def received_date_parser(today: dt.date) -> Callable[[str], dt.date]:
    def parse(text: str) -> dt.date:
        day = parse_date(text)
        if day > today:
            raise ParseError(f"is in the future (today is {today.isoformat()})")
        return day

    return parse


def money(value: Decimal, symbol: str = "$") -> str:
    return fmt_money(value, symbol)


def status_words(value: str) -> str:
    return value.replace("_", " ")


# --------------------------------------------------------------------------- look-up


@dataclass(frozen=True)
class Match:
    key: Any  # client id or payer id
    label: Text  # one line in the list
    chosen: str  # what the input shows once this match is taken
    name: str = ""  # how a sentence names the party ("Doe, Jane (A00012)"); default: ``chosen``

    @property
    def in_words(self) -> str:
        return self.name or self.chosen


Search = Callable[[Any, str], Sequence[Match]]  # (session, or None for in-memory; typed text)


def client_search(actor: Actor) -> Search:
    """Clients by account number, name, phone or member id (``billing.clients.search_clients``)."""

    def search(session: Any, text: str) -> Sequence[Match]:
        if not text.strip():
            return []
        page = search_clients(actor, session, text, limit=MATCHES_SHOWN)
        return [client_match(r) for r in page.rows]

    return search


def client_match(r: ClientRow) -> Match:
    label = Text.assemble(
        (r.account_number, "bold"),
        "  ",
        r.display_name,
        (f"  {r.date_of_birth.isoformat()}" if r.date_of_birth else "", "dim"),
        (f"  {status_words(r.status.value)}" if r.status.value != "active" else "", "italic"),
        (f"  {r.matched}" if r.matched else "", "dim"),
    )
    return Match(
        r.id, label, f"{r.account_number}  {r.display_name}", f"{r.display_name} ({r.account_number})"
    )


def payer_search(payers: Sequence[PayerChoice]) -> Search:
    """Payers whose name contains every typed word (an office has dozens: kept in memory)."""

    def search(_session: Any, text: str) -> Sequence[Match]:
        words = text.casefold().split()
        found = [p for p in payers if all(w in p.name.casefold() for w in words)]
        return [
            Match(p.id, Text.assemble((p.name, "bold"), (f"  {p.kind}", "dim")), p.name)
            for p in found[:MATCHES_SHOWN]
        ]

    return search


class LookupMatches(OptionList, can_focus=False):
    """Never takes focus: the clerk keeps typing while Up/Down move the highlight."""


class Lookup(FieldBase):
    """A field of its form: its value is the key of the match taken (``Form.collect`` asks it)."""

    DEFAULT_CSS = """
    Lookup { height: auto; }
    Lookup > Horizontal { height: 1; }
    Lookup Label { width: 30; color: $text-muted; }
    Lookup Input { width: 1fr; }
    Lookup > LookupMatches { display: none; height: auto; max-height: 8; margin-left: 30; border: none; }
    Lookup.-open > LookupMatches { display: block; }
    Lookup > LookupMatches > .option-list--option-highlighted { text-style: bold reverse; }
    Lookup > .lookup-hint { height: auto; padding-left: 30; color: $text-muted; display: none; }
    Lookup.-hint > .lookup-hint { display: block; }
    Lookup > .field-error { color: $error; height: auto; padding-left: 30; display: none; }
    Lookup.-invalid > .field-error { display: block; }
    Lookup.-invalid Input { text-style: reverse; }
    """

    BINDINGS = [
        Binding(
            "down", "move(1)", "Next match", show=False, id="lookup.next", tooltip="Highlight the next match"
        ),
        Binding(
            "up",
            "move(-1)",
            "Previous match",
            show=False,
            id="lookup.prev",
            tooltip="Highlight the previous match",
        ),
        Binding("escape", "close_matches", "Hide matches", show=False, id="lookup.close"),
    ]

    class Picked(Message):
        """A match was taken (``match``) or the clerk changed the text after one (``None``)."""

        def __init__(self, lookup: Lookup, match: Match | None) -> None:
            super().__init__()
            self.lookup = lookup
            self.match = match

        @property
        def control(self) -> Lookup:
            return self.lookup

    def __init__(
        self,
        name: str,
        label: str,
        search: Search,
        *,
        in_memory: bool = False,
        placeholder: str = "",
        required: bool = False,
        how: str = "type a name and take a match",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id or f"lookup-{name}")
        self.how = how  # said when nothing was taken: "is required: <how>"
        self.field_name = name
        self.label = label
        self.search = search
        self.in_memory = in_memory
        self.placeholder = placeholder
        self.required = required
        self.match: Match | None = None
        self._matches: list[Match] = []
        self._shown_text: str | None = None  # the text we put in the input ourselves
        self._timer: Timer | None = None
        self._generation = 0
        self._pick_when_loaded = False
        self._searching = False

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(Text(self.label + (" *" if self.required else "")), id=f"label-{self.field_name}")
            yield FieldInput(placeholder=self.placeholder, id=f"input-{self.field_name}", compact=True)
        yield LookupMatches()
        yield Static("", classes="lookup-hint")
        yield Static("", classes="field-error")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def set_label(self, label: str, required: bool) -> None:
        self.label = label
        self.required = required
        self.query_one(Label).update(Text(label + (" *" if required else "")))

    def focus(self, scroll_visible: bool = True) -> Lookup:
        self.input.focus(scroll_visible)
        return self

    def focus_target(self) -> Input:
        return self.input

    def value(self) -> Any:
        if self.match is not None:
            return self.match.key
        if self.input.value.strip():
            if self.required:
                raise ParseError(f"is required: {self.how}")
            raise ParseError("was typed but not taken: take a match, or clear it")
        if self.required:
            raise ParseError(f"is required: {self.how}")
        return None

    # ------------------------------------------------------------------ value

    def pick(self, match: Match | None, *, announce: bool = True) -> None:
        """Take a match (or clear) as if chosen; the input shows it."""
        self.match = match
        text = match.chosen if match is not None else ""
        if self.input.value != text:
            self._shown_text = text
            self.input.value = text
        self._close()
        self.set_error(None)
        if announce:
            self.post_message(self.Picked(self, match))

    def set_error(self, message: str | None) -> None:
        err = self.query_one(".field-error", Static)
        self.set_class(bool(message), "-invalid")
        err.update(Text(f"{self.label} {message}") if message else "")

    def _hint(self, text: str) -> None:
        self.set_class(bool(text), "-hint")
        self.query_one(".lookup-hint", Static).update(Text(text))

    # ------------------------------------------------------------------ searching

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._shown_text is not None and event.value == self._shown_text:
            self._shown_text = None
            return
        self._shown_text = None
        self.set_error(None)  # editing a marked look-up is fixing it
        if self.match is not None:
            self.match = None
            self.post_message(self.Picked(self, None))
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        if not text.strip():
            self._close()
            self._hint("")
            return
        if self.in_memory:
            self._show(self.search(None, text), self._generation)
        else:
            self._searching = True
            self._timer = self.set_timer(0.2, lambda: self._start(text))

    def _start(self, text: str) -> None:
        self._generation += 1
        self._run(text, self._generation)

    @work(thread=True, exclusive=True, group="lookup", exit_on_error=False)
    def _run(self, text: str, generation: int) -> None:
        try:
            found = self.app.database.read(lambda s: self.search(s, text))  # type: ignore[attr-defined]  # self.app is App; ClerkDesk's app has database
        except Exception as exc:  # a message for the clerk, never a crash
            self.app.call_from_thread(self.app.show_error, exc)  # type: ignore[attr-defined]  # self.app is App; ClerkDesk's app has show_error
            return
        self.app.call_from_thread(self._show, found, generation)

    def _show(self, found: Sequence[Match], generation: int) -> None:
        if generation != self._generation:
            return  # the clerk typed on; a newer search is coming
        self._searching = False
        self._matches = list(found)
        options = self.query_one(LookupMatches)
        options.clear_options()
        if not self._matches:
            self._close()
            self._hint("no match: type an account number (e.g. A00012) or a last name")
            self._pick_when_loaded = False
            return
        options.add_options([Option(self._prompt(i, 0)) for i in range(len(self._matches))])
        options.highlighted = 0
        self.add_class("-open")
        more = " (more: keep typing)" if len(self._matches) >= MATCHES_SHOWN else ""
        self._hint(f"↑↓ choose, Enter takes it{more}")
        if self._pick_when_loaded:
            self._pick_when_loaded = False
            self._take(0)

    def _close(self) -> None:
        self.remove_class("-open")
        self._hint("")

    # ------------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "close_matches"):
            return self.has_class("-open")
        return True

    def action_move(self, step: int) -> None:
        options = self.query_one(LookupMatches)
        if not self._matches:
            return
        current = options.highlighted if options.highlighted is not None else -1
        new = max(0, min(len(self._matches) - 1, current + step))
        for i in {current, new} - {-1}:
            options.replace_option_prompt_at_index(i, self._prompt(i, new))
        options.highlighted = new

    def _prompt(self, index: int, highlighted: int) -> Text:
        """A match in the list; the highlighted one carries a ▶, so it shows without colour too."""
        mark = "▶ " if index == highlighted else "  "
        return Text.assemble((mark, "bold"), self._matches[index].label)

    def action_close_matches(self) -> None:
        self._close()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.has_class("-open") and self._matches:
            event.stop()
            highlighted = self.query_one(LookupMatches).highlighted
            self._take(highlighted if highlighted is not None else 0)
        elif self.match is None and self._searching:
            event.stop()
            self._pick_when_loaded = True
        elif self.match is not None:
            event.stop()
            self.screen.focus_next()

    def _take(self, index: int) -> None:
        if 0 <= index < len(self._matches):
            self.pick(self._matches[index])
            self.screen.focus_next()
