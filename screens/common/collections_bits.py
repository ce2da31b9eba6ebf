"""Small pieces shared by the collections screens (worklist, aging, dunning, agency, disputes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Footer, Static

from db.money import fmt_money
from db.rights import Action
from tui.widgets.base import DbMixin
from tui.widgets.forms import ParseError, parse_date
from tui.widgets.header import OfficeHeader

# Typed text is capped: a note is a note, not a document.
NOTE_MAX = 2000
REASON_MAX = 1000


def money_cell(value: Decimal | None, *, bold: bool = False) -> Text:
    """A right-aligned amount ("" for none)."""
    if value is None:
        return Text("")
    return Text(fmt_money(value), justify="right", style="bold" if bold else "")


def n_of(count: int, noun: str, plural: str | None = None) -> str:
    """``1 account``, ``2 accounts``."""
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


def words(value: str) -> str:
    """An enum value for a person: ``promise_to_pay`` → ``promise to pay``."""
    return value.replace("_", " ")


def cut(text: str, width: int) -> Text:
    return Text(text if len(text) <= width else text[: width - 1] + "…")


def as_of_parser(today: dt.date) -> Callable[[str], dt.date]:
    """An "as of" day: a real date, not in the future (later money is not known yet)."""

    def parse(text: str) -> dt.date:
        if len(text.strip()) > 10:
            raise ParseError(f"{text.strip()[:20]!r} is not a date (YYYY-MM-DD)")
        day = parse_date(text)
        if day > today:
            raise ParseError(f"is in the future (today is {today.isoformat()})")
        return day

    return parse


def refused(screen: Screen[Any], action: Action, what: str) -> bool:
    """On mount of a supervisor's screen: True (and the screen shows only the refusal) when the
    person may not use it. Reached only by a direct push: the menus do not offer it to them."""
    actor = screen.app.actor  # type: ignore[attr-defined]  # Screen.app is App; ClerkDesk's app carries the actor
    if actor.can(action):
        return False
    message = f"Only a supervisor can {what}."
    screen.notify(message, title="Supervisor needed", severity="error", timeout=10)
    for child in list(screen.children):
        if not isinstance(child, OfficeHeader | Footer):
            child.remove()
    screen.mount(Static(Text(f"{message} Esc goes back.", style="bold"), classes="refusal"))
    return True


def allowed(screen: DbMixin, action: Action, what: str) -> bool:
    """Check a right before asking for input: a refusal is shown first, nothing is typed in vain.

    The services refuse anyway; this is so a person reads the rule before filling a form.
    """
    if screen.actor.can(action):
        return True
    screen.notify(  # type: ignore[attr-defined]  # typed as DbMixin for .actor; the screen it is mixed into has notify
        f"Only a supervisor can {what}", title="Supervisor needed", severity="error", timeout=10
    )
    return False
